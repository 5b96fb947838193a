// The fetcher's side of one blob stream once the holder has announced the blob's size: chunks
// in order, each a digest frame and a data frame, within the credit this side grants. A
// chunk's digest is the SHA-256 of the blob from its first byte to the chunk's last, so the
// store's one running hash of what it writes checks every chunk as it arrives (through
// WriteOptions.onHashed) and, at the last, the whole: each fetched byte is hashed once, where
// a digest of each chunk on its own needed a second pass over every byte.
import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { BLOB_CHUNK_BYTES, BLOB_CHUNKS_IN_FLIGHT } from '../../protocol/index.ts'
import { decodeDigest, encodeJson } from './blob-frames.ts'
import { BlobHashMismatchError, BlobProtocolError } from './errors.ts'
import type { IdleTimeout } from './idle-timeout.ts'

/** A chunk read whose digest the store has not yet reached. */
interface PendingChunk {
  readonly start: number
  readonly end: number
  readonly digest: Uint8Array
}

export class ChunkReceiver {
  readonly #lp: LengthPrefixedStream<Stream>
  readonly #size: number
  readonly #idle: IdleTimeout
  #pending: PendingChunk | null = null

  constructor(lp: LengthPrefixedStream<Stream>, size: number, idle: IdleTimeout) {
    this.#lp = lp
    this.#size = size
    this.#idle = idle
  }

  /**
   * The blob's bytes, in the pieces they arrived in, for BlobStore.write with `check` as its
   * onHashed: the next chunk is read only once the store has hashed (and so checked) the last.
   * Once half the granted chunks are stored, it grants as many more.
   */
  async *pieces(): AsyncGenerator<Uint8Array> {
    const lp = this.#lp
    const { signal } = this.#idle
    const grant = BLOB_CHUNKS_IN_FLIGHT / 2
    let received = 0
    let stored = 0
    while (received < this.#size) {
      assert(this.#pending === null, 'the store checks each chunk before it asks for the next')
      this.#idle.touch()
      if (stored === grant) {
        await lp.write(encodeJson({ credit: grant }), { signal })
        stored = 0
      }
      const digest = decodeDigest(await lp.read({ signal }))
      const data = await lp.read({ signal })
      if (data.byteLength === 0 || data.byteLength > BLOB_CHUNK_BYTES) {
        throw new BlobProtocolError(`a chunk of ${data.byteLength} bytes at byte ${received}`)
      }
      this.#pending = { start: received, end: received + data.byteLength, digest }
      received += data.byteLength
      yield* data
      stored += 1
    }
  }

  /** The store's onHashed: refuses the chunk whose end the store reached if its digest is not
   * the store's digest of every byte up to there. */
  check(bytes: number, sha256: () => Uint8Array): void {
    const pending = this.#pending
    if (pending === null || bytes < pending.end) return
    if (Buffer.compare(sha256(), pending.digest) !== 0) {
      throw new BlobHashMismatchError(`the chunk at byte ${pending.start} does not match its hash`)
    }
    this.#pending = null
  }
}
