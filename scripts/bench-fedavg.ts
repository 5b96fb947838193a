// fedavg: the digits example (examples/digits) trained federated, `gridx train train_numpy.py
// --rounds 5 --shards 4`, on a mesh of three `gridx start` processes on loopback, each an
// executor on the real engine, against the baseline in the same run and mesh: central.py, the
// same model trained on all the data in one job (one container), for as many epochs as the
// federated run gives each shard. Both wall times run from the submitting command's start
// (which uploads the data) to the job's end as the API reports it, polled every POLL_MS; the
// central job's own container time is reported beside it. Accuracy is on the held-out test
// split: central.py's own, and evaluate.py's for the federated run's final model.
//
// `npm run bench -- fedavg --json`.
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { JobView, ParentView } from '../protocol/index.ts'
import { MeshCluster } from './lib/mesh-cluster.ts'

const EXAMPLE = new URL('../examples/digits/', import.meta.url).pathname
const ROUNDS = 5
const SHARDS = 4
/** Between two polls of a job's state over the API: small against a job's seconds. */
const POLL_MS = 100
/** A bound on each wait, far above what a loaded 2-core machine needs, so a stuck run ends. */
const JOB_TIMEOUT_MS = 300_000
const TRAINING_TIMEOUT_MS = 1_200_000
/** The same limits for every job of both runs. */
const LIMITS = ['--cpus', '0.5', '--memory', '256']

/** Credits enough to escrow every round's shards, retries and aggregate at their limits (the
 * default grant of 100 covers a few rounds): the mesh's creator sets it. */
const grant = (index: number) => (index === 0 ? ['--join-grant', '1000000'] : [])

const FINAL = ['succeeded', 'failed', 'timed_out', 'cancelled']

interface Run {
  readonly wallMs: number
  readonly accuracy: number
}

function metric(stdout: string, name: string): number {
  for (const line of stdout.split('\n').reverse()) {
    try {
      const parsed = JSON.parse(line) as { metric?: string; value?: number }
      if (parsed.metric === name && typeof parsed.value === 'number') return parsed.value
    } catch {
      // Not a metric line.
    }
  }
  throw new Error(`no ${name} metric in ${stdout}`)
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (performance.now() > deadline) throw new Error(`not done in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

async function gridx<T>(cluster: MeshCluster, args: readonly string[]): Promise<T> {
  const result = await cluster.cli(0, args)
  if (result.code !== 0) throw new Error(`gridx ${args.join(' ')}: ${result.stderr}`)
  return JSON.parse(result.stdout) as T
}

/** Submits a job and waits for its end; returns it and the wall time from the submit. */
async function job(cluster: MeshCluster, args: readonly string[]) {
  const started = performance.now()
  const submitted = await gridx<{ job: JobView }>(cluster, ['submit', ...args, ...LIMITS])
  const id = submitted.job.id
  const view = await until(
    () => cluster.rpc(0, 'job.get', { id }),
    (job: JobView) => FINAL.includes(job.state),
    JOB_TIMEOUT_MS,
  )
  const wallMs = performance.now() - started
  if (view.state !== 'succeeded') throw new Error(`job ${id} ${view.state}: ${view.reason}`)
  return { view, wallMs }
}

async function federated(cluster: MeshCluster, trainCsv: string, work: string) {
  const started = performance.now()
  const args = ['train', join(EXAMPLE, 'train_numpy.py'), '--input', trainCsv]
  const counts = ['--rounds', String(ROUNDS), '--shards', String(SHARDS)]
  const submitted = await gridx<{ parent: ParentView }>(cluster, [...args, ...counts, ...LIMITS])
  const parent = await until(
    () => cluster.rpc(0, 'job.parent', { id: submitted.parent.id }),
    (view: ParentView) => view.state !== 'running',
    TRAINING_TIMEOUT_MS,
  )
  const wallMs = performance.now() - started
  if (parent.state !== 'succeeded') throw new Error(`training ${parent.id}: ${parent.reason}`)
  await gridx(cluster, ['get', parent.id, '-o', join(work, 'model')])
  const evaluation = await job(cluster, [
    join(EXAMPLE, 'evaluate.py'),
    ...['--input', join(work, 'model', 'weights.npz')],
    ...['--input', join(work, 'data', 'test.csv')],
  ])
  const history = parent.training!.history
  return {
    wallMs: Math.round(wallMs),
    accuracy: metric(evaluation.view.result!.stdoutTail, 'accuracy'),
    roundMs: history.map((round) => (round.closedAt ?? 0) - round.openedAt),
    shardAccuracyPerRound: history.map((round) => round.metrics.accuracy ?? null),
    executors: new Set(
      await Promise.all(
        history
          .flatMap((round) => round.shards)
          .map(async (shard) => (await cluster.rpc(0, 'job.get', { id: shard.job })).executor),
      ),
    ).size,
  }
}

export async function benchFedavg(): Promise<object> {
  const cluster = await MeshCluster.create({ peers: 3, executors: true, peerArgs: grant })
  const work = await mkdtemp(join(tmpdir(), 'gridx-bench-fedavg-'))
  try {
    await cluster.startMesh(3)
    const data = await job(cluster, [join(EXAMPLE, 'make-data.py')])
    await gridx(cluster, ['get', data.view.id, '-o', join(work, 'data')])
    const trainCsv = join(work, 'data', 'train.csv')
    const centralRun = await job(cluster, [
      join(EXAMPLE, 'central.py'),
      ...['--input', trainCsv, '--input', join(EXAMPLE, 'train_numpy.py')],
    ])
    const central: Run & { containerMs: number } = {
      wallMs: Math.round(centralRun.wallMs),
      containerMs: centralRun.view.result!.wallMs,
      accuracy: metric(centralRun.view.result!.stdoutTail, 'accuracy'),
    }
    const mesh = await federated(cluster, trainCsv, work)
    return {
      benchmark: 'fedavg',
      machine: { cpus: cpus().length, peers: 3, executors: 3 },
      rounds: ROUNDS,
      shards: SHARDS,
      federated: mesh,
      central,
      wallRatio: Number((mesh.wallMs / central.wallMs).toFixed(2)),
      accuracyGap: Number((central.accuracy - mesh.accuracy).toFixed(4)),
    }
  } finally {
    await cluster.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
    await rm(work, { recursive: true, force: true })
  }
}
