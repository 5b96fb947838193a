// The receiving half of the Raft transport: reads one peer's stream frame by frame, steps each
// message in order (waiting for the driver before reading on, so a slow driver slows the
// sender through Yamux's window rather than filling memory), reassembles snapshots and
// acknowledges each only once the driver has persisted it. Anything that is not what a member
// sends closes the stream with one log line (one per peer and reason in an interval); nothing
// of it is stepped.
import { StreamBufferError } from '@libp2p/interface'
import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { LengthPrefixedStream } from '@libp2p/utils'
import type { Logger } from 'pino'
import type { RaftTransportHandler } from '../../ledger/index.ts'
import {
  RAFT_SNAPSHOT_MESSAGE_BYTES_MAX,
  RaftMessageCodecError,
  decodeRaftMessage,
} from '../../ledger/index.ts'
import type { raft } from '../../ledger/index.ts'
import { InvalidFrameError, NotAdmittedError, SnapshotIdleError } from './errors.ts'
import {
  FRAME_MESSAGE,
  FRAME_SNAPSHOT_CHUNK,
  decodeFrame,
  snapshotAckFrame,
} from './raft-frames.ts'
import type { RaftLinkLimits } from './raft-peer-link.ts'
import { streamBufferBytes } from './raft-peer-link.ts'
import { NOT_ADMITTED } from './refusal-log.ts'
import type { RefusalLog } from './refusal-log.ts'

export interface RaftInboundInit {
  readonly stream: Stream
  readonly remotePeer: string
  readonly handler: RaftTransportHandler
  /** Checked on every frame, so a peer removed from the mesh is cut off at once. */
  readonly isAdmitted: (peerId: string) => boolean
  readonly logger: Logger
  /** Where refusals are logged: once per peer and reason in an interval, not per stream. */
  readonly refusals: RefusalLog
  readonly limits: RaftLinkLimits
}

/** Errors that mean the peer sent what a member never sends (as opposed to a broken link). */
const REFUSALS = new Set([
  InvalidFrameError.name,
  RaftMessageCodecError.name,
  NotAdmittedError.name,
  StreamBufferError.name,
  'InvalidDataLengthError',
  'InvalidDataLengthLengthError',
  'InvalidMessageLengthError',
])

interface Assembly {
  readonly id: number
  readonly parts: Uint8Array[]
  bytes: number
}

/** Serves one inbound stream until it ends or is refused. Never throws. */
export async function serveRaftStream(init: RaftInboundInit): Promise<void> {
  const { stream, limits } = init
  stream.maxReadBufferLength = streamBufferBytes(limits)
  const lp = lpStream(stream, {
    maxDataLength: limits.frameBytesMax,
    maxBufferSize: streamBufferBytes(limits),
  })
  try {
    await readFrames(init, lp)
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error'
    const peer = init.remotePeer
    if (name === SnapshotIdleError.name) {
      // Not a refusal: the sender may be gone. Its part is freed with the stream.
      init.logger.info({ peer, err: error }, 'dropped a half-received snapshot')
    } else if (REFUSALS.has(name)) {
      // The same bad frame again is one refusal; another fault is news.
      const reason =
        name === NotAdmittedError.name ? NOT_ADMITTED : `${name}: ${(error as Error).message}`
      init.refusals.refused(peer, reason, { err: error }, 'refused a raft stream')
    } else init.logger.debug({ peer, err: error }, 'raft stream from peer ended')
    stream.abort(error instanceof Error ? error : new Error(String(error)))
  }
}

async function readFrames(init: RaftInboundInit, lp: LengthPrefixedStream<Stream>): Promise<void> {
  let assembly: Assembly | undefined
  for (;;) {
    const frame = decodeFrame((await readNext(init, lp, assembly)).subarray())
    if (!init.isAdmitted(init.remotePeer)) throw new NotAdmittedError(init.remotePeer)
    if (frame.kind === FRAME_MESSAGE) {
      const message = decodeFrom(init, frame.message)
      if (message.type === 'snapshot') throw new InvalidFrameError('a snapshot outside chunks')
      await step(init, message)
      continue
    }
    if (frame.kind !== FRAME_SNAPSHOT_CHUNK) throw new InvalidFrameError('an ack from a sender')
    if (assembly !== undefined && assembly.id !== frame.id) {
      throw new InvalidFrameError(`snapshot ${frame.id} began before ${assembly.id} ended`)
    }
    assembly ??= { id: frame.id, parts: [], bytes: 0 }
    assembly.parts.push(Uint8Array.from(frame.chunk))
    assembly.bytes += frame.chunk.byteLength
    if (assembly.bytes > RAFT_SNAPSHOT_MESSAGE_BYTES_MAX) {
      throw new InvalidFrameError(`snapshot ${frame.id} is over ${RAFT_SNAPSHOT_MESSAGE_BYTES_MAX}`)
    }
    if (!frame.last) continue
    const message = decodeFrom(init, concat(assembly.parts, assembly.bytes))
    if (message.type !== 'snapshot') throw new InvalidFrameError('chunks of a non-snapshot')
    const delivered = await step(init, message)
    const signal = AbortSignal.timeout(init.limits.writeTimeoutMs)
    await lp.write(snapshotAckFrame(assembly.id, delivered), { signal })
    assembly = undefined
  }
}

/** The next frame. While part of a snapshot is held, a wait for the next chunk is bounded:
 * a sender that died unheard or hangs would otherwise keep the part in memory for good. */
async function readNext(
  init: RaftInboundInit,
  lp: LengthPrefixedStream<Stream>,
  assembly: Assembly | undefined,
): ReturnType<LengthPrefixedStream<Stream>['read']> {
  if (assembly === undefined) return lp.read()
  const timeoutMs = init.limits.snapshotIdleTimeoutMs
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    return await lp.read({ signal })
  } catch (error) {
    if (!signal.aborted) throw error
    const { id, bytes } = assembly
    throw new SnapshotIdleError(`no chunk of snapshot ${id} in ${timeoutMs} ms (${bytes} bytes in)`)
  }
}

/** Decodes a message and checks that it comes from the peer at the other end of the stream. */
function decodeFrom(init: RaftInboundInit, bytes: Uint8Array): raft.Message {
  const message = decodeRaftMessage(bytes)
  if (message.from !== init.remotePeer) {
    throw new InvalidFrameError(`a message from ${message.from} on ${init.remotePeer}'s stream`)
  }
  return message
}

/** Hands a message to the driver with the stream paused, so nothing piles up meanwhile.
 * Resolves whether it was taken; a driver that refuses one message does not end the stream. */
async function step(init: RaftInboundInit, message: raft.Message): Promise<boolean> {
  const { stream } = init
  if (stream.readStatus === 'readable') stream.pause()
  try {
    await init.handler.onMessage(message)
    return true
  } catch (error) {
    const peer = init.remotePeer
    init.logger.warn({ peer, type: message.type, err: error }, 'the driver refused a message')
    return false
  } finally {
    if (stream.readStatus === 'paused') stream.resume()
  }
}

function concat(parts: readonly Uint8Array[], byteLength: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array
  const out = new Uint8Array(byteLength)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.byteLength
  }
  return out
}
