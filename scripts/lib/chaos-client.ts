// The chaos run's client: from peers that are never killed it submits jobs and reads balances
// at a steady rate, retries a submission through its idempotency id while the answer is a
// retryable one, and remembers which submissions were acknowledged and as what job.
import { raft } from '../../ledger/index.ts'
import { isGridxError } from '../../protocol/index.ts'
import type { JobSpecInput } from '../../protocol/index.ts'
import type { MeshCluster } from './mesh-cluster.ts'

/** How long one submission is retried: two voters down at once wait for a restart, which
 * takes up to PEER_START_TIMEOUT_MS on a loaded machine, plus an election. */
export const SUBMIT_RETRY_WINDOW_MS = 90_000
/** One call's own bound: a write waits (bounded) for a coordinator and then fails. */
export const CALL_TIMEOUT_MS = 15_000
/** Backoff between retries of one submission: fast for an election, capped for a restart. */
const RETRY_DELAY_MS_MIN = 200
const RETRY_DELAY_MS_MAX = 2_000
/** Submissions waiting for an answer at once; a tick past it is skipped (and counted), so a
 * stalled mesh is not buried under a growing pile of retries. */
export const SUBMISSIONS_IN_FLIGHT_MAX = 64
/** Below this available balance a client holds back: the run must not drain its funds and
 * turn into a test of refusals. Ten jobs at the minimum price. */
export const FUNDS_RESERVE_MC = 10_000

/** Errors that say "not now": the client retries them with the same idempotency id. */
const RETRYABLE = new Set(['UNAVAILABLE', 'RATE_LIMITED'])
/** Answers that refuse the submission for good, which a steady client may meet. */
const REFUSALS = new Set(['INSUFFICIENT_FUNDS', 'QUEUE_FULL'])

/** Small resources so that every job costs the policy's minimum, and a short timeout. */
const RESOURCES = { cpus: 0.5, memoryMb: 128, timeoutS: 10 } as const

/** The mix: mostly short jobs, a few of ~2 s so that kills land mid-run, a few failures. */
export const JOB_KINDS: readonly { name: string; weight: number; spec: JobSpecInput }[] = [
  { name: 'echo', weight: 35, spec: { runtime: 'bash', code: 'echo chaos' } },
  { name: 'sleep', weight: 25, spec: { runtime: 'bash', code: 'sleep 0.2; echo slept' } },
  { name: 'python', weight: 20, spec: { runtime: 'python', code: 'print(sum(range(1000)))' } },
  { name: 'long', weight: 15, spec: { runtime: 'bash', code: 'sleep 2; echo long' } },
  { name: 'exit', weight: 5, spec: { runtime: 'bash', code: 'echo failing; exit 3' } },
]

export interface Submission {
  readonly idempotencyId: string
  readonly peer: number
  readonly kind: string
  attempts: number
  /** The job it was acknowledged as; null while unacknowledged. */
  jobId: string | null
  /** The acknowledgement answered a retry with the job a lost attempt had created. */
  replayed: boolean
  /** The error name of a refusal for good, if it was refused. */
  refused: string | null
}

export interface ChaosClientCounts {
  submissions: number
  acknowledged: number
  replayedAcknowledgements: number
  refused: number
  unacknowledged: number
  retries: number
  heldBackForFunds: number
  skippedAtInFlightMax: number
  balanceReads: number
  balanceReadsFailed: number
}

export interface ChaosClientInit {
  readonly cluster: MeshCluster
  /** Peers the client submits through, in turn; none of them is ever killed. */
  readonly peers: readonly number[]
  /** Seeds the job mix (one pick per tick, whether or not it submits) and the backoff. */
  readonly seed: number
  readonly submitEveryMs: number
  readonly balanceEveryMs: number
  /** Prefix of idempotency ids, so that two runs on one data dir never share one. */
  readonly runId: string
  /** Answers no client should see (a bug's symptom), as they arrive. */
  readonly onUnexpected: (what: string) => void
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export class ChaosClient {
  readonly submissions: Submission[] = []
  readonly counts: ChaosClientCounts = {
    submissions: 0,
    acknowledged: 0,
    replayedAcknowledgements: 0,
    refused: 0,
    unacknowledged: 0,
    retries: 0,
    heldBackForFunds: 0,
    skippedAtInFlightMax: 0,
    balanceReads: 0,
    balanceReadsFailed: 0,
  }
  readonly #init: ChaosClientInit
  readonly #inFlight = new Set<Promise<void>>()
  readonly #availableMc = new Map<number, number>()
  readonly #stopped = new AbortController()
  readonly #kinds: raft.SeededRandom
  readonly #backoff: raft.SeededRandom
  #loops: Promise<void>[] = []

  constructor(init: ChaosClientInit) {
    this.#init = init
    this.#kinds = new raft.SeededRandom(init.seed)
    this.#backoff = new raft.SeededRandom(init.seed ^ 0x5bd1e995)
  }

  start(): void {
    this.#loops = [
      this.#every(this.#init.submitEveryMs, (tick) => this.#submitTick(tick)),
      this.#every(this.#init.balanceEveryMs, (tick) => this.#readBalance(tick)),
    ]
  }

