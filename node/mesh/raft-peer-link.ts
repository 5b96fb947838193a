// The sending half of the Raft transport for one peer: a bounded queue, ONE long-lived stream
// (opened when there is something to send, reopened with backoff when it breaks), frames
// written in batches, and snapshots cut into chunks whose delivery the receiver acknowledges.
import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { RAFT_FRAMES_PER_WRITE_MAX } from './constants.ts'
import { InvalidFrameError, SnapshotNotAcknowledgedError, TransportStoppedError } from './errors.ts'
import { FRAME_SNAPSHOT_ACK, decodeFrame, messageFrame, snapshotChunkFrame } from './raft-frames.ts'

/** Bounds and timeouts of one link; protocol/limits.ts holds the defaults and their reasons. */
export interface RaftLinkLimits {
  readonly queueMessagesMax: number
  readonly queueBytesMax: number
  readonly frameBytesMax: number
  readonly snapshotChunkBytes: number
  readonly streamOpenTimeoutMs: number
  readonly writeTimeoutMs: number
  readonly backoffMsMin: number
  readonly backoffMsMax: number
  readonly snapshotAckTimeoutMs: number
  /** How long the receiver of part of a snapshot waits for its next chunk. */
  readonly snapshotIdleTimeoutMs: number
}

export interface RaftPeerLinkInit {
  readonly peerId: string
  /** Opens a stream of the Raft protocol to the peer; must honour `signal`. */
  readonly open: (signal: AbortSignal) => Promise<Stream>
  /** Told once per snapshot handed to `enqueue`: delivered, or not (dropped, broken, late). */
  readonly onSnapshotStatus: (delivered: boolean) => void
  readonly logger: Logger
  readonly limits: RaftLinkLimits
}

export interface RaftPeerLinkStats {
  readonly queued: number
  readonly queuedBytes: number
  /** Messages refused because the queue was full, since the link was made. */
  readonly dropped: number
  /** Messages written to a stream (not necessarily received: the stream may break after). */
  readonly sent: number
  /** Streams opened to this peer, since the link was made. */
  readonly streamsOpened: number
  /** Whether a stream is open now. */
  readonly connected: boolean
}

interface Outgoing {
  /** A whole frame for a message; the encoded message for a snapshot, chunked when written. */
  readonly bytes: Uint8Array
  readonly snapshot: boolean
}

interface Connected {
  readonly stream: Stream
  readonly lp: LengthPrefixedStream<Stream>
}

/** Room to buffer one frame while the next arrives: a frame plus a full Yamux window. */
export function streamBufferBytes(limits: RaftLinkLimits): number {
  return 2 * limits.frameBytesMax
}

export class RaftPeerLink {
  readonly #init: RaftPeerLinkInit
  readonly #queue: Outgoing[] = []
  readonly #stopping = new AbortController()
  readonly #pendingAcks = new Map<number, NodeJS.Timeout>()
  readonly #running: Promise<void>
  #queuedBytes = 0
  #dropped = 0
  #sent = 0
  #streamsOpened = 0
  #connected: Connected | undefined
  #wake: PromiseWithResolvers<void> | undefined
  #backoffMs = 0
  /** Ends the backoff under way early: the peer has shown it is reachable. */
  #backoffCut: AbortController | undefined
  #nextSnapshotId = 1
  /** Set while the peer cannot be reached or keeps up, so one outage logs one line. */
  #unreachableLogged = false
  #droppingLogged = false
  /** Keep a stream open even with nothing to send (see warm()). */
  #warm = false

  constructor(init: RaftPeerLinkInit) {
    this.#init = init
    this.#running = this.#run()
  }

  stats(): RaftPeerLinkStats {
    return {
      queued: this.#queue.length,
      queuedBytes: this.#queuedBytes,
      dropped: this.#dropped,
      sent: this.#sent,
      streamsOpened: this.#streamsOpened,
      connected: this.#connected !== undefined,
    }
  }

