// Binary encoding of a Raft message for the wire (node/mesh carries the bytes). Every field is
// written, in a fixed order, so a message decodes to exactly what was encoded; every length read
// back is checked against what is left and against protocol/limits.ts before it is trusted, so a
// forged or cut frame costs the receiver nothing but a typed error.
import {
  RAFT_CONTEXT_BYTES_MAX,
  RAFT_MEMBERS_MAX,
  RAFT_MESSAGE_BYTES_MAX,
  RAFT_NODE_ID_BYTES_MAX,
  RAFT_SNAPSHOT_BYTES_MAX,
} from '../../protocol/index.ts'
import type { Entry, Message, MessageType, Snapshot } from '../raft/index.ts'

/** Bumped on any change of layout; a receiver refuses a version it does not know. */
const VERSION = 1

const MESSAGE_TYPES: readonly MessageType[] = [
  'append',
  'append-response',
  'vote',
  'vote-response',
  'pre-vote',
  'pre-vote-response',
  'heartbeat',
  'heartbeat-response',
  'snapshot',
  'propose',
  'read-index',
  'read-index-response',
  'timeout-now',
  'transfer-leader',
]
const TYPE_CODES = new Map(MESSAGE_TYPES.map((type, code) => [type, code]))

/** Term, index and type of an entry, plus the length of its data. */
const ENTRY_HEADER_BYTES = 8 + 8 + 1 + 4

/** The largest encoded snapshot message: its state, plus everything else a message holds. */
export const RAFT_SNAPSHOT_MESSAGE_BYTES_MAX = RAFT_SNAPSHOT_BYTES_MAX + RAFT_MESSAGE_BYTES_MAX

export type RaftMessageCodecReason = 'truncated' | 'garbage' | 'oversized'

/** Input that is not a Raft message this codec wrote: `reason` says how it is wrong. */
export class RaftMessageCodecError extends Error {
  readonly reason: RaftMessageCodecReason

  constructor(reason: RaftMessageCodecReason, message: string) {
    super(message)
    this.name = 'RaftMessageCodecError'
    this.reason = reason
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Encodes every field of `message`. Throws RaftMessageCodecError('oversized') for a message
 * the receiver would refuse, so the sender learns it at once rather than the peer. */
export function encodeRaftMessage(message: Message): Uint8Array {
  const writer = new Writer()
  writer.u8(VERSION)
  writer.u8(TYPE_CODES.get(message.type) ?? fail('garbage', `unknown type ${message.type}`))
  writer.text(message.from, RAFT_NODE_ID_BYTES_MAX)
  writer.text(message.to, RAFT_NODE_ID_BYTES_MAX)
  for (const value of [message.term, message.logTerm, message.index, message.commit]) {
    writer.number(value)
  }
  writer.number(message.rejectHint)
  writer.u8(message.reject ? 1 : 0)
  writer.bytes(message.context, RAFT_CONTEXT_BYTES_MAX)
  writer.u32(message.entries.length)
  for (const entry of message.entries) writeEntry(writer, entry)
  writer.u8(message.snapshot === undefined ? 0 : 1)
  if (message.snapshot !== undefined) writeSnapshot(writer, message.snapshot)
  const bytes = writer.finish()
  checkSize(message.type, bytes.byteLength)
  return bytes
}

/** Decodes bytes written by encodeRaftMessage, refusing anything else with a typed error. */
export function decodeRaftMessage(bytes: Uint8Array): Message {
  if (bytes.byteLength > RAFT_SNAPSHOT_MESSAGE_BYTES_MAX) checkSize('snapshot', bytes.byteLength)
  const reader = new Reader(bytes)
  const version = reader.u8()
  if (version !== VERSION) fail('garbage', `unknown message version ${version}`)
  const type = MESSAGE_TYPES[reader.u8()] ?? fail('garbage', 'unknown message type')
  checkSize(type, bytes.byteLength)
  const from = reader.text(RAFT_NODE_ID_BYTES_MAX)
  const to = reader.text(RAFT_NODE_ID_BYTES_MAX)
  const term = reader.number()
  const logTerm = reader.number()
  const index = reader.number()
  const commit = reader.number()
  const rejectHint = reader.number()
  const reject = reader.flag()
  const context = reader.bytes(RAFT_CONTEXT_BYTES_MAX)
  const count = reader.count(ENTRY_HEADER_BYTES)
  const entries: Entry[] = []
  for (let i = 0; i < count; i++) entries.push(readEntry(reader))
  const snapshot = reader.flag() ? readSnapshot(reader) : undefined
  reader.end()
  return {
    type,
    from,
    to,
    term,
    logTerm,
    index,
    entries,
    commit,
    reject,
    rejectHint,
    snapshot,
    context,
  }
}

function checkSize(type: MessageType, byteLength: number): void {
  const max = type === 'snapshot' ? RAFT_SNAPSHOT_MESSAGE_BYTES_MAX : RAFT_MESSAGE_BYTES_MAX
  if (byteLength > max) {
    fail('oversized', `a ${type} message of ${byteLength} bytes is over the limit of ${max}`)
  }
}

function writeEntry(writer: Writer, entry: Entry): void {
  writer.number(entry.term)
  writer.number(entry.index)
  writer.u8(entry.type === 'conf-change' ? 1 : 0)
  writer.bytes(entry.data, RAFT_MESSAGE_BYTES_MAX)
}

function readEntry(reader: Reader): Entry {
  const term = reader.number()
  const index = reader.number()
  const type = reader.flag() ? 'conf-change' : 'normal'
  return { term, index, type, data: reader.bytes(RAFT_MESSAGE_BYTES_MAX) }
}

function writeSnapshot(writer: Writer, snapshot: Snapshot): void {
  const { index, term, confState } = snapshot.metadata
  writer.number(index)
  writer.number(term)
  for (const members of [confState.voters, confState.learners]) {
    writer.u32(members.length)
    for (const member of members) writer.text(member, RAFT_NODE_ID_BYTES_MAX)
  }
  writer.bytes(snapshot.data, RAFT_SNAPSHOT_BYTES_MAX)
}

function readSnapshot(reader: Reader): Snapshot {
  const index = reader.number()
  const term = reader.number()
  const members = (): string[] => {
    const count = reader.count(4)
    if (count > RAFT_MEMBERS_MAX) fail('oversized', `${count} members is over ${RAFT_MEMBERS_MAX}`)
    return Array.from({ length: count }, () => reader.text(RAFT_NODE_ID_BYTES_MAX))
  }
  const voters = members()
  const learners = members()
  const data = reader.bytes(RAFT_SNAPSHOT_BYTES_MAX)
  return { metadata: { index, term, confState: { voters, learners } }, data }
}

function fail(reason: RaftMessageCodecReason, message: string): never {
  throw new RaftMessageCodecError(reason, message)
}

/** Collects parts and copies them once into a buffer of the exact size. */
class Writer {
  readonly #parts: Uint8Array[] = []
  #length = 0

  u8(value: number): void {
    this.#push(Uint8Array.of(value))
  }

  u32(value: number): void {
    const part = new Uint8Array(4)
    new DataView(part.buffer).setUint32(0, value)
    this.#push(part)
  }

  /** Terms and indexes: float64 is exact for every integer a log reaches (up to 2^53). */
  number(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) fail('garbage', `${value} is not an index`)
    const part = new Uint8Array(8)
    new DataView(part.buffer).setFloat64(0, value)
    this.#push(part)
  }

  bytes(value: Uint8Array, max: number): void {
    if (value.byteLength > max) fail('oversized', `${value.byteLength} bytes is over ${max}`)
    this.u32(value.byteLength)
    this.#push(value)
  }

  text(value: string, max: number): void {
    this.bytes(encoder.encode(value), max)
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length)
    let at = 0
    for (const part of this.#parts) {
      out.set(part, at)
      at += part.byteLength
    }
    return out
  }

