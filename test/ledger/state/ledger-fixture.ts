// A ledger driven the way the replica drives it: entries with consecutive indexes and a log
// time the test controls. `refused` checks that a refused command changed nothing but the
// applied index and log time, which every entry advances.
import { expect } from 'vitest'
import { jobSpecSchema, SESSION_IDLE_MS } from '../../../protocol/index.ts'
import type { JobResult, JobSpec, JobSpecInput } from '../../../protocol/index.ts'
import { apply, createState, decodeState, encodeState } from '../../../ledger/state/index.ts'
import type {
  ApplyError,
  ApplyResult,
  Command,
  Job,
  ProposalId,
  RunOutcome,
  State,
  Transfer,
} from '../../../ledger/state/index.ts'

export const START_MS = 1_700_000_000_000

export function spec(overrides: Partial<JobSpecInput> = {}): JobSpec {
  return jobSpecSchema.parse({ runtime: 'python', code: 'print(1)', ...overrides })
}

/** The smallest job: 0.1 cpu, 16 MiB, 1 s. Its maximum price is the 1-credit minimum. */
export function cheapSpec(code = 'print(1)'): JobSpec {
  return spec({ code, cpus: 0.1, memoryMb: 16, timeoutS: 1 })
}

export function runResult(overrides: Partial<JobResult> = {}): JobResult {
  return {
    exitCode: 0,
    stdoutTail: '',
    stderrTail: '',
    stdoutBytes: 0,
    stderrBytes: 0,
    stdoutTruncated: false,
    stderrTruncated: false,
    outputCapBytes: 1024,
    wallMs: 1000,
    cpuMs: null,
    memoryPeakBytes: null,
    oomKilled: false,
    timedOut: false,
    ...overrides,
  }
}

export function succeeded(wallMs: number): RunOutcome {
  return { state: 'succeeded', cause: null, result: runResult({ wallMs }), error: null }
}

export function codeFailure(kind: 'exit' | 'timeout' | 'oom', wallMs: number): RunOutcome {
  if (kind === 'timeout') {
    return {
      state: 'timed_out',
      cause: 'code',
      result: runResult({ wallMs, exitCode: null, timedOut: true }),
      error: 'the job ran past its timeout',
    }
  }
  if (kind === 'oom') {
    return {
      state: 'failed',
      cause: 'code',
      result: runResult({ wallMs, exitCode: 137, oomKilled: true }),
      error: 'out of memory',
    }
  }
  return {
    state: 'failed',
    cause: 'code',
    result: runResult({ wallMs, exitCode: 1 }),
    error: 'exit 1',
  }
}

export function executorFailure(): RunOutcome {
  return {
    state: 'failed',
    cause: 'executor',
    result: runResult({ exitCode: null, wallMs: 0 }),
    error: 'engine error',
  }
}

/** What the state encodes to once an entry has been applied that changed nothing else. */
export function encodeAfterNoop(state: State, index: number, logTime: number): string {
  const copy = decodeState(encodeState(state))
  copy.appliedIndex = index
  copy.logTime = Math.max(copy.logTime, logTime)
  return encodeState(copy)
}

/** An encoded state without its proposer sessions, to compare what the commands changed. */
export function withoutProposals(encoded: string): string {
  const copy = decodeState(encoded)
  copy.sessions.clear()
  return encodeState(copy)
}

export class Ledger {
  state: State = createState()
  now = START_MS
  #proposals = 0
  #session = 1
  #activeAt = START_MS

  advance(ms: number): this {
    this.now += ms
    return this
  }

  /** Applies a command under a fresh proposal id stamped now, or under `proposal` (a retry). */
  run(command: Command, proposal: ProposalId = this.proposal()): ApplyResult {
    return apply(this.state, {
      index: this.state.appliedIndex + 1,
      logTime: this.now,
      proposal,
      command,
    })
  }

  /** The next proposal of the test proposer, stamped with the ledger's current time. It has
   * seen every earlier result, so it acknowledges all of them; silent for half the idle limit,
   * it opens a fresh session, as the daemon does, since the ledger may have forgotten its own. */
  proposal(): ProposalId {
    if (this.now - this.#activeAt > SESSION_IDLE_MS / 2) {
      this.#session++
      this.#proposals = 0
    }
    this.#activeAt = Math.max(this.#activeAt, this.now)
    const sequence = ++this.#proposals
    const session = `test/${this.#session}`
    return { session, sequence, acknowledged: sequence - 1, proposedAt: this.now }
  }

  ok(command: Command): unknown {
    const result = this.run(command)
    if (!result.ok) throw new Error(`${command.type} refused: ${JSON.stringify(result.error)}`)
    return result.value
  }

  /** Applies a command that must be refused and must change nothing but the proposal table,
   * which remembers the refusal for a duplicate to get back. */
  refused(command: Command, proposal: ProposalId = this.proposal()): ApplyError {
    const expected = encodeAfterNoop(this.state, this.state.appliedIndex + 1, this.now)
    const result = this.run(command, proposal)
    if (result.ok) throw new Error(`${command.type} accepted: ${JSON.stringify(result.value)}`)
    expect(withoutProposals(encodeState(this.state))).toBe(withoutProposals(expected))
    return result.error
  }

  open(account: string): this {
    this.ok({ type: 'account.open', account })
    return this
  }

  register(peer: string, owner: string): this {
    this.ok({ type: 'executor.register', peer, owner })
    return this
  }

  submit(jobId: string, submitter: string, jobSpec: JobSpec, idempotencyId = jobId): ApplyResult {
    return this.run({ type: 'job.submit', jobId, submitter, idempotencyId, spec: jobSpec })
  }

  /** Assigns and returns the fencing token. */
  assign(jobId: string, executor: string): number {
    const value = this.ok({ type: 'job.assign', jobId, executor }) as { fence: number }
    return value.fence
  }

  start(jobId: string, fence: number): ApplyResult {
    return this.run({ type: 'job.start', jobId, fence })
  }

  finish(jobId: string, fence: number, outcome: RunOutcome): ApplyResult {
    return this.run({ type: 'job.finish', jobId, fence, outcome })
  }

  /** Submits, assigns and starts a job; returns its fence. */
  runJob(jobId: string, submitter: string, executor: string, jobSpec: JobSpec): number {
    const submitted = this.submit(jobId, submitter, jobSpec)
    if (!submitted.ok) throw new Error(`submit refused: ${submitted.error.name}`)
    const fence = this.assign(jobId, executor)
    this.ok({ type: 'job.start', jobId, fence })
    return fence
  }

  job(jobId: string): Job {
    const job = this.state.jobs.get(jobId)
    if (job === undefined) throw new Error(`no job ${jobId}`)
    return job
  }

  balance(account: string): number {
    return this.state.accounts.get(account)?.balanceMc ?? 0
  }

  transfersOf(jobId: string): Transfer[] {
    return this.state.transfers.filter((transfer) => transfer.jobId === jobId)
  }
}

/** Sum of a job's transfers out of escrow minus into it: zero once it is released exactly once. */
export function escrowBalanceOf(transfers: readonly Transfer[]): number {
  let sum = 0
  for (const transfer of transfers) {
    if (transfer.credit === 'escrow') sum += transfer.amountMc
    if (transfer.debit === 'escrow') sum -= transfer.amountMc
  }
  return sum
}
