// Frames on a Raft stream, each one length-prefixed (lpStream) and starting with its kind:
//   message:        [1][encoded Raft message, never a snapshot]
//   snapshot chunk: [2][snapshot id: u32][last: u8][bytes of the encoded snapshot message]
//   snapshot ack:   [3][snapshot id: u32][delivered: u8]  (receiver to sender)
// A snapshot is encoded whole and cut into chunks, so no frame is larger than a chunk.
import { InvalidFrameError } from './errors.ts'

export const FRAME_MESSAGE = 1
export const FRAME_SNAPSHOT_CHUNK = 2
export const FRAME_SNAPSHOT_ACK = 3

const SNAPSHOT_HEADER_BYTES = 6

export type RaftFrame =
  | { readonly kind: typeof FRAME_MESSAGE; readonly message: Uint8Array }
  | {
      readonly kind: typeof FRAME_SNAPSHOT_CHUNK
      readonly id: number
      readonly last: boolean
      readonly chunk: Uint8Array
    }
  | { readonly kind: typeof FRAME_SNAPSHOT_ACK; readonly id: number; readonly delivered: boolean }

export function messageFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(1 + message.byteLength)
  frame[0] = FRAME_MESSAGE
  frame.set(message, 1)
  return frame
}

export function snapshotChunkFrame(id: number, last: boolean, chunk: Uint8Array): Uint8Array {
  const frame = new Uint8Array(SNAPSHOT_HEADER_BYTES + chunk.byteLength)
  const view = new DataView(frame.buffer)
  view.setUint8(0, FRAME_SNAPSHOT_CHUNK)
  view.setUint32(1, id)
  view.setUint8(5, last ? 1 : 0)
  frame.set(chunk, SNAPSHOT_HEADER_BYTES)
  return frame
}

export function snapshotAckFrame(id: number, delivered: boolean): Uint8Array {
  const frame = new Uint8Array(SNAPSHOT_HEADER_BYTES)
  const view = new DataView(frame.buffer)
  view.setUint8(0, FRAME_SNAPSHOT_ACK)
  view.setUint32(1, id)
  view.setUint8(5, delivered ? 1 : 0)
  return frame
}

/** Reads a frame's kind and header; the message bytes inside are decoded by the codec. */
export function decodeFrame(frame: Uint8Array): RaftFrame {
  const kind = frame[0]
  if (kind === FRAME_MESSAGE) return { kind, message: frame.subarray(1) }
  if (kind !== FRAME_SNAPSHOT_CHUNK && kind !== FRAME_SNAPSHOT_ACK) {
    throw new InvalidFrameError(`unknown frame kind ${String(kind)}`)
  }
  if (frame.byteLength < SNAPSHOT_HEADER_BYTES) throw new InvalidFrameError('a frame is cut short')
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const id = view.getUint32(1)
  const flag = view.getUint8(5)
  if (flag > 1) throw new InvalidFrameError(`${flag} is not a flag`)
  if (kind === FRAME_SNAPSHOT_ACK) {
    if (frame.byteLength !== SNAPSHOT_HEADER_BYTES) throw new InvalidFrameError('a long ack')
    return { kind, id, delivered: flag === 1 }
  }
  return { kind, id, last: flag === 1, chunk: frame.subarray(SNAPSHOT_HEADER_BYTES) }
}