  #push(part: Uint8Array): void {
    this.#parts.push(part)
    this.#length += part.byteLength
  }
}

/** Reads fields in order; every read checks the bytes left first. */
class Reader {
  readonly #bytes: Uint8Array
  readonly #view: DataView
  #at = 0

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  u8(): number {
    this.#need(1)
    return this.#view.getUint8(this.#at++)
  }

  flag(): boolean {
    const value = this.u8()
    if (value > 1) fail('garbage', `${value} is not a flag`)
    return value === 1
  }

  u32(): number {
    this.#need(4)
    const value = this.#view.getUint32(this.#at)
    this.#at += 4
    return value
  }

  /** A count of items of at least `itemBytes` each, refused if the rest cannot hold them. */
  count(itemBytes: number): number {
    const count = this.u32()
    if (count * itemBytes > this.#bytes.byteLength - this.#at) {
      fail('truncated', `${count} items cannot fit in the bytes left`)
    }
    return count
  }

  number(): number {
    this.#need(8)
    const value = this.#view.getFloat64(this.#at)
    this.#at += 8
    if (!Number.isSafeInteger(value) || value < 0) fail('garbage', `${value} is not an index`)
    return value
  }

  bytes(max: number): Uint8Array {
    const length = this.u32()
    if (length > max) fail('oversized', `a field of ${length} bytes is over ${max}`)
    this.#need(length)
    // A copy into a plain Uint8Array: a Node Buffer's slice() shares memory with the frame.
    const value = new Uint8Array(this.#bytes.subarray(this.#at, this.#at + length))
    this.#at += length
    return value
  }

  text(max: number): string {
    try {
      return decoder.decode(this.bytes(max))
    } catch (error) {
      if (error instanceof RaftMessageCodecError) throw error
      return fail('garbage', 'a node id is not UTF-8')
    }
  }

  end(): void {
    const left = this.#bytes.byteLength - this.#at
    if (left !== 0) fail('garbage', `${left} bytes after the end of the message`)
  }

  #need(length: number): void {
    if (this.#at + length > this.#bytes.byteLength) {
      fail(
        'truncated',
        `the message ends ${this.#at + length - this.#bytes.byteLength} bytes short`,
      )
    }
  }
}
