// The wire codec of Raft messages: every message survives a round trip, and anything that is
// not a whole message this codec wrote is refused with a typed error, never a crash or a guess.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { message } from '../../../ledger/raft/index.ts'
import type { Entry, Message, MessageType, Snapshot } from '../../../ledger/raft/index.ts'
import {
  RaftMessageCodecError,
  decodeRaftMessage,
  encodeRaftMessage,
} from '../../../ledger/storage/index.ts'
import {
  RAFT_CONTEXT_BYTES_MAX,
  RAFT_MESSAGE_BYTES_MAX,
  RAFT_NODE_ID_BYTES_MAX,
} from '../../../protocol/index.ts'

const TYPES: MessageType[] = [
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

const index = fc.maxSafeNat()
const nodeId = fc.string({ maxLength: 60, unit: 'grapheme' })
const bytes = (maxLength: number) => fc.uint8Array({ maxLength })

const entry: fc.Arbitrary<Entry> = fc.record({
  term: index,
  index,
  type: fc.constantFrom('normal' as const, 'conf-change' as const),
  data: bytes(64),
})

const snapshot: fc.Arbitrary<Snapshot> = fc.record({
  metadata: fc.record({
    index,
    term: index,
    confState: fc.record({
      voters: fc.array(nodeId, { maxLength: 5 }),
      learners: fc.array(nodeId, { maxLength: 5 }),
    }),
  }),
  data: bytes(256),
})

const raftMessage: fc.Arbitrary<Message> = fc.record({
  type: fc.constantFrom(...TYPES),
  from: nodeId,
  to: nodeId,
  term: index,
  logTerm: index,
  index,
  entries: fc.array(entry, { maxLength: 8 }),
  commit: index,
  reject: fc.boolean(),
  rejectHint: index,
  snapshot: fc.option(snapshot, { nil: undefined }),
  context: bytes(32),
})

function refusal(input: Uint8Array): RaftMessageCodecError {
  try {
    decodeRaftMessage(input)
  } catch (error) {
    expect(error).toBeInstanceOf(RaftMessageCodecError)
    return error as RaftMessageCodecError
  }
  throw new Error('decoded input that should have been refused')
}

describe('raft message codec', () => {
  it('should decode exactly the message it encoded when given any message', () => {
    fc.assert(
      fc.property(raftMessage, (original) => {
        expect(decodeRaftMessage(encodeRaftMessage(original))).toEqual(original)
      }),
      { numRuns: 500 },
    )
  })

  it('should refuse as truncated when any prefix of a message is given', () => {
    fc.assert(
      fc.property(raftMessage, fc.nat(), (original, cut) => {
        const encoded = encodeRaftMessage(original)
        const prefix = encoded.subarray(0, cut % encoded.byteLength)
        expect(refusal(prefix).reason).toBe('truncated')
      }),
      { numRuns: 300 },
    )
  })

  it('should refuse trailing bytes as garbage when a message is followed by more', () => {
    const encoded = encodeRaftMessage(message('heartbeat', 'a', 'b', { term: 3, commit: 2 }))
    const longer = new Uint8Array(encoded.byteLength + 1)
    longer.set(encoded)
    expect(refusal(longer).reason).toBe('garbage')
  })

  it('should throw only its typed error when given random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (input) => {
        try {
          decodeRaftMessage(input)
        } catch (error) {
          expect(error).toBeInstanceOf(RaftMessageCodecError)
        }
      }),
      { numRuns: 1000 },
    )
  })

  it('should refuse an unknown version or type as garbage when the header is wrong', () => {
    const encoded = encodeRaftMessage(message('vote', 'a', 'b', { term: 1 }))
    expect(refusal(Uint8Array.of(9, ...encoded.subarray(1))).reason).toBe('garbage')
    expect(refusal(Uint8Array.of(1, 200, ...encoded.subarray(2))).reason).toBe('garbage')
  })

  it('should refuse a forged length as oversized when it is over a field limit', () => {
    // Version, type, then the u32 length of `from`: claim far more than a node id may be.
    const forged = Uint8Array.of(1, 0, 0xff, 0xff, 0xff, 0xff)
    expect(refusal(forged).reason).toBe('oversized')
  })

  it('should refuse an entry count as truncated when the bytes left cannot hold it', () => {
    const encoded = encodeRaftMessage(message('append', 'a', 'b', { term: 1 }))
    // The entry count sits just before the snapshot flag, the last byte.
    const view = new DataView(encoded.buffer, encoded.byteOffset)
    view.setUint32(encoded.byteLength - 5, 0xffffffff)
    expect(refusal(encoded).reason).toBe('truncated')
  })

  it('should refuse to encode a message when a field is over its limit', () => {
    const longId = 'x'.repeat(RAFT_NODE_ID_BYTES_MAX + 1)
    const bigContext = new Uint8Array(RAFT_CONTEXT_BYTES_MAX + 1)
    for (const fields of [{ from: longId }, { context: bigContext }]) {
      const oversized = { ...message('read-index', 'a', 'b', {}), ...fields }
      expect(() => encodeRaftMessage(oversized)).toThrow(RaftMessageCodecError)
    }
  })

  it('should refuse a message as oversized when it is not a snapshot and over the limit', () => {
    const data = new Uint8Array(RAFT_MESSAGE_BYTES_MAX)
    const entries = [{ term: 1, index: 1, type: 'normal' as const, data }]
    const append = message('append', 'a', 'b', { term: 1, entries })
    expect(() => encodeRaftMessage(append)).toThrow(/over the limit/)
    const big = new Uint8Array(RAFT_MESSAGE_BYTES_MAX + 1)
    big.set(encodeRaftMessage(message('append', 'a', 'b', { term: 1 })))
    expect(refusal(big).reason).toBe('oversized')
  })

  it('should refuse a negative or fractional index when one is encoded', () => {
    expect(() => encodeRaftMessage(message('append', 'a', 'b', { term: -1 }))).toThrow(
      RaftMessageCodecError,
    )
    expect(() => encodeRaftMessage(message('append', 'a', 'b', { index: 1.5 }))).toThrow(
      RaftMessageCodecError,
    )
  })
})

describe('raft message codec over a Node buffer', () => {
  it('should decode plain byte arrays that own their memory when the input is a Buffer', () => {
    const data = Uint8Array.of(1, 2, 3)
    const sent = message('append', 'a', 'b', {
      entries: [{ term: 1, index: 1, type: 'normal', data }],
    })
    const frame = Buffer.from(encodeRaftMessage(sent))
    const decoded = decodeRaftMessage(frame)
    expect(decoded).toEqual(sent)
    frame.fill(0)
    expect(decoded.entries[0]?.data).toEqual(data)
  })
})