  /** Stops starting calls and waits for every submission in flight to end (each is bounded
   * by SUBMIT_RETRY_WINDOW_MS). */
  async stop(): Promise<void> {
    this.#stopped.abort()
    await Promise.all(this.#loops)
    await Promise.all([...this.#inFlight])
    this.counts.unacknowledged = this.submissions.filter(
      (s) => s.jobId === null && s.refused === null,
    ).length
  }

  /** Runs `action` at a steady rate, on a schedule that does not drift with its duration. */
  async #every(intervalMs: number, action: (tick: number) => Promise<void> | void): Promise<void> {
    const startedAt = Date.now()
    for (let tick = 0; !this.#stopped.signal.aborted; tick++) {
      await sleep(Math.max(0, startedAt + tick * intervalMs - Date.now()))
      if (this.#stopped.signal.aborted) return
      await action(tick)
    }
  }

  #submitTick(tick: number): void {
    const peers = this.#init.peers
    const peer = peers[tick % peers.length] as number
    const kind = pickKind(this.#kinds)
    if ((this.#availableMc.get(peer) ?? Infinity) < FUNDS_RESERVE_MC) {
      this.counts.heldBackForFunds++
      return
    }
    if (this.#inFlight.size >= SUBMISSIONS_IN_FLIGHT_MAX) {
      this.counts.skippedAtInFlightMax++
      return
    }
    const submission: Submission = {
      idempotencyId: `${this.#init.runId}-${tick}`,
      peer,
      kind: kind.name,
      attempts: 0,
      jobId: null,
      replayed: false,
      refused: null,
    }
    this.submissions.push(submission)
    this.counts.submissions++
    const task = this.#submit(submission, { ...kind.spec, ...RESOURCES })
    this.#inFlight.add(task)
    void task.finally(() => this.#inFlight.delete(task))
  }

  async #submit(submission: Submission, spec: JobSpecInput): Promise<void> {
    const deadline = Date.now() + SUBMIT_RETRY_WINDOW_MS
    const params = { idempotencyId: submission.idempotencyId, spec }
    for (let attempt = 0; ; attempt++) {
      submission.attempts++
      if (attempt > 0) this.counts.retries++
      try {
        const answer = await this.#init.cluster.rpc(submission.peer, 'job.submit', params, {
          timeoutMs: CALL_TIMEOUT_MS,
        })
        submission.jobId = answer.job.id
        submission.replayed = !answer.created
        this.counts.acknowledged++
        if (submission.replayed) this.counts.replayedAcknowledgements++
        return
      } catch (error) {
        const name = isGridxError(error) ? error.name : null
        if (name !== null && REFUSALS.has(name)) {
          submission.refused = name
          this.counts.refused++
          return
        }
        // A GridxError outside the retryable ones is a bug's symptom; fetch's own errors
        // (a call past its timeout) are retried like an UNAVAILABLE.
        if (name !== null && !RETRYABLE.has(name)) {
          this.#init.onUnexpected(`job.submit ${submission.idempotencyId}: ${name}: ${error}`)
        }
      }
      if (Date.now() > deadline) return
      await sleep(backoffMs(attempt, this.#backoff))
    }
  }

  async #readBalance(tick: number): Promise<void> {
    const peers = this.#init.peers
    const peer = peers[tick % peers.length] as number
    this.counts.balanceReads++
    try {
      const balance = await this.#init.cluster.rpc(
        peer,
        'account.balance',
        {},
        {
          timeoutMs: CALL_TIMEOUT_MS,
        },
      )
      this.#availableMc.set(peer, balance.availableMc)
    } catch (error) {
      this.counts.balanceReadsFailed++
      if (isGridxError(error) && !RETRYABLE.has(error.name)) {
        this.#init.onUnexpected(`account.balance on peer ${peer}: ${error.name}: ${error}`)
      }
    }
  }
}

function pickKind(random: raft.SeededRandom): (typeof JOB_KINDS)[number] {
  const total = JOB_KINDS.reduce((sum, kind) => sum + kind.weight, 0)
  let roll = random.nextInt(total)
  for (const kind of JOB_KINDS) {
    if (roll < kind.weight) return kind
    roll -= kind.weight
  }
  return JOB_KINDS[0] as (typeof JOB_KINDS)[number]
}

function backoffMs(attempt: number, random: raft.SeededRandom): number {
  const ceiling = Math.min(RETRY_DELAY_MS_MAX, RETRY_DELAY_MS_MIN * 2 ** Math.min(attempt, 10))
  return ceiling / 2 + random.nextInt(Math.ceil(ceiling / 2))
}
