// Reading a job's output without letting it grow the daemon: each stream is forwarded live up to
// a cap, then drained and counted but discarded; only a fixed-size tail is kept for the result.

import { OUTPUT_STREAM_BYTES_MAX, OUTPUT_TAIL_BYTES_MAX } from '../../protocol/index.ts'

export type OutputStreamName = 'stdout' | 'stderr'

export type OutputListener = (stream: OutputStreamName, text: string) => void

/** What one stream amounted to once the job ended. */
export interface StreamSummary {
  readonly tail: string
  readonly bytes: number
  readonly truncated: boolean
}

export interface StreamCaptureInit {
  readonly name: OutputStreamName
  readonly onOutput?: OutputListener | undefined
  readonly capBytes?: number
  readonly tailBytes?: number
}

/**
 * One output stream. `push` takes raw bytes in order; `finish` summarises. The listener sees the
 * first `capBytes` bytes as text split only at whole UTF-8 characters; memory held is at most
 * the tail plus one chunk, however much the job writes.
 */
export class StreamCapture {
  readonly name: OutputStreamName
  private readonly onOutput: OutputListener | undefined
  private readonly capBytes: number
  private readonly tailBytes: number
  private readonly decoder = new TextDecoder('utf-8', { fatal: false })
  private ring: Buffer | null = null
  /** Where the next tail byte goes, and how much of the ring holds output. */
  private ringNext = 0
  private ringFilled = 0
  private bytes = 0
  private truncated = false

  constructor(init: StreamCaptureInit) {
    this.name = init.name
    this.onOutput = init.onOutput
    this.capBytes = init.capBytes ?? OUTPUT_STREAM_BYTES_MAX
    this.tailBytes = init.tailBytes ?? OUTPUT_TAIL_BYTES_MAX
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return
    const before = this.bytes
    this.bytes += chunk.byteLength
    if (before < this.capBytes) {
      const room = this.capBytes - before
      const forwarded = room >= chunk.byteLength ? chunk : chunk.subarray(0, room)
      // Streaming decode holds back a split character until its last byte arrives; past the cap
      // that held-back fragment is simply never flushed.
      this.emit(this.decoder.decode(forwarded, { stream: true }))
    }
    if (this.bytes > this.capBytes) this.truncated = true
    this.keepTail(chunk)
  }

  finish(): StreamSummary {
    if (!this.truncated) this.emit(this.decoder.decode())
    return { tail: this.tailText(), bytes: this.bytes, truncated: this.truncated }
  }

  private emit(text: string): void {
    if (text.length > 0 && this.onOutput !== undefined) this.onOutput(this.name, text)
  }

  private keepTail(chunk: Uint8Array): void {
    // A ring of fixed size, allocated once: the tail costs no allocation per chunk however
    // much the job writes, and never pins the socket's buffers.
    const size = this.tailBytes
    if (size === 0) return
    this.ring ??= Buffer.alloc(size)
    const ring = this.ring
    if (chunk.byteLength >= size) {
      ring.set(chunk.subarray(chunk.byteLength - size))
      this.ringNext = 0
      this.ringFilled = size
      return
    }
    const first = Math.min(chunk.byteLength, size - this.ringNext)
    ring.set(chunk.subarray(0, first), this.ringNext)
    if (first < chunk.byteLength) ring.set(chunk.subarray(first), 0)
    this.ringNext = (this.ringNext + chunk.byteLength) % size
    this.ringFilled = Math.min(size, this.ringFilled + chunk.byteLength)
  }

  private tailText(): string {
    const ring = this.ring ?? Buffer.alloc(0)
    const all =
      this.ringFilled < this.tailBytes
        ? ring.subarray(0, this.ringFilled)
        : Buffer.concat([ring.subarray(this.ringNext), ring.subarray(0, this.ringNext)])
    let start = 0
    // Start on a character, not in the middle of one: skip UTF-8 continuation bytes (10xxxxxx).
    for (let skipped = 0; skipped < 3 && start < all.byteLength; skipped += 1) {
      if ((all[start]! & 0xc0) !== 0x80) break
      start += 1
    }
    return new TextDecoder('utf-8', { fatal: false }).decode(all.subarray(start))
  }
}

/** Size of the header Docker puts before each frame of a non-TTY attach stream. */
const FRAME_HEADER_BYTES = 8

/**
 * Splits Docker's multiplexed attach stream (header: stream type, three zero bytes, payload
 * length as uint32 big-endian) into stdout and stderr bytes. Payloads pass through in pieces as
 * they arrive, so a huge frame is never buffered whole.
 */
export class AttachDemuxer {
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES)
  private headerFill = 0
  private payloadLeft = 0
  private target: StreamCapture | null = null

  constructor(
    private readonly stdout: StreamCapture,
    private readonly stderr: StreamCapture,
  ) {}

  push(chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.byteLength) {
      if (this.payloadLeft > 0) {
        const take = Math.min(this.payloadLeft, chunk.byteLength - offset)
        this.target?.push(chunk.subarray(offset, offset + take))
        this.payloadLeft -= take
        offset += take
        continue
      }
      const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.byteLength - offset)
      chunk.copy(this.header, this.headerFill, offset, offset + take)
      this.headerFill += take
      offset += take
      if (this.headerFill === FRAME_HEADER_BYTES) this.startFrame()
    }
  }

  private startFrame(): void {
    this.headerFill = 0
    const kind = this.header[0]
    // 1 is stdout, 2 is stderr; 0 (stdin) never comes back from the engine and is dropped.
    this.target = kind === 1 ? this.stdout : kind === 2 ? this.stderr : null
    this.payloadLeft = this.header.readUInt32BE(4)
  }
}
