// The acceptance line: after every step of a randomized sequence of commands the ledger
// adds up. fast-check runs a fixed seed so a failure replays exactly; its report prints the
// seed and the shrunk counterexample path.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_POLICY,
  ESCROW_GRACE_MS,
  SESSION_IDLE_MS,
  isFinalJobState,
  priceMc,
} from '../../../protocol/index.ts'
import type { JobSpec, JobState } from '../../../protocol/index.ts'
import {
  apply,
  createState,
  decodeState,
  encodeState,
  ledgerViolations,
} from '../../../ledger/state/index.ts'
import type { Command, Entry, ProposalId, State, Transfer } from '../../../ledger/state/index.ts'
import {
  cheapSpec,
  codeFailure,
  escrowBalanceOf,
  executorFailure,
  Ledger,
  spec,
  START_MS,
  succeeded,
  withoutProposals,
} from './ledger-fixture.ts'

const SEED = 0x6a1d
const RUNS = 200
const STEPS_MAX = 200

const ACCOUNTS = ['alice', 'bob', 'carol', 'dave', 'erin'] as const
/** Submitters include one that never opens an account and the mesh's own accounts. */
const SUBMITTERS = [...ACCOUNTS, 'zed', 'fees', 'escrow'] as const
/** Executors whose owners open late (bob, erin) or never may (the escrow account). */
const EXECUTORS = [
  ['peer-1', 'bob'],
  ['peer-2', 'carol'],
  ['peer-3', 'erin'],
  ['peer-4', 'escrow'],
] as const
const HOUR_MS = 3_600_000

const EXPECTED_RESULTS = [
  'duplicate replayed',
  'duplicate UNAVAILABLE',
  'account.open ok',
  'executor.register ok',
  'executor.register NOT_FOUND',
  'job.submit ok',
  'job.submit CONFLICT',
  'job.submit INSUFFICIENT_FUNDS',
  'job.submit NOT_FOUND',
  'job.assign ok',
  'job.assign INVALID_STATE',
  'job.start ok',
  'job.start CONFLICT',
  'job.finish ok',
  'job.finish CONFLICT',
  'job.finish INVALID_STATE',
  'job.lost ok',
  'job.cancel ok',
  'job.cancel INVALID_STATE',
  'job.cancel NOT_FOUND',
  'job.expire ok',
  'job.expire INVALID_STATE',
  'parent.submit ok',
  'parent.cancel ok',
]

const SPECS: readonly JobSpec[] = [
  cheapSpec('a'),
  cheapSpec('b'),
  spec(),
  spec({ cpus: 0.5, memoryMb: 256, timeoutS: 5 }),
  spec({ cpus: 2, memoryMb: 1024, timeoutS: 30 }),
  // Never affordable: 4 cpus and 4 GiB for an hour, 1 440 000 + 720 000 mc, is far above the
  // join grant.
  spec({ cpus: 4, memoryMb: 4096, timeoutS: 3600 }),
]

type Step =
  | { readonly kind: 'open'; readonly account: number }
  | { readonly kind: 'register'; readonly executor: number }
  | {
      readonly kind: 'submit'
      readonly submitter: number
      readonly spec: number
      readonly idempotency: number
      readonly reuseJobId: boolean
    }
  | { readonly kind: 'assign'; readonly job: number; readonly executor: number }
  | { readonly kind: 'start'; readonly job: number; readonly stale: boolean }
  | {
      readonly kind: 'finish'
      readonly job: number
      readonly stale: boolean
      readonly outcome: 'success' | 'exit' | 'timeout' | 'oom' | 'executor'
      readonly wallPermille: number
    }
  | { readonly kind: 'lost'; readonly job: number; readonly stale: boolean }
  | { readonly kind: 'cancel'; readonly job: number; readonly bySubmitter: boolean }
  | { readonly kind: 'expire'; readonly job: number }
  | {
      readonly kind: 'shard'
      readonly submitter: number
      readonly shards: number
      readonly reduce: boolean
      readonly idempotency: number
    }
  | { readonly kind: 'shard-cancel'; readonly parent: number }
  | {
      readonly kind: 'train'
      readonly submitter: number
      readonly shards: number
      readonly rounds: number
      readonly minShards: number
      readonly idempotency: number
    }
  | { readonly kind: 'train-close'; readonly parent: number; readonly round: number }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'lag'; readonly ms: number }
  | { readonly kind: 'policy'; readonly sharePpm: number }
  | { readonly kind: 'restart' }
  | { readonly kind: 'duplicate'; readonly entry: number }

