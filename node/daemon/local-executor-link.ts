// The coordinator's link to the executor in this same process. It runs each assignment on the
// Docker runner and turns what happens into reports, exactly as a remote executor will.
import type { RunOutcome } from '../../ledger/index.ts'
import { handedBack } from '../../protocol/index.ts'
import type {
  Assignment,
  ExecutorCapacity,
  ExecutorLink,
  ExecutorReport,
} from '../coordinator/index.ts'

import type { JobRunner } from '../executor/index.ts'
export type { JobRunner }

/** Jobs this peer's executor client took from an earlier coordinator, still running when this
 * peer became coordinator: this link answers for them too (cancel, what runs here). */
export interface AdoptedJobs {
  runningJobs(): ReadonlyMap<string, number>
  cancel(jobId: string): void
}

interface Running {
  readonly fence: number
  readonly controller: AbortController
  done: Promise<void>
  handBack: boolean
}

export class LocalExecutorLink implements ExecutorLink {
  readonly peer: string
  readonly owner: string
  readonly #runner: JobRunner
  readonly #capacity: () => ExecutorCapacity | null
  #report: (report: ExecutorReport) => void
  readonly #observe: (report: ExecutorReport) => void
  readonly #running = new Map<string, Running>()
  #accepting = true
  #adopted: AdoptedJobs | null = null

  constructor(init: {
    peer: string
    owner: string
    runner: JobRunner
    capacity: () => ExecutorCapacity | null
    /** Where reports go until `routeThrough` names another way. */
    report: (report: ExecutorReport) => void
    /** Told of every report, whichever way it goes (metrics). */
    observe?: (report: ExecutorReport) => void
  }) {
    this.peer = init.peer
    this.owner = init.owner
    this.#runner = init.runner
    this.#capacity = init.capacity
    this.#report = init.report
    this.#observe = init.observe ?? (() => undefined)
  }

  /** Sends every report from now on to `route` (the executor client's relay): a job this
   * link started while its peer led outlives the leadership, and its output and result must
   * reach whichever peer leads now, kept until committed, not this peer's own scheduler. */
  routeThrough(route: (report: ExecutorReport) => void): void {
    this.#report = route
  }

  #send(report: ExecutorReport): void {
    this.#observe(report)
    this.#report(report)
  }

  capacity(): ExecutorCapacity | null {
    return this.#accepting ? this.#capacity() : null
  }

  runningJobs(): ReadonlySet<string> {
    return new Set([...this.#running.keys(), ...(this.#adopted?.runningJobs().keys() ?? [])])
  }

  /** The jobs it runs itself, with their fences (not the adopted ones): a hello to the next
   * coordinator lists them when this peer stops leading, so they are not declared lost. */
  list(): { jobId: string; fence: number }[] {
    return [...this.#running].map(([jobId, { fence }]) => ({ jobId, fence }))
  }

  /** Answers for `jobs` as for its own: their reports reach the scheduler by their own way. */
  adopt(jobs: AdoptedJobs): void {
    this.#adopted = jobs
  }

  assign(assignment: Assignment): void {
    const { jobId, fence } = assignment
    if (!this.#accepting) {
      this.#send({
        type: 'finished',
        jobId,
        fence,
        outcome: handedBack('the executor is stopping'),
      })
      return
    }
    const running: Running = {
      fence,
      controller: new AbortController(),
      done: Promise.resolve(),
      handBack: false,
    }
    this.#running.set(jobId, running)
    let seq = 0
    running.done = this.#runner
      .run(assignment, {
        signal: running.controller.signal,
        onStarted: () => this.#send({ type: 'started', jobId, fence }),
        onOutput: (stream, data) =>
          this.#send({ type: 'output', jobId, fence, stream, data, seq: seq++ }),
      })
      .then(
        (outcome) => {
          if (running.handBack) {
            this.#finish(jobId, fence, handedBack('the executor stopped while the job ran'))
          } else if (outcome.state !== 'cancelled') {
            // A cancelled run was ended by the log already; there is nothing left to report.
            this.#finish(jobId, fence, { ...outcome, state: outcome.state })
          }
        },
        (error: unknown) =>
          this.#finish(jobId, fence, handedBack(`executor error: ${String(error)}`)),
      )
      .finally(() => this.#running.delete(jobId))
  }

  #finish(jobId: string, fence: number, outcome: RunOutcome): void {
    this.#send({ type: 'finished', jobId, fence, outcome })
  }

  cancel(jobId: string): void {
    this.#running.get(jobId)?.controller.abort()
    this.#adopted?.cancel(jobId)
  }

  /** Stops taking jobs, lets running ones finish for up to `drainMs`, then kills the rest and
   * hands them back to the queue (the executor's fault: nobody pays for them). */
  async drain(drainMs: number): Promise<void> {
    this.#accepting = false
    const all = Promise.all([...this.#running.values()].map((running) => running.done))
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), drainMs)
    })
    const first = await Promise.race([all.then(() => 'done' as const), timeout])
    clearTimeout(timer)
    if (first === 'done') return
    for (const running of this.#running.values()) {
      running.handBack = true
      running.controller.abort()
    }
    await all
  }
}