  /** Queues an encoded message; when the queue is full it is dropped and counted (Raft sends
   * again), and a dropped snapshot is reported undelivered at once. */
  enqueue(encoded: Uint8Array, snapshot: boolean): void {
    const { queueMessagesMax, queueBytesMax } = this.#init.limits
    const full =
      this.#stopping.signal.aborted ||
      this.#queue.length >= queueMessagesMax ||
      (snapshot
        ? this.#queue.some((item) => item.snapshot)
        : this.#queuedBytes + encoded.byteLength + 1 > queueBytesMax)
    if (full) {
      this.#dropped++
      if (!this.#droppingLogged) {
        this.#droppingLogged = true
        this.#init.logger.warn({ peer: this.#init.peerId }, 'raft queue full, dropping messages')
      }
      if (snapshot) this.#report(false)
      return
    }
    const bytes = snapshot ? encoded : messageFrame(encoded)
    this.#queue.push({ bytes, snapshot })
    if (!snapshot) this.#queuedBytes += bytes.byteLength
    this.#wake?.resolve()
  }

  /** Opens the stream now and keeps it open, reopening it with backoff when it breaks, though
   * nothing waits to be sent: a voter that takes over after a leadership transfer must reach
   * every other voter at once, and dialling one under load costs more than the transfer. */
  warm(): void {
    this.#warm = true
    this.#wake?.resolve()
  }

  /** The peer opened a stream to us, so it can be reached: a backoff under way ends now.
   * Else a voter back from a crash may wait out the longest backoff for a vote's reply. */
  reachable(): void {
    if (this.#connected !== undefined) return
    this.#backoffMs = 0
    this.#backoffCut?.abort()
  }

  /** Stops sending; queued and unacknowledged snapshots are reported undelivered. */
  async stop(): Promise<void> {
    this.#stopping.abort(new TransportStoppedError())
    this.#wake?.resolve()
    await this.#running
    for (const item of this.#queue.splice(0)) if (item.snapshot) this.#report(false)
    this.#queuedBytes = 0
    if (this.#connected !== undefined) this.#broken(this.#connected, new TransportStoppedError())
  }

  async #run(): Promise<void> {
    const signal = this.#stopping.signal
    while (!signal.aborted) {
      // Nothing to send, and no warm link's stream to reopen: wait for either.
      const idle = !this.#warm || this.#connected !== undefined
      if (this.#queue.length === 0 && idle) {
        this.#wake = Promise.withResolvers()
        await this.#wake.promise
        continue
      }
      // A warm stream that broke is reopened after a backoff: a peer that accepts and then
      // drops every stream must not make this loop spin.
      if (this.#queue.length === 0 && this.#streamsOpened > 0) await this.#backoff()
      const connected = this.#connected ?? (await this.#connect())
      if (connected === undefined) {
        await this.#backoff()
        continue
      }
      if (this.#queue.length === 0) continue
      const batch = this.#take()
      try {
        await this.#write(connected, batch)
        this.#sent += batch.length
      } catch (error) {
        // A snapshot cut off mid-write, by a broken stream or by stop(), was not delivered.
        if (batch[0]?.snapshot === true) this.#report(false)
        this.#broken(connected, error)
        await this.#backoff()
      }
    }
  }

  /** The head of the queue: one snapshot alone, or a run of messages for one write. */
  #take(): Outgoing[] {
    const head = this.#queue[0] as Outgoing
    let count = 1
    if (!head.snapshot) {
      while (count < this.#queue.length && count < RAFT_FRAMES_PER_WRITE_MAX) {
        if ((this.#queue[count] as Outgoing).snapshot) break
        count++
      }
    }
    const batch = this.#queue.splice(0, count)
    for (const item of batch) if (!item.snapshot) this.#queuedBytes -= item.bytes.byteLength
    if (this.#queue.length === 0) this.#droppingLogged = false
    return batch
  }

  async #write({ lp }: Connected, batch: readonly Outgoing[]): Promise<void> {
    const { writeTimeoutMs, snapshotChunkBytes } = this.#init.limits
    const options = () => ({
      signal: AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(writeTimeoutMs)]),
    })
    const head = batch[0] as Outgoing
    if (!head.snapshot) {
      await lp.writeV(
        batch.map((item) => item.bytes),
        options(),
      )
      return
    }
    const id = this.#nextSnapshotId++
    const { bytes } = head
    for (let at = 0; at < bytes.byteLength; at += snapshotChunkBytes) {
      const end = Math.min(at + snapshotChunkBytes, bytes.byteLength)
      await lp.write(
        snapshotChunkFrame(id, end === bytes.byteLength, bytes.subarray(at, end)),
        options(),
      )
    }
    this.#awaitAck(id)
  }

  async #connect(): Promise<Connected | undefined> {
    const { streamOpenTimeoutMs } = this.#init.limits
    const signal = AbortSignal.any([
      this.#stopping.signal,
      AbortSignal.timeout(streamOpenTimeoutMs),
    ])
    try {
      const stream = await this.#init.open(signal)
      stream.maxReadBufferLength = streamBufferBytes(this.#init.limits)
      const lp = lpStream(stream, {
        maxDataLength: this.#init.limits.frameBytesMax,
        maxBufferSize: streamBufferBytes(this.#init.limits),
      })
      const connected = { stream, lp }
      this.#connected = connected
      this.#streamsOpened++
      this.#backoffMs = 0
      this.#unreachableLogged = false
      void this.#readAcks(connected)
      return connected
    } catch (error) {
      if (!this.#stopping.signal.aborted && !this.#unreachableLogged) {
        this.#unreachableLogged = true
        const { peerId: peer } = this.#init
        this.#init.logger.warn({ peer, err: error }, 'cannot open a raft stream, retrying')
      }
      return undefined
    }
  }

  /** The receiver writes only snapshot acks back; anything else breaks the stream. */
  async #readAcks(connected: Connected): Promise<void> {
    try {
      for (;;) {
        const frame = decodeFrame((await connected.lp.read()).subarray())
        if (frame.kind !== FRAME_SNAPSHOT_ACK) {
          throw new InvalidFrameError('the receiver sent a frame that is not an ack')
        }
        const timer = this.#pendingAcks.get(frame.id)
        if (timer === undefined) continue
        clearTimeout(timer)
        this.#pendingAcks.delete(frame.id)
        this.#report(frame.delivered)
      }
    } catch (error) {
      this.#broken(connected, error)
    }
  }

  #awaitAck(id: number): void {
    const timer = setTimeout(() => {
      this.#pendingAcks.delete(id)
      const err = new SnapshotNotAcknowledgedError(`snapshot ${id} was not acknowledged in time`)
      this.#init.logger.warn({ peer: this.#init.peerId, err }, 'snapshot not acknowledged')
      this.#report(false)
    }, this.#init.limits.snapshotAckTimeoutMs)
    this.#pendingAcks.set(id, timer)
  }

  /** Drops a stream that failed; later messages open a new one. */
  #broken(connected: Connected, error: unknown): void {
    if (this.#connected !== connected) return
    this.#connected = undefined
    connected.stream.abort(error instanceof Error ? error : new Error(String(error)))
    for (const timer of this.#pendingAcks.values()) {
      clearTimeout(timer)
      this.#report(false)
    }
    this.#pendingAcks.clear()
    if (!this.#stopping.signal.aborted) {
      this.#init.logger.debug({ peer: this.#init.peerId, err: error }, 'raft stream broke')
    }
    // A warm link reopens its stream though nothing waits to be sent.
    if (this.#warm) this.#wake?.resolve()
  }

  async #backoff(): Promise<void> {
    const { backoffMsMin, backoffMsMax } = this.#init.limits
    this.#backoffMs = Math.min(backoffMsMax, Math.max(backoffMsMin, this.#backoffMs * 2))
    const cut = new AbortController()
    this.#backoffCut = cut
    try {
      await sleep(this.#backoffMs, undefined, {
        signal: AbortSignal.any([this.#stopping.signal, cut.signal]),
      })
    } catch (error) {
      if (!this.#stopping.signal.aborted && !cut.signal.aborted) throw error
    } finally {
      this.#backoffCut = undefined
    }
  }

  /** Reports on a later microtask: a drop happens inside the driver's send(), and the driver
   * must not be re-entered from its own call. */
  #report(delivered: boolean): void {
    queueMicrotask(() => {
      try {
        this.#init.onSnapshotStatus(delivered)
      } catch (error) {
        this.#init.logger.error({ peer: this.#init.peerId, err: error }, 'snapshot status threw')
      }
    })
  }
}