const pick = fc.nat({ max: 10_000 })
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('open'), account: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('register'), executor: pick }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('submit'),
      submitter: pick,
      spec: pick,
      idempotency: fc.nat({ max: 11 }),
      reuseJobId: fc.nat({ max: 9 }).map((n) => n === 0),
    }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('assign'), job: pick, executor: pick }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('start'), job: pick, stale: fc.boolean() }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('finish'),
      job: pick,
      stale: fc.boolean(),
      outcome: fc.constantFrom('success', 'exit', 'timeout', 'oom', 'executor'),
      wallPermille: fc.nat({ max: 1_200 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('lost'), job: pick, stale: fc.boolean() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('cancel'), job: pick, bySubmitter: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('expire'), job: pick }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('shard'),
      submitter: pick,
      shards: fc.integer({ min: 1, max: 3 }),
      reduce: fc.boolean(),
      idempotency: fc.nat({ max: 11 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('shard-cancel'), parent: pick }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('train'),
      submitter: pick,
      shards: fc.integer({ min: 1, max: 3 }),
      rounds: fc.integer({ min: 1, max: 3 }),
      minShards: fc.integer({ min: 1, max: 3 }),
      idempotency: fc.nat({ max: 11 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('train-close'),
      parent: pick,
      round: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advance'),
      ms: fc.oneof(fc.nat({ max: 30_000 }), fc.constant(HOUR_MS + ESCROW_GRACE_MS)),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lag'), ms: fc.nat({ max: 10_000 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('policy'), sharePpm: fc.nat({ max: 1_000_000 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart') }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('duplicate'), entry: pick }) },
)

const SETUP: readonly Step[] = [
  { kind: 'open', account: 0 },
  { kind: 'open', account: 2 },
  { kind: 'register', executor: 0 },
  { kind: 'register', executor: 1 },
]

class Run {
  state: State = createState()
  now = START_MS
  #session = 1
  #sequence = 0
  #sessionActiveAt = START_MS
  jobsSubmitted = 0
  readonly entries: Entry[] = []

  constructor(private readonly results: Map<string, number>) {}

  /** The job a step names: mostly one in a state where the command applies, sometimes any job
   * ever created whatever its state, rarely one that never was. */
  jobId(choice: number, states: readonly JobState[]): string {
    if (choice % 20 === 19) return 'jnotajob'
    const all = this.state.jobOrder
    const fitting = all.filter((id) => states.includes(this.state.jobs.get(id)?.state as JobState))
    const ids = choice % 4 === 3 || fitting.length === 0 ? all : fitting
    if (ids.length === 0) return 'jnotajob'
    return ids[Math.floor(choice / 20) % ids.length] as string
  }

  fence(jobId: string, stale: boolean): number {
    const fence = this.state.jobs.get(jobId)?.fence ?? 1
    return stale ? fence - 1 : fence
  }

