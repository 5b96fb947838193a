// The coordinator's side of `/gridx/executor/1.0.0`, a libp2p service in the js-libp2p shape
// (`executorServer(init)(components)`, start/stop). Executors dial in and keep one stream;
// each becomes an ExecutorLink for the scheduler, with a lease that heartbeats renew.
//
// Lease contract: a lease starts with an executor's hello and lasts `leaseMs` past its last
// heartbeat. A stream that ends does not end the lease: an executor that reconnects within it
// (to this coordinator after a blip) loses nothing. When a lease runs out, `leaseExpired`
// names the jobs the coordinator believed ran there; the scheduler marks them lost.
//
// Grace: a coordinator that just started knows nothing of the executors of its predecessor,
// so it must not declare any executor's jobs lost before each had one lease to reconnect.
// `graceUntil` (on the injected clock) is that instant and `whenGraceOver()` resolves at it;
// after it, an executor of the replicated state with no lease here (`hasLease`) is gone.
import type { Connection, Stream } from '@libp2p/interface'
import {
  EXECUTOR_ACK_TIMEOUT_MS,
  EXECUTOR_FRAME_BYTES_MAX,
  EXECUTOR_HEARTBEAT_MS,
  EXECUTOR_LEASE_MS,
  EXECUTOR_PROTOCOL,
  EXECUTORS_MAX,
  EXECUTOR_STREAMS_PER_CONNECTION_MAX,
  executorFrameSchema,
  type CoordinatorFrame,
  type ExecutorFrame,
  type ExecutorReport,
} from '../../protocol/index.ts'
import { FrameChannel, InvalidFrameError } from './executor-channel.ts'
import { RemoteExecutorLink, type RunningJob } from './executor-session.ts'
import { ExecutorLeases } from './executor-leases.ts'
import type {
  ExecutorServerComponents,
  ExecutorServerEvents,
  ExecutorServerInit,
  ExecutorServerStats,
} from './executor-server-init.ts'

export class ExecutorServer {
  readonly protocol = EXECUTOR_PROTOCOL
  readonly stats: ExecutorServerStats = { refusedStreams: 0, invalidFrames: 0 }
  readonly #components: ExecutorServerComponents
  readonly #init: ExecutorServerInit
  readonly #leaseMs: number
  readonly #ackTimeoutMs: number
  readonly #links = new Map<string, RemoteExecutorLink>()
  readonly #leases: ExecutorLeases
  /** When each executor's hello or latest heartbeat came (`now`), kept after it leaves: what
   * `gridx peers` shows. At most one per admitted peer; cleared when the server stops. */
  readonly #heartbeats = new Map<string, number>()
  #abort = new AbortController()
  #started = false
  #graceUntil = 0

