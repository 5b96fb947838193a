// The coordinator's scheduler: matches queued jobs, first in first out, to executors with
// room for them, and turns executors' reports into log entries. Load is derived from the
// replicated state (jobs assigned or running on each executor), so it cannot drift from it.
import type { Logger } from 'pino'
import { escrowExpiresAt, unfinishedJobs } from '../../ledger/index.ts'
import type { ApplyResult, Command, Entry, Job, RaftDriver } from '../../ledger/index.ts'
import type { Clock } from '../../ledger/index.ts'
import { childrenToStop, SiblingPlacement } from '../shards/index.ts'
import { RoundCloser } from '../training/index.ts'
import type { ExecutorLink, ExecutorReport } from './executor-link.ts'
import type { LiveLogs } from './live-logs.ts'

export interface SchedulerInit {
  readonly ledger: RaftDriver
  readonly liveLogs: LiveLogs
  readonly clock: Clock
  readonly logger: Logger
  /** How often escrows are checked for expiry. */
  readonly expiryCheckMs?: number
}

interface HeldStart {
  readonly fence: number
  readonly promise: Promise<boolean>
  readonly resolve: (taken: boolean | Promise<boolean>) => void
}

interface Load {
  cpus: number
  memoryMb: number
}

export class Scheduler {
  readonly #init: SchedulerInit
  readonly #links = new Map<string, ExecutorLink>()
  /** Jobs whose assignment is proposed but not yet applied. */
  readonly #assigning = new Set<string>()
  /** Started reports held until the loop's next turn (see #heldStart). */
  readonly #starts = new Map<string, HeldStart>()
  #startsQueued = false
  #pumpQueued = false
  #expiryTimer: ReturnType<typeof setInterval> | null = null
  #unsubscribe: (() => void) | null = null
  /** Closes training rounds at their deadlines while this peer schedules. */
  readonly #rounds: RoundCloser

  constructor(init: SchedulerInit) {
    this.#init = init
    this.#rounds = new RoundCloser(init)
  }