  command(step: Step): { command: Command | null; lagMs: number } {
    switch (step.kind) {
      case 'open':
        return this.entry({
          type: 'account.open',
          account: ACCOUNTS[step.account % ACCOUNTS.length] as string,
        })
      case 'register': {
        const [peer, owner] = EXECUTORS[step.executor % EXECUTORS.length] as readonly [
          string,
          string,
        ]
        return this.entry({ type: 'executor.register', peer, owner })
      }
      case 'submit': {
        const submitter = SUBMITTERS[step.submitter % SUBMITTERS.length] as string
        const taken = this.state.jobOrder
        const jobId =
          step.reuseJobId && taken.length > 0
            ? (taken[step.spec % taken.length] as string)
            : `j${String(++this.jobsSubmitted).padStart(6, '0')}`
        return this.entry({
          type: 'job.submit',
          jobId,
          submitter,
          // A small pool of ids per account: replays of the same and of a different spec.
          idempotencyId: `k${step.idempotency}`,
          spec: SPECS[(step.spec + step.idempotency) % SPECS.length] as JobSpec,
        })
      }
      case 'assign': {
        const [peer] = EXECUTORS[step.executor % EXECUTORS.length] as readonly [string, string]
        return this.entry({
          type: 'job.assign',
          jobId: this.jobId(step.job, ['queued']),
          executor: peer,
        })
      }
      case 'start': {
        const jobId = this.jobId(step.job, ['assigned'])
        return this.entry({ type: 'job.start', jobId, fence: this.fence(jobId, step.stale) })
      }
      case 'finish': {
        const jobId = this.jobId(step.job, ['running', 'assigned'])
        const timeoutMs = (this.state.jobs.get(jobId)?.spec.timeoutS ?? 1) * 1000
        const wallMs = Math.round((timeoutMs * step.wallPermille) / 1000)
        const outcome =
          step.outcome === 'success'
            ? succeeded(wallMs)
            : step.outcome === 'executor'
              ? executorFailure()
              : codeFailure(step.outcome, wallMs)
        return this.entry({
          type: 'job.finish',
          jobId,
          fence: this.fence(jobId, step.stale),
          outcome,
        })
      }
      case 'lost': {
        const jobId = this.jobId(step.job, ['running', 'assigned'])
        const fence = this.fence(jobId, step.stale)
        return this.entry({ type: 'job.lost', jobId, fence, reason: 'peer vanished' })
      }
      case 'cancel': {
        const jobId = this.jobId(step.job, ['queued', 'assigned', 'running'])
        const submitter = this.state.jobs.get(jobId)?.submitter ?? 'alice'
        const by = step.bySubmitter ? submitter : submitter === 'bob' ? 'carol' : 'bob'
        return this.entry({ type: 'job.cancel', jobId, by })
      }
      case 'expire':
        return this.entry({
          type: 'job.expire',
          jobId: this.jobId(step.job, ['queued', 'assigned', 'running']),
        })
      case 'shard': {
        const cid = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
        return this.entry({
          type: 'parent.submit',
          parentId: `jp${String(++this.jobsSubmitted).padStart(6, '0')}`,
          submitter: SUBMITTERS[step.submitter % SUBMITTERS.length] as string,
          // The same pool as plain jobs': a parent may replay a job's id, and the other way.
          idempotencyId: `k${step.idempotency}`,
          spec: SPECS[step.idempotency % 2] as JobSpec,
          shards: Array.from({ length: step.shards }, () => [{ name: 'shard', cid, size: 1 }]),
          reduceCode: step.reduce ? 'reduce' : null,
        })
      }
      case 'shard-cancel': {
        const parents = [...this.state.parents.values()]
        const parent = parents[step.parent % Math.max(parents.length, 1)]
        return this.entry({
          type: 'parent.cancel',
          parentId: parent?.id ?? 'jnotajob',
          by: parent?.submitter ?? 'alice',
        })
      }
      case 'train': {
        const cid = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
        return this.entry({
          type: 'training.submit',
          parentId: `jt${String(++this.jobsSubmitted).padStart(6, '0')}`,
          submitter: SUBMITTERS[step.submitter % SUBMITTERS.length] as string,
          idempotencyId: `k${step.idempotency}`,
          spec: SPECS[step.idempotency % 2] as JobSpec,
          shards: Array.from({ length: step.shards }, () => [{ name: 'shard', cid, size: 1 }]),
          aggregateCode: 'aggregate',
          rounds: step.rounds,
          // Over the shards now and then: refused, and the refusal must change nothing.
          minShards: step.minShards,
          roundTimeoutS: 10,
          aggregate: 'fedavg',
          samples: null,
        })
      }
      case 'train-close': {
        const parents = [...this.state.parents.values()].filter((p) => p.training !== undefined)
        const parent = parents[step.parent % Math.max(parents.length, 1)]
        return this.entry({
          type: 'training.close-round',
          parentId: parent?.id ?? 'jnotajob',
          round: parent?.training?.history.length ?? step.round,
        })
      }
      case 'advance':
        this.now += step.ms
        return { command: null, lagMs: 0 }
      case 'lag':
        // A new coordinator whose clock is behind stamps an earlier log time.
        return { command: { type: 'account.open', account: 'alice' }, lagMs: step.ms }
      case 'policy':
        return this.entry({
          type: 'policy.set',
          policy: { ...DEFAULT_POLICY, executorSharePpm: step.sharePpm },
        })
      case 'restart': {
        const text = encodeState(this.state)
        this.state = decodeState(text)
        expect(encodeState(this.state)).toBe(text)
        return { command: null, lagMs: 0 }
      }
      case 'duplicate':
        // Handled by step(): it re-delivers an earlier entry rather than building a command.
        return { command: null, lagMs: 0 }
    }
  }

  /** The next proposal id, as the daemon makes them: a proposer silent for half the idle
   * limit opens a fresh session, since the ledger may have forgotten its old one. */
  proposal(proposedAt: number): ProposalId {
    if (proposedAt - this.#sessionActiveAt > SESSION_IDLE_MS / 2) {
      this.#session++
      this.#sequence = 0
    }
    this.#sessionActiveAt = Math.max(this.#sessionActiveAt, proposedAt)
    const sequence = ++this.#sequence
    const session = `property/${this.#session}`
    return { session, sequence, acknowledged: sequence - 1, proposedAt }
  }

