// The executor's side of `/gridx/executor/1.0.0`, a libp2p service in the js-libp2p shape
// (`executorClient(init)(components)`, start/stop). It dials out to the coordinator (so the
// executor needs no open port), keeps one stream, says hello with the jobs it runs, pushes
// heartbeats, runs assignments through the injected runner and reports with their fence.
// When the stream breaks it asks `findCoordinator` again and reconnects with backoff; jobs go
// on running meanwhile and their reports wait in a bounded buffer for the next coordinator.
import {
  backoffDelayMs,
  coordinatorFrameSchema,
  EXECUTOR_ACK_TIMEOUT_MS,
  EXECUTOR_DIAL_TIMEOUT_MS,
  EXECUTOR_JOBS_MAX,
  EXECUTOR_PROTOCOL,
  EXECUTOR_RECONNECT_MS_MAX,
  EXECUTOR_RECONNECT_MS_MIN,
  type CoordinatorFrame,
  type ExecutorCapacity,
  type ExecutorFrame,
  type ExecutorLoad,
  type ExecutorReport,
} from '../../protocol/index.ts'
import { FrameChannel } from '../coordinator/index.ts'
import {
  NoWelcomeError,
  SilentCoordinatorError,
  type ExecutorClientComponents,
  type ExecutorClientInit,
  type LocalSink,
} from './executor-client-init.ts'
import { ExecutorJobs } from './executor-jobs.ts'
import { HeldStarts } from './held-starts.ts'
import { dialTargets, sleep } from './executor-dial.ts'
import { LocalDelivery } from './executor-client-local.ts'
import { ReportBuffer } from './executor-reports.ts'

type Channel = FrameChannel<CoordinatorFrame, ExecutorFrame>

export class ExecutorClient {
  readonly #components: ExecutorClientComponents
  readonly #init: ExecutorClientInit
  readonly #reports: ReportBuffer
  readonly #jobs: ExecutorJobs
  #channel: Channel | null = null
  readonly #local: LocalDelivery
  /** Aborted when the current stream ends. */
  #streamEnded: AbortSignal = AbortSignal.abort()
  #abort = new AbortController()
  #loop: Promise<void> = Promise.resolve()
  #streamsOpened = 0
  readonly #starts = new HeldStarts((report) => this.#send(report))