  constructor(components: ExecutorServerComponents, init: ExecutorServerInit) {
    this.#components = components
    this.#init = init
    this.#leaseMs = init.leaseMs ?? EXECUTOR_LEASE_MS
    this.#ackTimeoutMs = init.ackTimeoutMs ?? EXECUTOR_ACK_TIMEOUT_MS
    this.#leases = new ExecutorLeases(this.#leaseMs, (peer, running) =>
      this.#expired(peer, running),
    )
  }

  readonly [Symbol.toStringTag] = 'gridx:executor-server'

  async start(): Promise<void> {
    this.#abort = new AbortController()
    this.#graceUntil = this.#now() + this.#leaseMs
    await this.#components.registrar.handle(this.protocol, this.#onStream, {
      maxInboundStreams: EXECUTOR_STREAMS_PER_CONNECTION_MAX,
      maxOutboundStreams: 0,
    })
    this.#started = true
  }

  /** Closes every stream and forgets every lease, without events: a coordinator that steps
   * down declares nothing lost; its successor's grace covers the executors. */
  async stop(): Promise<void> {
    if (!this.#started) return
    this.#started = false
    this.#abort.abort(new Error('the executor server stopped'))
    await this.#components.registrar.unhandle(this.protocol)
    const links = [...this.#links.values()]
    this.#links.clear()
    this.#leases.clear()
    this.#heartbeats.clear()
    await Promise.all(links.map((link) => link.channel.close(this.#ackTimeoutMs)))
  }

  /** Instant (on the injected clock) before which no executor may be declared lost. */
  get graceUntil(): number {
    return this.#graceUntil
  }

  /** Resolves at `graceUntil`, or rejects with the signal's reason. */
  whenGraceOver(signal?: AbortSignal): Promise<void> {
    const waitMs = Math.max(0, this.#graceUntil - this.#now())
    return new Promise((resolve, reject) => {
      const aborted = () => {
        clearTimeout(timer)
        reject(signal?.reason)
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', aborted)
        resolve()
      }, waitMs)
      signal?.addEventListener('abort', aborted, { once: true })
    })
  }

  /** When the executor's latest heartbeat (or hello) came, or null if none came here. */
  lastHeartbeatMs(peer: string): number | null {
    return this.#heartbeats.get(peer) ?? null
  }

  hasLease(peer: string): boolean {
    return this.#leases.has(peer)
  }

  links(): RemoteExecutorLink[] {
    return [...this.#links.values()]
  }

  link(peer: string): RemoteExecutorLink | undefined {
    return this.#links.get(peer)
  }

  readonly #onStream = (stream: Stream, connection: Connection): void => {
    const peer = connection.remotePeer.toString()
    this.#serve(stream, peer).catch((error: unknown) => {
      // Every expected failure is handled inside; this is a bug, and the stream must not live.
      this.#init.logger.error({ err: error, peer }, 'executor stream failed')
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    })
  }

  async #serve(stream: Stream, peer: string): Promise<void> {
    const channel = new FrameChannel<ExecutorFrame, CoordinatorFrame>({
      stream,
      schema: executorFrameSchema,
      frameBytesMax: this.#init.frameBytesMax ?? EXECUTOR_FRAME_BYTES_MAX,
      writeTimeoutMs: this.#ackTimeoutMs,
    })
    const full = this.#links.size >= (this.#init.executorsMax ?? EXECUTORS_MAX)
    if (!this.#started || !this.#init.isAdmitted(peer) || (full && !this.#links.has(peer))) {
      this.stats.refusedStreams += 1
      this.#init.logger.warn({ peer, full }, 'executor stream refused')
      channel.abort(new Error('refused'))
      return
    }
    const link = await this.#hello(peer, channel)
    if (link === null) return
    await this.#readLoop(peer, link)
  }

  async #hello(
    peer: string,
    channel: FrameChannel<ExecutorFrame, CoordinatorFrame>,
  ): Promise<RemoteExecutorLink | null> {
    let hello: ExecutorFrame | null
    try {
      const timeout = AbortSignal.timeout(this.#ackTimeoutMs)
      hello = await channel.read(AbortSignal.any([this.#abort.signal, timeout]))
      if (hello !== null && hello.type !== 'hello') throw new InvalidFrameError('no hello first')
    } catch (error) {
      this.#cutOff(peer, channel, error)
      return null
    }
    if (hello === null || !this.#started) {
      channel.abort(new Error('closed before its hello'))
      return null
    }
    const link = new RemoteExecutorLink(
      {
        peer,
        owner: this.#init.ownerOf?.(peer) ?? peer,
        channel,
        ackTimeoutMs: this.#ackTimeoutMs,
        logger: this.#init.logger,
        report: (report, synthesized) => this.#report(link, report, synthesized),
        took: (job) => this.#leases.add(peer, job),
      },
      hello.capacity,
      hello.load,
    )
    // A second stream from the same executor replaces the first (it reconnected before its
    // old connection was reaped); the lease carries over, its jobs are those of the new hello.
    this.#links.get(peer)?.channel.abort(new Error('replaced by a new stream'))
    this.#links.set(peer, link)
    this.#leases.renew(peer, hello.running)
    this.#heartbeats.set(peer, this.#now())
    try {
      channel.send({ type: 'welcome', leaseMs: this.#leaseMs, heartbeatMs: this.#heartbeatMs() })
    } catch (error) {
      // Gone between its hello and our answer: its read loop sees the end and reports it left.
      this.#init.logger.debug({ peer, err: error }, 'welcome not sent')
    }
    this.#emit('joined', () => this.#init.events.joined?.(link, hello.running))
    return link
  }

  async #readLoop(peer: string, link: RemoteExecutorLink): Promise<void> {
    let reason = 'the executor closed its stream'
    try {
      for (;;) {
        const frame = await link.channel.read(this.#abort.signal)
        if (frame === null) break
        const before = frame.type === 'heartbeat' ? JSON.stringify(link.status()) : ''
        if (!link.handle(frame)) throw new InvalidFrameError(`a ${frame.type} out of place`)
        if (frame.type !== 'heartbeat') continue
        this.#leases.renew(peer)
        this.#heartbeats.set(peer, this.#now())
        link.channel.send({ type: 'renewed', leaseMs: this.#leaseMs })
        if (JSON.stringify(link.status()) !== before) {
          this.#emit('capacityChanged', () => this.#init.events.capacityChanged?.(link))
        }
      }
    } catch (error) {
      reason = String((error as Error).message)
      this.#cutOff(peer, link.channel, error)
    }
    for (const job of link.closed()) this.#leases.add(peer, job)
    if (this.#links.get(peer) !== link) return
    this.#links.delete(peer)
    await link.channel.close(this.#ackTimeoutMs)
    this.#emit('left', () => this.#init.events.left?.(link, reason))
  }

  #report(link: RemoteExecutorLink, report: ExecutorReport, synthesized: boolean): void {
    if (report.type === 'finished') this.#leases.remove(link.peer, report.jobId, report.fence)
    const settled: { taken: void | Promise<boolean | void> } = { taken: undefined }
    this.#emit('report', () => {
      settled.taken = this.#init.events.report?.(link, report)
    })
    if (report.type !== 'finished' || synthesized) return
    Promise.resolve(settled.taken).then(
      (taken) => {
        if (taken !== false) return link.acknowledgeReport(report.jobId, report.fence)
        // Not committed: no ack. The executor still holds the report and sends it again on its
        // next stream, which this one's end starts, to whichever peer is coordinator then.
        this.#init.logger.info({ peer: link.peer, jobId: report.jobId }, 'result not committed')
        // The lease counts the job as the executor's again (unless a newer run of it is), so
        // that it is declared lost if the executor never comes back with the result.
        const { jobId, fence } = report
        const newer = this.#leases.running(link.peer).some((job) => job.jobId === jobId)
        if (!newer) this.#leases.add(link.peer, { jobId, fence })
        link.channel.abort(new Error('a result was not committed: send it again'))
      },
      (error: unknown) => this.#init.logger.error({ err: error, peer: link.peer }, 'report'),
    )
  }

  #expired(peer: string, running: readonly RunningJob[]): void {
    const link = this.#links.get(peer)
    if (link !== undefined) {
      this.#links.delete(peer)
      link.channel.abort(new Error('lease expired'))
      this.#emit('left', () => this.#init.events.left?.(link, 'lease expired'))
    }
    this.#emit('leaseExpired', () => this.#init.events.leaseExpired?.(peer, running))
  }

  /** Bad frames end the stream and are logged once; a stream that merely broke is not news. */
  #cutOff(peer: string, channel: FrameChannel<ExecutorFrame, CoordinatorFrame>, error: unknown) {
    const name = (error as Error).name
    if (['FrameTooLargeError', 'MalformedFrameError', 'InvalidFrameError'].includes(name)) {
      this.stats.invalidFrames += 1
      this.#init.logger.warn({ peer, err: error }, 'executor stream cut off for a bad frame')
    } else if (this.#started) {
      this.#init.logger.debug({ peer, err: error }, 'executor stream ended')
    }
    channel.abort(error instanceof Error ? error : new Error(String(error)))
  }

  #emit(event: keyof ExecutorServerEvents, call: () => void): void {
    if (!this.#started) return
    try {
      call()
    } catch (error) {
      this.#init.logger.error({ err: error, event }, 'executor server event handler threw')
    }
  }

  #heartbeatMs(): number {
    return this.#init.heartbeatMs ?? EXECUTOR_HEARTBEAT_MS
  }

  #now(): number {
    return (this.#init.now ?? Date.now)()
  }
}

/** The libp2p service factory: `services: { executorServer: executorServer(init) }`. */
export function executorServer(
  init: ExecutorServerInit,
): (components: ExecutorServerComponents) => ExecutorServer {
  return (components) => new ExecutorServer(components, init)
}
