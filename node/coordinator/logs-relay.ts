// Live output on every peer. The coordinator's LiveLogs has the output of every running job
// (executors report to it); a peer that is not the coordinator follows the jobs its clients
// follow over one `/gridx/logs/1.0.0` stream to the coordinator, however many subscriptions
// there are. When the coordinator changes, the relay opens a stream to the new one (or, on the
// peer that now leads, reads its own LiveLogs) and follows each job again after the last
// chunk it delivered, so that no chunk is delivered twice. Chunks no coordinator passed on
// (they reached only one that died, or came past what it keeps) show as a gap in the
// executor's numbering, which the followers are told of before the chunk after it.
import type { Connection } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import {
  LOGS_DIAL_TIMEOUT_MS,
  LOGS_FRAME_BYTES_MAX,
  LOGS_PROTOCOL,
  LOGS_RECONNECT_CHECKS_MAX,
  LOGS_RELAY_CHECK_MS,
  LOGS_WRITE_QUEUE_MAX,
} from '../../protocol/index.ts'
import { FrameChannel } from './executor-channel.ts'
import { isAfter } from './live-logs.ts'
import type { LiveLogEvent, LiveLogs, LogCursor } from './live-logs.ts'
import { coordinatorFrameSchema } from './logs-frames.ts'
import type { CoordinatorFrame, FollowerFrame } from './logs-frames.ts'

/** Chunks of a run missing before the next one delivered: a follower's output has a hole. */
export interface LogGap {
  readonly gap: true
  readonly missing: number
}

export type RelayEvent = LiveLogEvent | LogGap

type Listener = (event: RelayEvent) => void
type Channel = FrameChannel<CoordinatorFrame, FollowerFrame>

export interface LogsRelayComponents {
  readonly connectionManager: {
    openConnection(target: Multiaddr[], options?: { signal?: AbortSignal }): Promise<Connection>
  }
}

export interface LogsRelayInit {
  /** This peer's PeerId. */
  readonly self: string
  /** This peer's LiveLogs: the source while this peer is the coordinator. */
  readonly local: LiveLogs
  /** The coordinator as this peer knows it, with the addresses the mesh recorded for it;
   * null when there is none now (an election). */
  readonly coordinator: () => { readonly peerId: string; readonly addresses: string[] } | null
  readonly logger: Logger
  readonly checkMs?: number
}

interface Followed {
  readonly listeners: Set<Listener>
  /** The last chunk delivered: a resumed follow asks for what comes after it. */
  last: LogCursor | null
}

/** Where output comes from now: this peer's own LiveLogs, or a stream to the coordinator. */
type Source =
  | { readonly peer: string; readonly kind: 'local'; readonly stops: Map<string, () => void> }
  | {
      readonly peer: string
      readonly kind: 'remote'
      channel: Channel | null
      dead: boolean
      /** The dial or the stream failed (rather than being dropped by this relay). */
      failed: boolean
    }

export class LogsRelay {
  readonly #components: LogsRelayComponents
  readonly #init: LogsRelayInit
  readonly #jobs = new Map<string, Followed>()
  #source: Source | null = null
  #timer: ReturnType<typeof setInterval> | null = null
  /** Failed dials of the same coordinator in a row, and the looks left before the next. */
  #failures = 0
  #waitChecks = 0

  constructor(components: LogsRelayComponents, init: LogsRelayInit) {
    this.#components = components
    this.#init = init
  }

  /** Follows a job's live output wherever it runs. Returns the unsubscribe. */
  follow(jobId: string, listener: Listener): () => void {
    let followed = this.#jobs.get(jobId)
    if (followed === undefined) {
      followed = { listeners: new Set(), last: null }
      this.#jobs.set(jobId, followed)
      this.#subscribe(jobId)
    }
    followed.listeners.add(listener)
    this.#review()
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#review(), this.#init.checkMs ?? LOGS_RELAY_CHECK_MS)
      this.#timer.unref()
    }
    return () => {
      const now = this.#jobs.get(jobId)
      if (now === undefined || !now.listeners.delete(listener) || now.listeners.size > 0) return
      this.#jobs.delete(jobId)
      this.#unsubscribe(jobId)
      if (this.#jobs.size === 0) this.stop()
    }
  }

