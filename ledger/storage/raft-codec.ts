// Binary encoding of Raft records for LevelDB. Entries are on the hot path (every proposal),
// so they are a fixed header and raw bytes, not JSON; the rare records (hard state, snapshot
// metadata) are JSON for readability in a debugger.
import type { ConfState, Entry, HardState, Snapshot } from '../raft/index.ts'

const ENTRY_HEADER_BYTES = 9
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Layout: term (float64, exact for integers up to 2^53), type (1 byte), data. */
export function encodeEntryValue(entry: Entry): Uint8Array {
  const value = new Uint8Array(ENTRY_HEADER_BYTES + entry.data.byteLength)
  const view = new DataView(value.buffer)
  view.setFloat64(0, entry.term)
  value[8] = entry.type === 'conf-change' ? 1 : 0
  value.set(entry.data, ENTRY_HEADER_BYTES)
  return value
}

export function decodeEntryValue(index: number, value: Uint8Array): Entry {
  if (value.byteLength < ENTRY_HEADER_BYTES) throw new Error(`entry ${index} is truncated`)
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  return {
    index,
    term: view.getFloat64(0),
    type: value[8] === 1 ? 'conf-change' : 'normal',
    data: Uint8Array.from(value.subarray(ENTRY_HEADER_BYTES)),
  }
}

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value))
}

export function decodeHardState(value: Uint8Array): HardState {
  return JSON.parse(decoder.decode(value)) as HardState
}

export function decodeStart(value: Uint8Array): { index: number; term: number } {
  return JSON.parse(decoder.decode(value)) as { index: number; term: number }
}

/** Layout: metadata length (uint32), metadata JSON, data. */
export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  const metadata = encodeJson(snapshot.metadata)
  const value = new Uint8Array(4 + metadata.byteLength + snapshot.data.byteLength)
  new DataView(value.buffer).setUint32(0, metadata.byteLength)
  value.set(metadata, 4)
  value.set(snapshot.data, 4 + metadata.byteLength)
  return value
}

export function decodeSnapshot(value: Uint8Array): Snapshot {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  const length = view.getUint32(0)
  const metadata = JSON.parse(decoder.decode(value.subarray(4, 4 + length))) as {
    index: number
    term: number
    confState: ConfState
  }
  return { metadata, data: Uint8Array.from(value.subarray(4 + length)) }
}
