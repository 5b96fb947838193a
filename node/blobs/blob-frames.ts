// Frames of `/gridx/blob/2.0.0`, each length-prefixed. The fetcher sends one request; the
// holder answers with a header, then, if it has the blob, with the blob in chunks in order,
// never more than the fetcher granted: the request grants BLOB_CHUNKS_IN_FLIGHT chunks, and
// the fetcher grants more with a credit frame as it stores what arrived.
// A chunk is two frames: a digest, the SHA-256 of the blob from its first byte to the chunk's
// last (32 bytes), then the chunk's data. A chunk damaged on the way is refused where it
// arrives, and the last chunk's digest is the blob's own, the one its CID names. Two frames
// sent in one write, so that the data is never copied to sit behind its digest.
import type { Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { z } from 'zod'
import { BLOB_BYTES_MAX, BLOB_CHUNKS_IN_FLIGHT, cidSchema } from '../../protocol/index.ts'
import { BlobProtocolError } from './errors.ts'

export const blobRequestSchema = z.object({ cid: cidSchema }).strict()
export type BlobRequest = z.infer<typeof blobRequestSchema>

export const blobHeaderSchema = z.union([
  z.object({ size: z.number().int().min(0).max(BLOB_BYTES_MAX) }).strict(),
  z.object({ missing: z.literal(true) }).strict(),
])
export type BlobHeader = z.infer<typeof blobHeaderSchema>

export const blobCreditSchema = z
  .object({ credit: z.number().int().min(1).max(BLOB_CHUNKS_IN_FLIGHT) })
  .strict()
export type BlobCredit = z.infer<typeof blobCreditSchema>

const DIGEST_BYTES = 32
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeJson(value: BlobRequest | BlobHeader | BlobCredit): Uint8Array {
  return encoder.encode(JSON.stringify(value))
}

/** Parses a request or header frame; anything else is a BlobProtocolError. */
export function decodeJson<T>(frame: Uint8Array, schema: z.ZodType<T>): T {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(frame))
  } catch (error) {
    throw new BlobProtocolError('a blob frame is not JSON', { cause: error })
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new BlobProtocolError('a blob frame is malformed')
  return parsed.data
}

/** A frame as it is read: the pieces it arrived in. */
export type Frame = Awaited<ReturnType<LengthPrefixedStream<Stream>['read']>>

/** The digest frame before a chunk's data. */
export function decodeDigest(frame: Frame): Uint8Array {
  if (frame.byteLength !== DIGEST_BYTES) {
    throw new BlobProtocolError(`a digest frame of ${frame.byteLength} bytes, not ${DIGEST_BYTES}`)
  }
  return frame.subarray()
}
