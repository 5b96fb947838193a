// The coordinator's end of one executor's stream, seen by the scheduler as an ExecutorLink:
// assignments go out and wait for their ack, cancels go out, heartbeats update capacity and
// load. The lease and the events live in the server; this file speaks the frames.
import type { Logger } from 'pino'
import {
  handedBack,
  type CoordinatorFrame,
  type ExecutorCapacity,
  type ExecutorFrame,
  type ExecutorLoad,
  type ExecutorReport,
} from '../../protocol/index.ts'
import type { FrameChannel } from './executor-channel.ts'
import type { Assignment, ExecutorLink } from './executor-link.ts'

/** How an assignment ended on the wire. It never rejects: a refusal is also reported to the
 * scheduler as a failure the executor caused, so the job goes back to the queue. */
export type AssignResult =
  { readonly acknowledged: true } | { readonly acknowledged: false; readonly reason: string }

/** A job the coordinator believes runs on an executor, with its assignment's fence. */
export interface RunningJob {
  readonly jobId: string
  readonly fence: number
}

export interface ExecutorSessionInit {
  readonly peer: string
  readonly owner: string
  readonly channel: FrameChannel<ExecutorFrame, CoordinatorFrame>
  readonly ackTimeoutMs: number
  readonly logger: Logger
  /** Where reports go; `synthesized` marks those made here for assignments that failed. */
  readonly report: (report: ExecutorReport, synthesized: boolean) => void
  /** Called with every job the executor took (ack) or refused, to keep the lease's list. */
  readonly took: (job: RunningJob) => void
}

interface PendingAssignment {
  readonly fence: number
  readonly timer: ReturnType<typeof setTimeout>
  readonly resolve: (result: AssignResult) => void
}

export class RemoteExecutorLink implements ExecutorLink {
  readonly peer: string
  readonly owner: string
  readonly #init: ExecutorSessionInit
  readonly #pending = new Map<string, PendingAssignment>()
  #capacity: ExecutorCapacity
  #load: ExecutorLoad

  constructor(init: ExecutorSessionInit, capacity: ExecutorCapacity, load: ExecutorLoad) {
    this.peer = init.peer
    this.owner = init.owner
    this.#init = init
    this.#capacity = capacity
    this.#load = load
  }

  get channel(): FrameChannel<ExecutorFrame, CoordinatorFrame> {
    return this.#init.channel
  }

  get connected(): boolean {
    return !this.#init.channel.closed
  }

  /** Null when the stream is gone or the executor has no runtime to offer. */
  capacity(): ExecutorCapacity | null {
    if (!this.connected || this.#capacity.runtimes.length === 0) return null
    return this.#capacity
  }

  /** As of the last heartbeat; the scheduler's own count from the log is the one it ranks on. */
  load(): ExecutorLoad | null {
    return this.connected ? this.#load : null
  }

  /** Capacity and load as of the last heartbeat, connected or not. */
  status(): { readonly capacity: ExecutorCapacity; readonly load: ExecutorLoad } {
    return { capacity: this.#capacity, load: this.#load }
  }

  /** Sends the assignment and resolves once the executor acks or refuses it, or after the ack
   * timeout (then the job is cancelled there and handed back as the executor's failure). */
  assign(assignment: Assignment): Promise<AssignResult> {
    const { jobId, fence, spec } = assignment
    const { promise, resolve } = Promise.withResolvers<AssignResult>()
    const earlier = this.#pending.get(jobId)
    if (earlier !== undefined) this.#settle(jobId, { acknowledged: false, reason: 'reassigned' })
    try {
      this.#init.channel.send({ type: 'assign', jobId, fence, spec })
    } catch (error) {
      this.#refused(jobId, fence, `the executor is unreachable: ${(error as Error).message}`)
      return Promise.resolve({ acknowledged: false, reason: 'unreachable' })
    }
    const timer = setTimeout(() => {
      this.cancel(jobId)
      this.#refused(jobId, fence, 'the executor did not acknowledge the assignment in time')
      this.#settle(jobId, { acknowledged: false, reason: 'timeout' })
    }, this.#init.ackTimeoutMs)
    this.#pending.set(jobId, { fence, timer, resolve })
    return promise
  }

  cancel(jobId: string): void {
    if (!this.connected) return
    try {
      this.#init.channel.send({ type: 'cancel', jobId })
    } catch (error) {
      this.#init.logger.warn({ peer: this.peer, jobId, err: error }, 'cancel not sent')
    }
  }

  /** Handles one frame after the hello. Returns false for a frame out of place. */
  handle(frame: ExecutorFrame): boolean {
    switch (frame.type) {
      case 'heartbeat':
        this.#capacity = frame.capacity
        this.#load = frame.load
        return true
      case 'ack':
      case 'refuse':
        return this.#answer(frame)
      case 'report':
        this.#init.report(frame.report, false)
        return true
      case 'hello':
        return false
    }
  }

  /** Sends the ack that lets the executor forget a finished report. */
  acknowledgeReport(jobId: string, fence: number): void {
    if (!this.connected) return
    try {
      this.#init.channel.send({ type: 'report-ack', jobId, fence })
    } catch (error) {
      // The executor resends the report to whoever is coordinator next; that one acks it.
      this.#init.logger.debug({ peer: this.peer, jobId, err: error }, 'report ack not sent')
    }
  }

  #answer(frame: Extract<ExecutorFrame, { type: 'ack' | 'refuse' }>): boolean {
    const pending = this.#pending.get(frame.jobId)
    // A late answer, after the timeout, finds nothing: the job was handed back already.
    if (pending === undefined || pending.fence !== frame.fence) return true
    if (frame.type === 'ack') {
      this.#init.took({ jobId: frame.jobId, fence: frame.fence })
      this.#settle(frame.jobId, { acknowledged: true })
    } else {
      this.#refused(frame.jobId, frame.fence, `the executor refused the job: ${frame.reason}`)
      this.#settle(frame.jobId, { acknowledged: false, reason: frame.reason })
    }
    return true
  }

  #refused(jobId: string, fence: number, reason: string): void {
    const outcome = handedBack(reason)
    this.#init.report({ type: 'finished', jobId, fence, outcome }, true)
  }

  #settle(jobId: string, result: AssignResult): void {
    const pending = this.#pending.get(jobId)
    if (pending === undefined) return
    clearTimeout(pending.timer)
    this.#pending.delete(jobId)
    pending.resolve(result)
  }

  /** The stream ended: assignments still waiting may or may not have reached the executor.
   * They stay on the lease's list; a reconnect's hello or the lease's expiry settles them. */
  closed(): RunningJob[] {
    const unanswered = [...this.#pending].map(([jobId, { fence }]) => ({ jobId, fence }))
    for (const { jobId } of unanswered) {
      this.#settle(jobId, { acknowledged: false, reason: 'disconnected' })
    }
    return unanswered
  }
}