  entry(command: Command): { command: Command; lagMs: number } {
    return { command, lagMs: 0 }
  }

  /** Delivers an earlier entry's proposal again, as a duplicated forward or a retry does: it
   * gets its first result back, or is refused once the window has passed, and changes nothing. */
  duplicate(choice: number): void {
    const earlier = this.entries[choice % this.entries.length]
    if (earlier === undefined) return
    const before = withoutProposals(encodeState(this.state))
    const entry: Entry = { ...earlier, index: this.state.appliedIndex + 1, logTime: this.now }
    const previous = { index: this.state.appliedIndex, logTime: this.state.logTime }
    const result = apply(this.state, entry)
    this.entries.push(entry)
    const key = result.replayed === true ? 'duplicate replayed' : `duplicate ${resultName(result)}`
    this.results.set(key, (this.results.get(key) ?? 0) + 1)
    expect(key === 'duplicate replayed' || key === 'duplicate UNAVAILABLE', key).toBe(true)
    const after = { index: this.state.appliedIndex, logTime: this.state.logTime }
    this.state.appliedIndex = previous.index
    this.state.logTime = previous.logTime
    expect(withoutProposals(encodeState(this.state)), 'a duplicate changed the state').toBe(before)
    this.state.appliedIndex = after.index
    this.state.logTime = after.logTime
    this.check()
  }

  /** Applies one step and checks everything the ledger promises after it. */
  step(step: Step): void {
    if (step.kind === 'duplicate') return this.duplicate(step.entry)
    const { command, lagMs } = this.command(step)
    if (command !== null) {
      const entry: Entry = {
        index: this.state.appliedIndex + 1,
        logTime: this.now - lagMs,
        proposal: this.proposal(this.now - lagMs),
        command,
      }
      const before = encodeState(this.state)
      const previous = { index: this.state.appliedIndex, logTime: this.state.logTime }
      const result = apply(this.state, entry)
      this.entries.push(entry)
      const key = `${command.type} ${result.ok ? 'ok' : result.error.name}`
      this.results.set(key, (this.results.get(key) ?? 0) + 1)
      expect(this.state.logTime).toBeGreaterThanOrEqual(previous.logTime)
      if (!result.ok) {
        // A refused command changed nothing but the index and log time every entry advances.
        const after = { index: this.state.appliedIndex, logTime: this.state.logTime }
        this.state.appliedIndex = previous.index
        this.state.logTime = previous.logTime
        expect(
          withoutProposals(encodeState(this.state)),
          `${command.type} refused: ${result.error.name}`,
        ).toBe(withoutProposals(before))
        this.state.appliedIndex = after.index
        this.state.logTime = after.logTime
      }
    }
    this.check()
  }

  check(): void {
    expect(ledgerViolations(this.state)).toEqual([])
    const problems = this.escrowProblems()
    if (problems.length > 0) expect(problems).toEqual([])
  }

  /** Each job's own transfers: one escrow of its maximum price, released exactly once when the
   * job ends (escrow − payment − fee − refund = 0) and not at all before. Plain checks, so
   * that the thousands made per run stay cheap; any problem fails with its description. */
  escrowProblems(): string[] {
    const byJob = new Map<string, Transfer[]>()
    for (const transfer of this.state.transfers) {
      if (transfer.jobId === null) continue
      const list = byJob.get(transfer.jobId) ?? []
      list.push(transfer)
      byJob.set(transfer.jobId, list)
    }
    const problems: string[] = []
    for (const job of this.state.jobs.values()) {
      const transfers = byJob.get(job.id) ?? []
      const escrows = transfers.filter((transfer) => transfer.kind === 'escrow')
      const refunds = transfers.filter((transfer) => transfer.kind === 'refund')
      const held = escrowBalanceOf(transfers)
      const queued = this.state.queue.includes(job.id)
      const where = `job ${job.id} (${job.state})`
      if (escrows.length !== 1 || escrows[0]?.amountMc !== job.maxPriceMc) {
        problems.push(`${where}: escrow transfers ${JSON.stringify(escrows)}`)
      }
      if (isFinalJobState(job.state)) {
        if (job.escrowHeld) problems.push(`${where}: still holds its escrow`)
        if (held !== 0) problems.push(`${where}: escrow released to ${held}, not 0`)
        if (refunds.length > 1) problems.push(`${where}: refunded ${refunds.length} times`)
        if (job.priceMc === null || job.priceMc > job.maxPriceMc) {
          problems.push(`${where}: price ${job.priceMc} of at most ${job.maxPriceMc}`)
        }
        if (queued) problems.push(`${where}: still queued`)
      } else {
        if (!job.escrowHeld) problems.push(`${where}: lost its escrow`)
        if (held !== job.maxPriceMc || transfers.length !== 1) {
          problems.push(`${where}: transfers before settling ${JSON.stringify(transfers)}`)
        }
        if (queued !== (job.state === 'queued')) problems.push(`${where}: queued is ${queued}`)
      }
    }
    return problems
  }