  constructor(components: ExecutorClientComponents, init: ExecutorClientInit) {
    this.#components = components
    this.#init = init
    this.#reports = new ReportBuffer(init.reportBufferMax)
    this.#jobs = new ExecutorJobs({
      runner: init.runner,
      report: (report) => this.#report(report),
      logger: init.logger,
    })
    this.#local = new LocalDelivery({
      reports: this.#reports,
      backoffMs: (attempt) =>
        backoffDelayMs(
          attempt,
          init.reconnectMsMin ?? EXECUTOR_RECONNECT_MS_MIN,
          init.reconnectMsMax ?? EXECUTOR_RECONNECT_MS_MAX,
          (init.random ?? Math.random)(),
        ),
      signal: () => this.#abort.signal,
      logger: init.logger,
    })
  }

  readonly [Symbol.toStringTag] = 'gridx:executor-client'

  get connected(): boolean {
    return this.#channel !== null && !this.#channel.closed
  }

  /** Streams opened since start: one per connection to a coordinator. */
  get streamsOpened(): number {
    return this.#streamsOpened
  }

  /** Reports waiting for a coordinator (finished ones until acknowledged), and those the
   * bound made it drop. */
  get reportBuffer(): { readonly size: number; readonly dropped: number } {
    return this.#reports
  }

  runningJobs(): ReadonlyMap<string, number> {
    return this.#jobs.fences()
  }

  /** A report of a job this peer runs outside the client (its local link's): it goes the
   * way the client's own do, to this peer's scheduler while it leads, else to whichever peer
   * is coordinator, and a finished one is kept until that coordinator has committed it. */
  relay(report: ExecutorReport): void {
    this.#report(report)
  }

  /** Kills one job's container, if it runs here, wherever the cancel comes from. */
  cancel(jobId: string): void {
    this.#jobs.cancel(jobId)
  }

  /**
   * While this peer is the coordinator there is none to dial: the jobs it took from its
   * predecessor go on, and their reports (those kept meanwhile first) go to `sink`, the
   * coordinator in this process. A finished report is forgotten once the sink's promise
   * resolves (the scheduler's: committed or refused), and is sent again, with backoff, while it
   * resolves false (its proposal failed). Returns the detach, for when this peer stops
   * leading: reports then wait for the next coordinator's stream again.
   */
  serveLocally(sink: LocalSink): () => void {
    return this.#local.attach(sink)
  }

  start(): void {
    this.#abort = new AbortController()
    this.#jobs.accepting = true
    this.#loop = this.#run(this.#abort.signal)
  }

  /** Stops taking jobs, lets the running ones finish for up to `drainMs` and hands the rest
   * back (each reported, so the coordinator requeues it without waiting out a lease), waits a
   * bounded time for the coordinator to acknowledge those results, then closes the stream. */
  async stop(drainMs = 0): Promise<void> {
    this.#jobs.accepting = false
    // The local link's jobs report through this client too: their results come before the end.
    await Promise.all([this.#jobs.drain(drainMs), this.#init.localJobs?.drain?.(drainMs)])
    if (this.#local.attached) await this.#reports.settled(this.#ackTimeoutMs())
    else if (this.connected) await this.#reports.settled(this.#ackTimeoutMs(), this.#streamEnded)
    this.#abort.abort(new Error('the executor client stopped'))
    await this.#channel?.close(this.#ackTimeoutMs())
    await this.#loop
  }

  async #run(signal: AbortSignal): Promise<void> {
    let attempt = 0
    while (!signal.aborted) {
      try {
        if (await this.#connect(signal)) attempt = 0
      } catch (error) {
        if (!signal.aborted) this.#init.logger.debug({ err: error }, 'coordinator unreachable')
      }
      if (signal.aborted) break
      const delayMs = backoffDelayMs(
        attempt,
        this.#init.reconnectMsMin ?? EXECUTOR_RECONNECT_MS_MIN,
        this.#init.reconnectMsMax ?? EXECUTOR_RECONNECT_MS_MAX,
        (this.#init.random ?? Math.random)(),
      )
      attempt += 1
      await sleep(delayMs, signal)
    }
  }

  /** One connection, from the dial to the end of its stream. True if it got a welcome. */
  async #connect(signal: AbortSignal): Promise<boolean> {
    const dialSignal = () =>
      AbortSignal.any([
        signal,
        AbortSignal.timeout(this.#init.dialTimeoutMs ?? EXECUTOR_DIAL_TIMEOUT_MS),
      ])
    const target = await this.#init.findCoordinator(dialSignal())
    if (target === undefined) return false
    const coordinator = target.peerId.toString()
    const connection = await this.#components.connectionManager.openConnection(
      dialTargets(target),
      { signal: dialSignal() },
    )
    const stream = await connection.newStream(EXECUTOR_PROTOCOL, { signal: dialSignal() })
    this.#streamsOpened += 1
    const channel: Channel = new FrameChannel({
      stream,
      schema: coordinatorFrameSchema,
      writeTimeoutMs: this.#ackTimeoutMs(),
    })
    let welcome: Extract<CoordinatorFrame, { type: 'welcome' }>
    try {
      channel.send({ type: 'hello', running: this.#heldJobs(), ...this.#status() })
      const timeout = AbortSignal.timeout(this.#ackTimeoutMs())
      const first = await channel.read(AbortSignal.any([signal, timeout]))
      if (first?.type !== 'welcome') throw new NoWelcomeError(`got ${first?.type ?? 'EOF'}`)
      welcome = first
    } catch (error) {
      channel.abort(error instanceof Error ? error : new Error(String(error)))
      throw error
    }
    await this.#serve(coordinator, channel, welcome, signal)
    return true
  }

  /** The jobs whose fate this executor holds, for its hello: those it runs, then those whose
   * finished report awaits an ack, then those of this peer's local link (`localJobs`). A new
   * coordinator declares lost every job of this executor that the hello leaves out, and the
   * resent report comes only after the hello: a run that ended while no coordinator was there
   * would be thrown away and run again. At most
   * EXECUTOR_JOBS_MAX, as a hello carries; the ones past it are declared lost. */
  #heldJobs(): { jobId: string; fence: number }[] {
    const local = this.#init.localJobs?.list() ?? []
    const held = new Map<string, number>()
    for (const job of [...this.#jobs.list(), ...this.#reports.awaitingAck(), ...local]) {
      if (!held.has(job.jobId)) held.set(job.jobId, job.fence)
    }
    return [...held].slice(0, EXECUTOR_JOBS_MAX).map(([jobId, fence]) => ({ jobId, fence }))
  }

  /** Serves one stream until it ends, or until the coordinator has said nothing for a lease
   * (it renews on every heartbeat), which is how a partition shows. Heartbeats go at the
   * coordinator's pace, since its lease is the one they must keep, unless `heartbeatMs` is
   * set. */
  async #serve(
    coordinator: string,
    channel: Channel,
    { leaseMs, heartbeatMs }: Extract<CoordinatorFrame, { type: 'welcome' }>,
    signal: AbortSignal,
  ): Promise<void> {
    this.#channel = channel
    const ended = new AbortController()
    this.#streamEnded = ended.signal
    this.#reports.resend((report) => this.#trySend(channel, { type: 'report', report }))
    const heartbeat = setInterval(
      () => this.#trySend(channel, { type: 'heartbeat', ...this.#status() }),
      this.#init.heartbeatMs ?? heartbeatMs,
    )
    this.#init.onConnected?.(coordinator)
    let reason = 'the coordinator closed the stream'
    // One timer for the stream's life, pushed back by every frame, rather than one per read.
    const silence = new AbortController()
    const watchdog = setTimeout(() => silence.abort(new SilentCoordinatorError()), leaseMs)
    const readSignal = AbortSignal.any([signal, silence.signal])
    try {
      for (;;) {
        const frame = await channel.read(readSignal)
        if (frame === null) break
        watchdog.refresh()
        this.#handle(channel, frame)
      }
    } catch (error) {
      reason = String((error as Error).message)
      channel.abort(error instanceof Error ? error : new Error(reason))
    } finally {
      clearTimeout(watchdog)
      clearInterval(heartbeat)
      this.#channel = null
      ended.abort()
    }
    await channel.close(this.#ackTimeoutMs())
    this.#init.onDisconnected?.(coordinator, reason)
  }

  #handle(channel: Channel, frame: CoordinatorFrame): void {
    switch (frame.type) {
      case 'assign': {
        const refusal = this.#jobs.assign(frame)
        const { jobId, fence } = frame
        if (refusal === null) this.#trySend(channel, { type: 'ack', jobId, fence })
        else this.#trySend(channel, { type: 'refuse', jobId, fence, reason: refusal })
        // The ack goes out before the job can report, so the coordinator sees them in order.
        if (refusal === null) this.#jobs.run(jobId)
        return
      }
      case 'cancel':
        this.#jobs.cancel(frame.jobId)
        this.#init.localJobs?.cancel(frame.jobId)
        return
      case 'report-ack':
        this.#reports.acknowledge(frame.jobId, frame.fence)
        return
      case 'welcome':
      case 'renewed':
        return
    }
  }

  /** Every report of a job run here; a start waits a turn for its finish (held-starts.ts). */
  #report(report: ExecutorReport): void {
    this.#starts.send(report)
  }

  #send(report: ExecutorReport): void {
    if (this.#local.deliver(report)) return
    const channel = this.#channel
    const sent = channel !== null && this.#trySend(channel, { type: 'report', report })
    if (!sent || report.type === 'finished') this.#reports.keep(report)
  }

  #trySend(channel: Channel, frame: ExecutorFrame): boolean {
    if (channel.closed) return false
    try {
      channel.send(frame)
      return true
    } catch (error) {
      this.#init.logger.debug({ err: error }, 'frame not sent to the coordinator')
      return false
    }
  }

  #status(): { capacity: ExecutorCapacity; load: ExecutorLoad } {
    return { capacity: this.#init.capacity(), load: this.#init.load?.() ?? this.#jobs.load() }
  }

  #ackTimeoutMs(): number {
    return this.#init.ackTimeoutMs ?? EXECUTOR_ACK_TIMEOUT_MS
  }
}

/** The libp2p service factory: `services: { executorClient: executorClient(init) }`. */
export function executorClient(
  init: ExecutorClientInit,
): (components: ExecutorClientComponents) => ExecutorClient {
  return (components) => new ExecutorClient(components, init)
}
