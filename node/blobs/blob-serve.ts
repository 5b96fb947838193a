// The holder's side of one blob stream: a header, then the blob in chunks, each after the
// digest of the blob up to its end, each within the credit the fetcher granted
// (BLOB_CHUNKS_IN_FLIGHT with its request, more in credit frames as it stores them).
// The holder hashes what it reads as it sends it, once: the digest of each chunk is its running
// hash so far, and at the end that hash is checked against the CID, so a copy damaged on its
// own disk is found, dropped from its store and the stream aborted; the fetcher refuses it too
// (the last digest is not the CID's) and no other peer is sent it again.
import { createHash } from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import type { Logger } from 'pino'
import {
  BLOB_CHUNK_BYTES,
  BLOB_CHUNK_TIMEOUT_MS,
  BLOB_CHUNKS_IN_FLIGHT,
  sha256OfCid,
} from '../../protocol/index.ts'
import type { BlobStore } from './blob-store.ts'
import { blobCreditSchema, decodeJson, encodeJson } from './blob-frames.ts'
import { BlobHashMismatchError } from './errors.ts'
import { IdleTimeout } from './idle-timeout.ts'

export interface ServeBlobInit {
  readonly lp: LengthPrefixedStream<Stream>
  readonly store: BlobStore
  readonly cid: string
  readonly signal: AbortSignal
  readonly logger: Logger
  readonly peer: string
  readonly damageChunk?: (index: number) => boolean
}

export async function serveBlob(init: ServeBlobInit): Promise<void> {
  const size = init.store.size(init.cid)
  const idle = new IdleTimeout(BLOB_CHUNK_TIMEOUT_MS, [init.signal])
  try {
    await send(init, size, idle)
  } finally {
    idle.clear()
  }
}

async function send(init: ServeBlobInit, size: number | null, idle: IdleTimeout): Promise<void> {
  const { lp, store, cid } = init
  const { signal } = idle
  idle.touch()
  if (size === null) return lp.write(encodeJson({ missing: true }), { signal })
  await lp.write(encodeJson({ size }), { signal })
  const whole = createHash('sha256')
  let index = 0
  let credit = BLOB_CHUNKS_IN_FLIGHT
  for await (const piece of store.read(cid, 0, BLOB_CHUNK_BYTES)) {
    while (credit === 0) {
      credit += decodeJson((await lp.read({ signal })).subarray(), blobCreditSchema).credit
    }
    credit -= 1
    const data = piece as Buffer
    whole.update(data)
    const digest = whole.copy().digest()
    if (init.damageChunk?.(index) === true) data[0] = (data[0] ?? 0) ^ 0xff
    idle.touch()
    await lp.writeV([digest, data], { signal })
    index += 1
  }
  if (whole.digest('hex') !== sha256OfCid(cid)) {
    init.logger.error({ cid, peer: init.peer }, 'a stored blob was damaged on disk; dropped it')
    await store.remove(cid)
    throw new BlobHashMismatchError(`this peer's copy of ${cid} was damaged on disk`)
  }
}