  /** Drops the source and stops looking; followers stay, and a new follow starts again. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    this.#drop()
  }

  /** Moves to the coordinator of now, if it is another than the source's. */
  #review(): void {
    if (this.#jobs.size === 0) return
    const coordinator = this.#init.coordinator()
    const want = coordinator?.peerId ?? null
    const source = this.#source
    if (source !== null && source.peer === want && !(source.kind === 'remote' && source.dead)) {
      return
    }
    if (source?.kind === 'remote' && source.peer === want && source.failed) {
      if (this.#waitChecks > 0) return void (this.#waitChecks -= 1)
    } else this.#failures = 0
    this.#drop()
    if (coordinator === null) return
    if (coordinator.peerId === this.#init.self) {
      this.#source = { peer: this.#init.self, kind: 'local', stops: new Map() }
      for (const jobId of this.#jobs.keys()) this.#subscribe(jobId)
      return
    }
    const remote: Source = {
      peer: coordinator.peerId,
      kind: 'remote',
      channel: null,
      dead: false,
      failed: false,
    }
    this.#source = remote
    void this.#connect(remote, coordinator.addresses)
  }

  #drop(): void {
    const source = this.#source
    this.#source = null
    if (source === null) return
    if (source.kind === 'local') for (const stop of source.stops.values()) stop()
    else {
      source.dead = true
      void source.channel?.close(LOGS_DIAL_TIMEOUT_MS)
    }
  }

  async #connect(source: Source & { kind: 'remote' }, addresses: string[]): Promise<void> {
    const signal = AbortSignal.timeout(LOGS_DIAL_TIMEOUT_MS)
    try {
      const targets = addresses.map((address) => {
        const parsed = multiaddr(address)
        const named = parsed.getComponents().some((component) => component.name === 'p2p')
        return named ? parsed : parsed.encapsulate(`/p2p/${source.peer}`)
      })
      const connection = await this.#components.connectionManager.openConnection(targets, {
        signal,
      })
      const stream = await connection.newStream(LOGS_PROTOCOL, { signal })
      const channel: Channel = new FrameChannel({
        stream,
        schema: coordinatorFrameSchema,
        frameBytesMax: LOGS_FRAME_BYTES_MAX,
        writeQueueMax: LOGS_WRITE_QUEUE_MAX,
        writeTimeoutMs: LOGS_DIAL_TIMEOUT_MS,
      })
      if (source.dead) return void channel.close(LOGS_DIAL_TIMEOUT_MS)
      source.channel = channel
      this.#failures = 0
      for (const jobId of this.#jobs.keys()) this.#subscribe(jobId)
      for (;;) {
        const frame = await channel.read()
        if (frame === null || source.dead) break
        if (frame.type === 'end') this.#deliver(frame.jobId, { end: true, state: frame.state })
        else this.#deliver(frame.jobId, frame)
      }
    } catch (error) {
      if (!source.dead) {
        source.failed = true
        this.#failures += 1
        this.#waitChecks = Math.min(2 ** this.#failures - 1, LOGS_RECONNECT_CHECKS_MAX)
        this.#init.logger.info({ peer: source.peer, err: error }, 'the logs stream broke off')
      }
    } finally {
      // The next review dials again (or moves to a new coordinator).
      source.dead = true
      if (source.channel !== null && !source.channel.closed) {
        await source.channel.close(LOGS_DIAL_TIMEOUT_MS)
      }
    }
  }

  #subscribe(jobId: string): void {
    const source = this.#source
    const followed = this.#jobs.get(jobId)
    if (source === null || followed === undefined) return
    if (source.kind === 'local') {
      source.stops.get(jobId)?.()
      const stop = this.#init.local.follow(
        jobId,
        (event) => this.#deliver(jobId, event),
        followed.last,
      )
      source.stops.set(jobId, stop)
    } else this.#send(source, { type: 'follow', jobId, after: followed.last })
  }

  #unsubscribe(jobId: string): void {
    const source = this.#source
    if (source === null) return
    if (source.kind === 'local') {
      source.stops.get(jobId)?.()
      source.stops.delete(jobId)
    } else this.#send(source, { type: 'unfollow', jobId })
  }

  #send(source: Source & { kind: 'remote' }, frame: FollowerFrame): void {
    const channel = source.channel
    if (channel === null || channel.closed) return
    try {
      channel.send(frame)
    } catch {
      // The channel aborted itself; the review dials again and follows every job anew.
      source.dead = true
    }
  }

  #deliver(jobId: string, event: LiveLogEvent): void {
    const followed = this.#jobs.get(jobId)
    if (followed === undefined) return
    if (!('end' in event)) {
      if (!isAfter(event, followed.last)) return
      const last = followed.last
      // Each run numbers its chunks from 0; a later run (a higher fence) starts again.
      const expected = last !== null && event.fence === last.fence ? last.seq + 1 : 0
      followed.last = { fence: event.fence, seq: event.seq }
      if (event.seq > expected) {
        const missing = event.seq - expected
        this.#init.logger.info({ jobId, missing }, 'live output chunks no coordinator passed on')
        for (const listener of [...followed.listeners]) listener({ gap: true, missing })
      }
    }
    for (const listener of [...followed.listeners]) listener(event)
  }
}
