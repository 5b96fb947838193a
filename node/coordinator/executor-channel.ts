// One long-lived `/gridx/executor/1.0.0` stream seen as frames: length-prefixed JSON, each
// checked against its schema on receipt. Both ends use it, the coordinator's server and the
// executor's client, so the framing and its limits exist once.
import type { Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { ZodType } from 'zod'
import { EXECUTOR_FRAME_BYTES_MAX, EXECUTOR_WRITE_QUEUE_MAX } from '../../protocol/index.ts'

/** A frame announced itself larger than the frame limit; its bytes were never buffered. */
export class FrameTooLargeError extends Error {
  override name = 'FrameTooLargeError'
}

/** A frame was not JSON. */
export class MalformedFrameError extends Error {
  override name = 'MalformedFrameError'
}

/** A frame was JSON but not one the schema admits (wrong type, missing field, over a limit). */
export class InvalidFrameError extends Error {
  override name = 'InvalidFrameError'
}

/** The peer reads slower than we write: more than the write queue holds is waiting. */
export class WriteQueueFullError extends Error {
  override name = 'WriteQueueFullError'
}

/** The channel was closed (by either end) before the frame could be queued. */
export class ChannelClosedError extends Error {
  override name = 'ChannelClosedError'
}

export interface FrameChannelInit<In> {
  readonly stream: Stream
  /** Frames the other end may send; anything else ends the channel. */
  readonly schema: ZodType<In>
  readonly frameBytesMax?: number
  readonly writeQueueMax?: number
  /** Bound on one write waiting for the peer to drain (its receive window). */
  readonly writeTimeoutMs: number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Frames in, frames out, over one stream. `send` queues and never waits: the frames sent in one
 * turn of the event loop go out in one write, on the next turn (setImmediate), and those queued
 * while a write is in flight go together in the write after it (pipelining without a round
 * trip each). One write is one muxer frame, one encryption and one system call on each side.
 * `read` yields the next valid frame, null at a clean end, and throws one of the frame errors
 * above on bad input, after which the caller closes the channel.
 */
export class FrameChannel<In, Out> {
  readonly stream: Stream
  readonly #lp: LengthPrefixedStream<Stream>
  readonly #init: FrameChannelInit<In>
  readonly #frameBytesMax: number
  readonly #queue: Uint8Array[] = []
  /** The write loop under way, if any. */
  #writing: Promise<void> | null = null
  #flushQueued = false
  #closed = false

  constructor(init: FrameChannelInit<In>) {
    this.#init = init
    this.stream = init.stream
    this.#frameBytesMax = init.frameBytesMax ?? EXECUTOR_FRAME_BYTES_MAX
    // Room for two whole frames: one being read and the next arriving behind it.
    this.#lp = lpStream(init.stream, {
      maxDataLength: this.#frameBytesMax,
      maxBufferSize: 2 * this.#frameBytesMax + 16,
    })
  }

  get closed(): boolean {
    return this.#closed || this.stream.status !== 'open'
  }

  /** Queues a frame. Throws ChannelClosedError when closed; aborts the stream and throws
   * WriteQueueFullError when the peer has not drained the queue. */
  send(frame: Out): void {
    if (this.closed) throw new ChannelClosedError('the executor stream is closed')
    const bytes = encoder.encode(JSON.stringify(frame))
    if (bytes.byteLength > this.#frameBytesMax) {
      // Senders split what may grow (output) and the schemas bound the rest, so this is a bug.
      throw new FrameTooLargeError(`frame of ${bytes.byteLength} bytes over the limit`)
    }
    if (this.#queue.length >= (this.#init.writeQueueMax ?? EXECUTOR_WRITE_QUEUE_MAX)) {
      const error = new WriteQueueFullError('the peer is not reading its executor stream')
      this.abort(error)
      throw error
    }
    this.#queue.push(bytes)
    if (this.#flushQueued || this.#writing !== null) return
    this.#flushQueued = true
    setImmediate(() => {
      this.#flushQueued = false
      void this.#flush()
    })
  }

  /** Starts the write loop unless it runs; resolves once the queue is written (or failed). */
  #flush(): Promise<void> {
    if (this.#writing === null && this.#queue.length > 0) {
      this.#writing = this.#writeAll().finally(() => {
        this.#writing = null
      })
    }
    return this.#writing ?? Promise.resolve()
  }

  async #writeAll(): Promise<void> {
    try {
      // The stream's own state, not `closed`: frames sent before close() still go out.
      while (this.#queue.length > 0 && this.stream.status === 'open') {
        const batch = this.#queue.splice(0)
        await this.#lp.writeV(batch, { signal: AbortSignal.timeout(this.#init.writeTimeoutMs) })
      }
    } catch (error) {
      this.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }

  /** The next frame, or null when the other end closed the stream between frames. */
  async read(signal?: AbortSignal): Promise<In | null> {
    let bytes
    try {
      bytes = await this.#lp.read({ signal })
    } catch (error) {
      const name = (error as Error).name
      if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError') {
        throw new FrameTooLargeError((error as Error).message)
      }
      if (name === 'UnexpectedEOFError' || this.closed) return null
      throw error
    }
    let value: unknown
    try {
      value = JSON.parse(decoder.decode(bytes.subarray()))
    } catch {
      throw new MalformedFrameError('a frame that is not UTF-8 JSON')
    }
    const parsed = this.#init.schema.safeParse(value)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new InvalidFrameError(`invalid frame: ${issue?.path.join('.')} ${issue?.message}`)
    }
    return parsed.data
  }

  /** Closes both ends gracefully, after the frames already sent, bounded by `timeoutMs` (and
   * the write timeout), aborting if that runs out. */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true
    if (this.stream.status !== 'open') return
    await this.#flush()
    if (this.stream.status !== 'open') return
    try {
      await this.stream.close({ signal: AbortSignal.timeout(timeoutMs) })
    } catch (error) {
      this.stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }

  abort(error: Error): void {
    this.#closed = true
    this.stream.abort(error)
  }
}