  /** A replica that applied the same entries from scratch, without restarts, holds the same bytes. */
  checkReplica(): void {
    const replica = createState()
    for (const entry of this.entries) apply(replica, entry)
    expect(encodeState(replica)).toBe(encodeState(this.state))
  }
}

function resultName(result: ReturnType<typeof apply>): string {
  return result.ok ? 'ok' : result.error.name
}

describe('ledger invariants', () => {
  it('should add up after every step when random commands, failures and restarts are applied', () => {
    const outcomes = new Map<string, number>()
    const results = new Map<string, number>()
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { minLength: 1, maxLength: STEPS_MAX, size: 'max' }),
        (steps) => {
          const run = new Run(results)
          // Most runs start with a mesh that can run jobs; bob's account opens only if a step
          // opens it, after his executor may already have earned pay.
          for (const step of SETUP) run.step(step)
          for (const step of steps) run.step(step)
          run.checkReplica()
          for (const job of run.state.jobs.values()) {
            outcomes.set(job.state, (outcomes.get(job.state) ?? 0) + 1)
          }
        },
      ),
      { seed: SEED, numRuns: RUNS, verbose: 1 },
    )
    // The sequence reached every final state, so the checks above were not vacuous.
    for (const state of ['succeeded', 'failed', 'timed_out', 'cancelled', 'queued', 'running']) {
      expect(outcomes.get(state) ?? 0, state).toBeGreaterThan(0)
    }
    // Every command was both accepted and refused for each reason it has.
    for (const key of EXPECTED_RESULTS) expect(results.get(key) ?? 0, key).toBeGreaterThan(0)
  })
})

describe('ledgerViolations', () => {
  /** What j000002, a job with default limits, holds in escrow: 6 000 + 1 500 mc. */
  const heldMc = priceMc(DEFAULT_POLICY, spec(), 60_000)

  function settled(): Ledger {
    const ledger = new Ledger().open('alice').open('bob').register('peer-1', 'bob')
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', spec())
    ledger.finish('j000001', fence, succeeded(2_000))
    ledger.submit('j000002', 'alice', spec())
    expect(ledgerViolations(ledger.state)).toEqual([])
    return ledger
  }

  it('should report the sum when one balance is bumped', () => {
    const ledger = settled()
    const bob = ledger.state.accounts.get('bob')
    if (bob === undefined) throw new Error('no bob')
    bob.balanceMc += 1
    expect(ledgerViolations(ledger.state)).toEqual(['accounts sum to 1, not zero'])
  })

  it('should report an account below zero when value moves into it from another', () => {
    const ledger = settled()
    const alice = ledger.state.accounts.get('alice')
    const bob = ledger.state.accounts.get('bob')
    if (alice === undefined || bob === undefined) throw new Error('no accounts')
    bob.balanceMc += alice.balanceMc + 5
    alice.balanceMc = -5
    expect(ledgerViolations(ledger.state)).toEqual(['alice is below zero: -5'])
  })

  it('should report the escrow when a held job is marked released', () => {
    const ledger = settled()
    ledger.job('j000002').escrowHeld = false
    const violations = ledgerViolations(ledger.state)
    expect(violations).toContain(`escrow holds ${heldMc} but open jobs reserve 0`)
    expect(violations).toContain(`alice shows ${heldMc} escrowed, jobs hold 0`)
  })

  it('should report an account whose escrowed figure drifted', () => {
    const ledger = settled()
    const alice = ledger.state.accounts.get('alice')
    if (alice === undefined) throw new Error('no alice')
    alice.escrowedMc = 0
    expect(ledgerViolations(ledger.state)).toEqual([`alice shows 0 escrowed, jobs hold ${heldMc}`])
  })
})