  start(): void {
    if (this.#unsubscribe !== null) return
    this.#unsubscribe = this.#init.ledger.onApplied((entry, result) => this.#applied(entry, result))
    this.#expiryTimer = setInterval(() => this.#expire(), this.#init.expiryCheckMs ?? 30_000)
    this.#expiryTimer.unref()
    this.#rounds.start()
    this.#schedulePump()
  }

  /** Stops scheduling and drops what it held in memory, so that a later start() (this peer
   * leads again) works from the replicated state alone. */
  stop(): void {
    this.#unsubscribe?.()
    this.#unsubscribe = null
    if (this.#expiryTimer !== null) clearInterval(this.#expiryTimer)
    this.#expiryTimer = null
    this.#rounds.stop()
    this.#assigning.clear()
    // Not proposed: the executor's finished report, which it keeps until committed, says it ran.
    for (const held of this.#starts.values()) held.resolve(false)
    this.#starts.clear()
  }

  /** Adds an executor. Jobs the state shows on it that it is not running are lost (it
   * restarted, or lost them): they are requeued or, past the retry limit, refunded. */
  addExecutor(link: ExecutorLink, running: ReadonlySet<string>): void {
    this.#links.set(link.peer, link)
    for (const job of unfinishedJobs(this.#init.ledger.localRead())) {
      if (job.executor !== link.peer || job.fence === null || running.has(job.id)) continue
      this.#propose(
        { type: 'job.lost', jobId: job.id, fence: job.fence, reason: 'its executor restarted' },
        'lost',
      )
    }
    this.#schedulePump()
  }

  /** An executor can take more (or other) jobs than before: look at the queue again. */
  capacityChanged(): void {
    this.#schedulePump()
  }

  /** With `link`, only if it is still the one of `peer`: a stream that ends late must not
   * remove the link its executor reconnected with. */
  removeExecutor(peer: string, link?: ExecutorLink): void {
    if (link !== undefined && this.#links.get(peer) !== link) return
    this.#links.delete(peer)
  }

  /** Executors call this with every report; it never rejects. It resolves true once the
   * report's proposal is committed or refused by the state for good (a stale fence), false
   * when the proposal failed (no quorum, a change of coordinator, overload): the executor
   * keeps a finished report until true, and sends it again otherwise. */
  report(report: ExecutorReport): Promise<boolean> {
    switch (report.type) {
      case 'started':
        return this.#heldStart(report.jobId, report.fence)
      case 'output':
        this.#init.liveLogs.append(
          report.jobId,
          report.stream,
          report.data,
          report.seq === undefined ? undefined : { fence: report.fence, seq: report.seq },
        )
        return Promise.resolve(true)
      case 'finished': {
        const finished = this.#propose(
          {
            type: 'job.finish',
            jobId: report.jobId,
            fence: report.fence,
            outcome: report.outcome,
          },
          'finish',
        )
        // The start of this run, still held, goes in with the finish: job.finish of an assigned
        // job records both, so a job shorter than a commit costs one entry less.
        const held = this.#starts.get(report.jobId)
        if (held?.fence === report.fence) {
          this.#starts.delete(report.jobId)
          held.resolve(finished)
        }
        return finished
      }
    }
  }

  /** Holds a started report until the event loop's next turn (setImmediate: after the frames
   * and callbacks under way), when it is proposed, unless the run's finish came meanwhile. */
  #heldStart(jobId: string, fence: number): Promise<boolean> {
    const earlier = this.#starts.get(jobId)
    if (earlier?.fence === fence) return earlier.promise
    const { promise, resolve } = Promise.withResolvers<boolean>()
    earlier?.resolve(this.#propose({ type: 'job.start', jobId, fence: earlier.fence }, 'start'))
    this.#starts.set(jobId, { fence, promise, resolve })
    if (!this.#startsQueued) {
      this.#startsQueued = true
      setImmediate(() => {
        this.#startsQueued = false
        const held = [...this.#starts]
        this.#starts.clear()
        for (const [id, start] of held) {
          start.resolve(
            this.#propose({ type: 'job.start', jobId: id, fence: start.fence }, 'start'),
          )
        }
      })
    }
    return promise
  }

  #applied(entry: Entry, result: ApplyResult): void {
    const { command } = entry
    if (result.ok && (command.type === 'job.cancel' || command.type === 'job.expire')) {
      const job = this.#init.ledger.localRead().jobs.get(command.jobId)
      if (job !== undefined) this.#cancelOnExecutor(job, entry)
    }
    if (result.ok) {
      // A sharded job that ended cancelled its running children in the state: stop them too.
      for (const id of childrenToStop(this.#init.ledger.localRead(), command)) {
        for (const link of this.#links.values()) link.cancel(id)
      }
    }
    if (result.ok && command.type.startsWith('job.')) {
      const job = this.#init.ledger.localRead().jobs.get((command as { jobId: string }).jobId)
      if (job !== undefined && job.finishedAt !== null) this.#init.liveLogs.end(job.id, job.state)
    }
    this.#schedulePump()
  }

  #cancelOnExecutor(job: Job, entry: Entry): void {
    // The entry just ended the job; whichever executor still runs it must kill it now.
    for (const link of this.#links.values()) link.cancel(job.id)
    this.#init.logger.debug({ jobId: job.id, index: entry.index }, 'job ended; executors told')
  }

  /** Queues one pump on the event loop: many entries applied together cause one pass. */
  #schedulePump(): void {
    if (this.#pumpQueued) return
    this.#pumpQueued = true
    setImmediate(() => {
      this.#pumpQueued = false
      this.#pump()
    })
  }

  #pump(): void {
    const state = this.#init.ledger.localRead()
    const loads = this.#loads()
    const placement = new SiblingPlacement(state)
    for (const jobId of state.queue) {
      if (this.#assigning.has(jobId)) continue
      const job = state.jobs.get(jobId)
      if (job === undefined) continue
      const link = this.#pick(job, loads, placement)
      // First in, first out: a job that does not fit yet holds back the ones after it, so a big
      // job is not starved by small ones. One that no executor here could run even idle (its
      // runtime, CPUs or memory) waits for one that can without holding back the rest.
      if (link === undefined) {
        if (this.#fitsSomeIdleExecutor(job)) break
        continue
      }
      const load = loads.get(link.peer) as Load
      load.cpus += job.spec.cpus
      load.memoryMb += job.spec.memoryMb
      placement.placed(job, link.peer)
      this.#assign(job, link)
    }
  }

  #loads(): Map<string, Load> {
    const loads = new Map<string, Load>()
    for (const peer of this.#links.keys()) loads.set(peer, { cpus: 0, memoryMb: 0 })
    for (const job of unfinishedJobs(this.#init.ledger.localRead())) {
      if (job.executor === null || (job.state !== 'assigned' && job.state !== 'running')) continue
      const load = loads.get(job.executor)
      if (load === undefined) continue
      load.cpus += job.spec.cpus
      load.memoryMb += job.spec.memoryMb
    }
    return loads
  }

  /** The executor with the most free CPU that fits the job, if any; for a shard, first one
   * with the fewest of its siblings (and not one it failed on). */
  #pick(job: Job, loads: Map<string, Load>, placement: SiblingPlacement): ExecutorLink | undefined {
    let best: ExecutorLink | undefined
    let bestFree = -1
    let bestPenalty = Infinity
    for (const link of this.#links.values()) {
      const capacity = link.capacity()
      const load = loads.get(link.peer)
      if (capacity === null || load === undefined) continue
      if (!capacity.runtimes.includes(job.spec.runtime)) continue
      const freeCpus = capacity.cpus - load.cpus
      // Float sums of 0.1 steps: compare with a small tolerance.
      if (freeCpus + 1e-9 < job.spec.cpus) continue
      if (capacity.memoryMb - load.memoryMb < job.spec.memoryMb) continue
      const penalty = placement.penalty(job, link.peer)
      if (penalty < bestPenalty || (penalty === bestPenalty && freeCpus > bestFree)) {
        best = link
        bestFree = freeCpus
        bestPenalty = penalty
      }
    }
    return best
  }

  #fitsSomeIdleExecutor(job: Job): boolean {
    for (const link of this.#links.values()) {
      const capacity = link.capacity()
      if (capacity === null || !capacity.runtimes.includes(job.spec.runtime)) continue
      if (capacity.cpus + 1e-9 >= job.spec.cpus && capacity.memoryMb >= job.spec.memoryMb) {
        return true
      }
    }
    return false
  }

  #assign(job: Job, link: ExecutorLink): void {
    this.#assigning.add(job.id)
    this.#init.ledger
      .propose({ type: 'job.assign', jobId: job.id, executor: link.peer })
      .then((result) => {
        if (!result.ok) {
          this.#init.logger.warn({ jobId: job.id, error: result.error }, 'assignment refused')
          return
        }
        const { fence } = result.value as { fence: number }
        // A job cancelled in the same batch as its assignment is final and has no code left
        // to run; the cancel has reached the executors already.
        if (job.code === null) return
        link.assign({ jobId: job.id, fence, spec: { ...job.spec, code: job.code } })
      })
      .catch((error: unknown) => this.#init.logger.error({ err: error, jobId: job.id }, 'assign'))
      .finally(() => {
        this.#assigning.delete(job.id)
        this.#schedulePump()
      })
  }

  #expire(): void {
    const now = this.#init.clock.now()
    for (const job of unfinishedJobs(this.#init.ledger.localRead())) {
      if (escrowExpiresAt(job) <= now)
        this.#propose({ type: 'job.expire', jobId: job.id }, 'expire')
    }
  }

  /** Proposes a command whose refusal is expected now and then (a stale report): log it.
   * True once committed (applied or refused), false when the proposal failed. */
  #propose(command: Command, what: string): Promise<boolean> {
    return this.#init.ledger.propose(command).then(
      (result) => {
        if (!result.ok) this.#init.logger.info({ command: command.type, error: result.error }, what)
        return true
      },
      (error: unknown) => {
        this.#init.logger.error({ err: error, command: command.type }, what)
        return false
      },
    )
  }
}
