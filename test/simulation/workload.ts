// The clients of the simulated mesh: a seeded generator of ledger commands in a realistic mix.
// It opens the accounts and registers the executors first, then submits jobs, assigns queued
// ones, starts and finishes assigned ones, and now and then cancels, loses or expires one. It
// reads the proposing leader's applied state to pick job ids; that state may be stale, so apply
// may refuse a command (stale fence, wrong state), which is fine: a refused command changes
// nothing, and every replica refuses it alike.
import { jobSpecSchema } from '../../protocol/index.ts'
import type { JobSpec } from '../../protocol/index.ts'
import type { SeededRandom } from '../../ledger/raft/index.ts'
import type { Command, Job, RunOutcome, State } from '../../ledger/state/index.ts'

/** Submitting accounts, and the owner of the executors (it is paid for their work). */
export const SUBMITTERS = ['alice', 'bob', 'carol'] as const
export const OWNER = 'dave'
export const EXECUTORS = ['e1', 'e2'] as const

/** Small jobs: each escrows the 1-credit minimum, so a 100-credit grant pays for many. */
const SPECS: readonly JobSpec[] = [1, 5, 30].map((timeoutS) =>
  jobSpecSchema.parse({ runtime: 'python', code: 'print(1)', cpus: 0.1, memoryMb: 16, timeoutS }),
)

/** Relative weights of the commands once the mesh is set up. */
const MIX = [
  ['submit', 30],
  ['assign', 20],
  ['start', 15],
  ['finish', 15],
  ['cancel', 6],
  ['lost', 5],
  ['resubmit', 4],
  ['expire', 2],
  ['policy', 1],
] as const
const MIX_TOTAL = MIX.reduce((sum, [, weight]) => sum + weight, 0)
/** Chance that a client resends a setup command its leader has not applied yet. */
const SETUP_RETRY = 0.3
/** Draws from the mix before falling back to a submission. */
const MIX_DRAWS_MAX = 4
/** Jobs one run submits at most; then clients only replay old submissions. This bounds the
 * ledger's size, which every replica encodes after every entry for the state check. */
const JOBS_PER_RUN_MAX = 12
/** The assign command takes one of the first few queued jobs. */
const QUEUE_HEAD = 3

export class Workload {
  readonly #random: SeededRandom
  #nextJob = 1

  constructor(random: SeededRandom) {
    this.#random = random
  }

  /** The next command a client sends, given the leader's applied state. */
  next(state: State): Command {
    const setup: Command[] = []
    for (const account of [...SUBMITTERS, OWNER]) {
      if (!state.accounts.has(account)) setup.push({ type: 'account.open', account })
    }
    for (const peer of EXECUTORS) {
      if (!state.executors.has(peer)) setup.push({ type: 'executor.register', peer, owner: OWNER })
    }
    // The leader's applied state lags its log by a commit round: a setup command it does not
    // see yet is probably in flight, so it is sent again only now and then.
    if (setup.length > 0 && this.#random.chance(SETUP_RETRY)) return this.#random.pick(setup)
    // A command with nothing to act on in the leader's view is drawn again, not turned into
    // a submission, so the mix stays as weighted.
    for (let draw = 0; draw < MIX_DRAWS_MAX; draw++) {
      const command = this.#mixed(state)
      if (command !== undefined) return command
    }
    return this.#submit()
  }

  #mixed(state: State): Command | undefined {
    let roll = this.#random.nextInt(MIX_TOTAL)
    let kind: (typeof MIX)[number][0] = 'submit'
    for (const [name, weight] of MIX) {
      if (roll < weight) {
        kind = name
        break
      }
      roll -= weight
    }
    const random = this.#random
    switch (kind) {
      case 'submit':
        return this.#submit()
      case 'resubmit':
        // A client retrying with its idempotency id: the ledger answers with the first job.
        return this.#submit(Math.max(1, this.#nextJob - 1 - random.nextInt(3)))
      case 'assign': {
        if (state.queue.length === 0) return undefined
        const jobId = this.#random.pick(state.queue.slice(0, QUEUE_HEAD))
        return { type: 'job.assign', jobId, executor: random.pick(EXECUTORS) }
      }
      case 'policy':
        return {
          type: 'policy.set',
          policy: { ...state.policy, jobMinimumMc: 500 + 500 * random.nextInt(3) },
        }
      default:
        return this.#onOpenJob(state, kind)
    }
  }

  /** A command about an open job; now and then with a stale fence, as a slow executor sends. */
  #onOpenJob(
    state: State,
    kind: 'start' | 'finish' | 'cancel' | 'lost' | 'expire',
  ): Command | undefined {
    // Executors report on jobs they were given, clients cancel what they see open.
    const wanted: readonly Job['state'][] =
      kind === 'start'
        ? ['assigned']
        : kind === 'finish' || kind === 'lost'
          ? ['running', 'assigned']
          : ['queued', 'assigned', 'running']
    const candidates: Job[] = []
    for (const id of state.unfinished) {
      const job = state.jobs.get(id)
      if (job !== undefined && wanted.includes(job.state)) candidates.push(job)
    }
    if (candidates.length === 0) return undefined
    const job = this.#random.pick(candidates)
    const fence = (job.fence ?? 0) - (this.#random.chance(0.1) ? 1 : 0)
    switch (kind) {
      case 'start':
        return { type: 'job.start', jobId: job.id, fence }
      case 'finish':
        return { type: 'job.finish', jobId: job.id, fence, outcome: this.#outcome(job.spec) }
      case 'lost':
        return { type: 'job.lost', jobId: job.id, fence, reason: 'the executor vanished' }
      case 'cancel':
        return { type: 'job.cancel', jobId: job.id, by: job.submitter }
      case 'expire':
        return { type: 'job.expire', jobId: job.id }
    }
  }

  /** A submission of job `number`; a new job unless the run has submitted enough. */
  #submit(number?: number): Command {
    if (number === undefined) {
      number =
        this.#nextJob > JOBS_PER_RUN_MAX
          ? 1 + this.#random.nextInt(JOBS_PER_RUN_MAX)
          : this.#nextJob++
    }
    return {
      type: 'job.submit',
      jobId: `j${number.toString(36).padStart(6, '0')}`,
      submitter: SUBMITTERS[number % SUBMITTERS.length] as string,
      idempotencyId: `submit-${number}`,
      spec: SPECS[number % SPECS.length] as JobSpec,
    }
  }

  #outcome(spec: Pick<JobSpec, 'timeoutS'>): RunOutcome {
    const random = this.#random
    const wallMs = random.nextInt(spec.timeoutS * 1000 + 1)
    const roll = random.nextInt(10)
    const [state, cause, error]: [RunOutcome['state'], RunOutcome['cause'], string | null] =
      roll < 6
        ? ['succeeded', null, null]
        : roll < 8
          ? ['failed', 'code', 'exit code 1']
          : roll < 9
            ? ['timed_out', 'code', 'the job ran past its timeout']
            : ['failed', 'executor', 'the engine failed']
    return {
      state,
      cause,
      error,
      result: {
        exitCode: state === 'succeeded' ? 0 : 1,
        stdoutTail: '1\n',
        stderrTail: '',
        stdoutBytes: 2,
        stderrBytes: 0,
        stdoutTruncated: false,
        stderrTruncated: false,
        outputCapBytes: 65_536,
        wallMs,
        cpuMs: null,
        memoryPeakBytes: null,
        oomKilled: false,
        timedOut: state === 'timed_out',
      },
    }
  }
}
