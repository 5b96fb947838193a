// Frames of `/gridx/blob/1.0.0`, each length-prefixed. The fetcher sends one request; the
// holder answers with a header, then, if it has the blob, with the blob in chunks in order,
// never more than the fetcher granted: the request grants BLOB_CHUNKS_IN_FLIGHT chunks, and
// the fetcher grants more with a credit frame as it stores what arrived.
// A chunk frame is the SHA-256 of its data (32 bytes) and the data, so that a chunk damaged on
// the way is refused where it arrives; the whole blob is checked against its CID at the end.
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { BLOB_BYTES_MAX, BLOB_CHUNKS_IN_FLIGHT, cidSchema } from '../../protocol/index.ts'
import { BlobHashMismatchError, BlobProtocolError } from './errors.ts'

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

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest()
}

/** A chunk frame: its digest, then its data. */
export function encodeChunk(data: Uint8Array, digest: Uint8Array = sha256(data)): Uint8Array[] {
  return [digest, data]
}

/** The data of a chunk frame whose digest matches it. */
export function decodeChunk(frame: Uint8Array, offset: number): Uint8Array {
  if (frame.byteLength <= DIGEST_BYTES) {
    throw new BlobProtocolError(`a chunk frame of ${frame.byteLength} bytes carries no data`)
  }
  const data = frame.subarray(DIGEST_BYTES)
  if (!sha256(data).equals(frame.subarray(0, DIGEST_BYTES))) {
    throw new BlobHashMismatchError(`the chunk at byte ${offset} does not match its hash`)
  }
  return data
}
