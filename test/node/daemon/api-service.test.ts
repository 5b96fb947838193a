// The daemon's API service over a real one-voter ledger (LevelDB in a temp dir): what the
// state would refuse is refused before it is proposed, so it never reaches the log.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualTicker, openOneVoterLedger, stateHash } from '../../../ledger/index.ts'
import type { RaftDriver } from '../../../ledger/index.ts'
import { GridxError, jobSpecSchema } from '../../../protocol/index.ts'
import type { JobSpecInput, Params } from '../../../protocol/index.ts'
import { JoinTokens } from '../../../node/daemon/join-tokens.ts'
import { ApiService } from '../../../node/daemon/api-service.ts'

const ACCOUNT = 'peer-owner'
const context = { account: ACCOUNT, remoteAddress: '127.0.0.1', transport: 'ws' } as const
const started: { replica: RaftDriver; dir: string }[] = []

afterEach(async () => {
  for (const { replica, dir } of started.splice(0)) {
    await replica.stop()
    await rm(dir, { recursive: true, force: true })
  }
})

async function service(): Promise<{ api: ApiService; replica: RaftDriver }> {
  const dir = await mkdtemp(join(tmpdir(), 'gridx-api-service-'))
  const { driver: replica } = await openOneVoterLedger({
    location: join(dir, 'raft'),
    legacyLocation: null,
    id: 'peer-a',
    clock: { now: () => Date.now() },
    ticker: new ManualTicker(),
  })
  started.push({ replica, dir })
  expect((await replica.propose({ type: 'account.open', account: ACCOUNT })).ok).toBe(true)
  const api = new ApiService({
    ledger: replica,
    executors: () => [{ cpus: 64, memoryMb: 65_536, runtimes: ['python'] }],
    executorProblem: () => null,
    meshInfo: () => {
      throw new Error('not used')
    },
    meshPeers: () => {
      throw new Error('not used')
    },
    joinTokens: new JoinTokens({ dataDir: dir, peerId: 'peer-a', ledger: replica }),
    owner: 'peer-a',
    leave: () => {
      throw new Error('not used')
    },
  })
  return { api, replica }
}

function submitParams(idempotencyId: string, spec: Partial<JobSpecInput> = {}) {
  const parsed = jobSpecSchema.parse({ runtime: 'python', code: 'print(1)', ...spec })
  return { idempotencyId, spec: parsed } as Params<'job.submit'>
}

async function refusal(promise: Promise<unknown>): Promise<GridxError> {
  const error = await promise.then(
    () => new Error('accepted'),
    (reason: unknown) => reason,
  )
  expect(error).toBeInstanceOf(GridxError)
  return error as GridxError
}

describe('ApiService', () => {
  it('should refuse an unaffordable submission without appending it to the log', async () => {
    const { api, replica } = await service()
    const before = replica.localRead().appliedIndex
    // 64 CPUs for an hour costs far more than the join grant.
    const params = submitParams('big', { cpus: 64, timeoutS: 3600 })
    const error = await refusal(api.handlers['job.submit'](params, context))
    expect(error.name).toBe('INSUFFICIENT_FUNDS')
    expect(replica.localRead().appliedIndex).toBe(before)
  })

  it('should refuse an idempotency conflict without appending it to the log', async () => {
    const { api, replica } = await service()
    await api.handlers['job.submit'](submitParams('once'), context)
    const before = replica.localRead().appliedIndex
    const changed = submitParams('once', { code: 'print(2)' })
    const error = await refusal(api.handlers['job.submit'](changed, context))
    expect(error.name).toBe('CONFLICT')
    expect(replica.localRead().appliedIndex).toBe(before)
  })

  it('should answer a replayed submission with the first job without appending it', async () => {
    const { api, replica } = await service()
    const first = await api.handlers['job.submit'](
      submitParams('once', { env: { A: '1', B: '2' } }),
      context,
    )
    const before = replica.localRead().appliedIndex
    const again = await api.handlers['job.submit'](
      submitParams('once', { env: { B: '2', A: '1' } }),
      context,
    )
    expect(again).toEqual({ job: first.job, created: false })
    expect(replica.localRead().appliedIndex).toBe(before)
  })

  it('should answer a cancel of a cancelled job without appending it to the log', async () => {
    const { api, replica } = await service()
    const { job } = await api.handlers['job.submit'](submitParams('one'), context)
    const cancel = { id: job.id, idempotencyId: 'cancel-one' }
    expect((await api.handlers['job.cancel'](cancel, context)).state).toBe('cancelled')
    const before = replica.localRead().appliedIndex
    expect((await api.handlers['job.cancel'](cancel, context)).state).toBe('cancelled')
    expect(replica.localRead().appliedIndex).toBe(before)
  })

  it('should refuse to cancel a finished job without appending it to the log', async () => {
    const { api, replica } = await service()
    const { job } = await api.handlers['job.submit'](submitParams('one'), context)
    await replica.propose({ type: 'executor.register', peer: 'peer-a', owner: ACCOUNT })
    const assigned = await replica.propose({
      type: 'job.assign',
      jobId: job.id,
      executor: 'peer-a',
    })
    const { fence } = (assigned as { value: { fence: number } }).value
    await replica.propose({ type: 'job.start', jobId: job.id, fence })
    const finished = await replica.propose({
      type: 'job.finish',
      jobId: job.id,
      fence,
      outcome: { state: 'succeeded', cause: null, result: emptyResult(), error: null },
    })
    expect(finished.ok).toBe(true)
    const before = replica.localRead().appliedIndex
    const cancel = { id: job.id, idempotencyId: 'cancel-one' }
    const error = await refusal(api.handlers['job.cancel'](cancel, context))
    expect(error.name).toBe('INVALID_STATE')
    expect(replica.localRead().appliedIndex).toBe(before)
  })

  it('should report the hash of the state at its applied index when mesh.state is read', async () => {
    const { api, replica } = await service()
    const state = replica.localRead()
    const read = await api.handlers['mesh.state']({}, context)
    expect(read).toEqual({
      appliedIndex: state.appliedIndex,
      stateHash: stateHash(state),
      ledgerViolations: [],
    })
    await api.handlers['job.submit'](submitParams('moves-it'), context)
    const after = await api.handlers['mesh.state']({}, context)
    expect(after.appliedIndex).toBeGreaterThan(read.appliedIndex)
    expect(after.stateHash).not.toBe(read.stateHash)
    // Reading it changes nothing: it is not a write.
    expect(replica.localRead().appliedIndex).toBe(after.appliedIndex)
  })
})

function emptyResult() {
  return {
    exitCode: 0,
    stdoutTail: '',
    stderrTail: '',
    stdoutBytes: 0,
    stderrBytes: 0,
    stdoutTruncated: false,
    stderrTruncated: false,
    outputCapBytes: 0,
    wallMs: 100,
    cpuMs: null,
    memoryPeakBytes: null,
    oomKilled: false,
    timedOut: false,
  }
}
