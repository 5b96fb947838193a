// job-overhead: N trivial Python jobs one after another through the whole path (API submit
// over the WebSocket, ledger, scheduler, executor, result pushed back), against the same N run
// directly with dockerode and the same sandbox options. Runs are interleaved, so drift in the
// engine's speed affects both sides alike.
import Docker from 'dockerode'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_RUNTIME_IMAGES, runBare, sandboxOptions } from '../node/executor/index.ts'
import { RpcClient } from '../protocol/index.ts'
import { isFinalJobState, jobSpecSchema } from '../protocol/index.ts'
import type { JobView } from '../protocol/index.ts'
import { summary } from './bench-stats.ts'
import { benchDaemon } from './lib/bench-daemon.ts'

const CODE = 'print(1 + 1)'
const WARMUP_RUNS = 3

export async function benchJobOverhead(options: { jobs: number }): Promise<object> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gridx-bench-'))
  const daemon = benchDaemon(dataDir)
  await daemon.start()
  const client = new RpcClient({ url: daemon.address.url, token: daemon.token })
  const docker = new Docker()
  try {
    await client.connect()
    const waiting = new Map<string, (job: JobView) => void>()
    const early = new Map<string, JobView>()
    await client.subscribe('jobs', {}, (event) => {
      if (!isFinalJobState(event.job.state)) return
      const resolve = waiting.get(event.job.id)
      if (resolve === undefined) early.set(event.job.id, event.job)
      else resolve(event.job)
    })
    const spec = jobSpecSchema.parse({ runtime: 'python', code: CODE })
    const bareOptions = sandboxOptions(spec, {
      image: DEFAULT_RUNTIME_IMAGES.python,
      labels: { 'gridx.managed': 'true', 'gridx.bench': 'baseline' },
    })
    let sequence = 0
    const gridx = async (): Promise<number> => {
      const began = performance.now()
      const { job } = await client.call('job.submit', {
        idempotencyId: `bench-${process.pid}-${++sequence}`,
        spec: { runtime: 'python', code: CODE },
      })
      const done =
        early.get(job.id) ?? (await new Promise<JobView>((resolve) => waiting.set(job.id, resolve)))
      const elapsed = performance.now() - began
      if (done.state !== 'succeeded') throw new Error(`job ${job.id} ${done.state}: ${done.reason}`)
      return elapsed
    }
    const bare = async () => {
      const result = await runBare(docker, bareOptions, CODE)
      if (result.exitCode !== 0) throw new Error(`baseline exited ${result.exitCode}`)
      return result
    }
    for (let i = 0; i < WARMUP_RUNS; i++) {
      await bare()
      await gridx()
    }
    const gridxMs: number[] = []
    const baselineMs: number[] = []
    const baselineExitedMs: number[] = []
    for (let i = 0; i < options.jobs; i++) {
      const result = await bare()
      baselineMs.push(result.wallMs)
      baselineExitedMs.push(result.exitedMs)
      gridxMs.push(await gridx())
    }
    const ours = summary(gridxMs)
    const baseline = summary(baselineMs)
    const exited = summary(baselineExitedMs)
    return {
      benchmark: 'job-overhead',
      jobs: options.jobs,
      code: CODE,
      gridx: ours,
      baseline: {
        ...baseline,
        what: 'dockerode create+attach+start+stdin+wait+remove, same sandbox',
      },
      // The same runs timed to the exit being known, before the removal: Grid-X reports a result
      // before its container is removed, so this is the stricter comparison.
      baselineToExit: { ...exited, what: 'the same baseline runs, create to exit known' },
      ratioP50: Math.round((ours.p50Ms / baseline.p50Ms) * 1000) / 1000,
      ratioP50ToExit: Math.round((ours.p50Ms / exited.p50Ms) * 1000) / 1000,
      overheadP50Ms: Math.round((ours.p50Ms - baseline.p50Ms) * 10) / 10,
    }
  } finally {
    client.close()
    await daemon.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
}
