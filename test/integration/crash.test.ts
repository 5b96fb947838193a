// Crashes and stops of a real `gridx start` process with jobs running in real containers.
import Docker from 'dockerode'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { httpCall, RpcClient } from '../../protocol/client.ts'
import { isFinalJobState } from '../../protocol/index.ts'
import type { JobState, JobView, Method, ParamsInput } from '../../protocol/index.ts'
import { hasEngine } from '../fixtures/engine.ts'
import { startGridxDaemon } from '../../scripts/lib/gridx-process.ts'
import type { StartedDaemon } from '../../scripts/lib/gridx-process.ts'

const docker = new Docker()
const dirs: string[] = []
const daemons: StartedDaemon[] = []

afterEach(async () => {
  for (const daemon of daemons.splice(0)) {
    daemon.child.kill('SIGKILL')
    await daemon.exited
  }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function start(dataDir: string, extra: string[] = []): Promise<StartedDaemon> {
  const daemon = await startGridxDaemon(dataDir, extra)
  daemons.push(daemon)
  return daemon
}

async function api(dataDir: string, daemon: StartedDaemon) {
  const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  const call = <M extends Method>(method: M, params: ParamsInput<M>) =>
    httpCall(daemon.apiUrl, token, method, params)
  return { token, call }
}

/** Resolves when the job reaches one of `states`, bounded. */
async function waitFor(daemon: StartedDaemon, token: string, id: string, states: JobState[]) {
  const client = new RpcClient({ url: daemon.apiUrl, token })
  await client.connect()
  const { promise, resolve, reject } = Promise.withResolvers<JobView>()
  const timer = setTimeout(() => reject(new Error(`job ${id} never reached ${states}`)), 60_000)
  await client.subscribe('jobs', { id }, (event) => {
    if (states.includes(event.job.state)) resolve(event.job)
  })
  const now = await httpCall(daemon.apiUrl, token, 'job.get', { id })
  if (states.includes(now.state)) resolve(now)
  try {
    return await promise
  } finally {
    clearTimeout(timer)
    client.close()
  }
}

async function containersOf(jobId: string) {
  return docker.listContainers({ all: true, filters: { label: [`gridx.job=${jobId}`] } })
}

describe.skipIf(!hasEngine)('daemon crash and stop', () => {
  it('should remove orphaned containers and retry their jobs when restarted after kill -9', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gridx-crash-'))
    dirs.push(dataDir)
    let daemon = await start(dataDir)
    let { token, call } = await api(dataDir, daemon)
    const { job } = await call('job.submit', {
      idempotencyId: 'crash-1',
      spec: { runtime: 'bash', code: 'echo hi; sleep 3; echo done', timeoutS: 60 },
    })
    await waitFor(daemon, token, job.id, ['running'])
    daemon.child.kill('SIGKILL')
    await daemon.exited
    // The crash left the container of the first attempt behind.
    const orphans = await containersOf(job.id)
    expect(orphans).toHaveLength(1)
    const orphanId = orphans[0]?.Id as string

    daemon = await start(dataDir)
    // Started means swept: the orphan is gone before the job runs again.
    expect(await docker.listContainers({ all: true, filters: { id: [orphanId] } })).toEqual([])
    ;({ token, call } = await api(dataDir, daemon))
    const done = await waitFor(daemon, token, job.id, [
      'succeeded',
      'failed',
      'cancelled',
      'timed_out',
    ])
    expect(done.state).toBe('succeeded')
    expect(done.attempts).toBe(2)
    expect(done.result?.stdoutTail).toBe('hi\ndone\n')
    const balance = await call('account.balance', {})
    expect(balance.escrowedMc).toBe(0)
    // Only the run that finished was paid for.
    expect(balance.balanceMc).toBe(100_000 - (done.feesPaidMc ?? 0))
  })

  it('should hand running jobs back and remove their containers on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gridx-stop-'))
    dirs.push(dataDir)
    const daemon = await start(dataDir, ['--drain-timeout', '1'])
    const { token, call } = await api(dataDir, daemon)
    const { job } = await call('job.submit', {
      idempotencyId: 'stop-1',
      spec: { runtime: 'bash', code: 'sleep 30', timeoutS: 60 },
    })
    await waitFor(daemon, token, job.id, ['running'])
    daemon.child.kill('SIGTERM')
    expect(await daemon.exited).toBe(0)
    expect((await containersOf(job.id)).length).toBe(0)

    const restarted = await start(dataDir, ['--no-executor'])
    const again = await api(dataDir, restarted)
    const after = await again.call('job.get', { id: job.id })
    expect(after.state).toBe('queued')
    expect(isFinalJobState(after.state)).toBe(false)
    expect(after.reason).toMatch(/executor stopped/)
    expect((await again.call('account.balance', {})).escrowedMc).toBe(after.maxPriceMc)
  })
})
