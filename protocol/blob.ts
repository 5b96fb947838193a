// Files as content-addressed blobs (DESIGN section 6): a blob is named by the SHA-256 of its
// bytes, written as a CIDv1 (raw codec, sha2-256 multihash, base32) so that the names mean
// the same thing to any IPFS tool. A job's inputs and outputs are lists of (name, CID, size):
// the log carries those and never the bytes. Browser-safe: no node:*, no dependency.
import { z } from 'zod'
import { utf8Bytes } from './bytes.ts'
import * as limits from './limits.ts'

export const BLOB_PROTOCOL = '/gridx/blob/2.0.0'

/** The HTTP path of one blob under the API: `${BLOBS_PATH}/<cid>` (PUT, HEAD, GET). */
export const BLOBS_PATH = '/api/v1/blobs'

/** CIDv1 prefix for a raw-codec sha2-256 blob: version 1, codec 0x55, multihash 0x12, 32. */
const CID_PREFIX = [0x01, 0x55, 0x12, 0x20]
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'
const SHA256_HEX = /^[0-9a-f]{64}$/

function base32(bytes: readonly number[]): string {
  let out = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31]
  return out
}

function unbase32(text: string): number[] | null {
  const out: number[] = []
  let buffer = 0
  let bits = 0
  for (const char of text) {
    const value = BASE32.indexOf(char)
    if (value < 0) return null
    buffer = ((buffer << 5) | value) & 0xffff
    bits += 5
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return out
}

/** The CID of a blob whose SHA-256 is `sha256` (64 hex digits). */
export function cidOfSha256(sha256: string): string {
  if (!SHA256_HEX.test(sha256)) throw new TypeError('a sha256 is 64 lowercase hex digits')
  const digest = sha256.match(/../g)!.map((pair) => parseInt(pair, 16))
  return `b${base32([...CID_PREFIX, ...digest])}`
}

/** The SHA-256 (hex) a CID names, or null when it is not a raw sha2-256 CIDv1 in base32. */
export function sha256OfCid(cid: string): string | null {
  if (cid.length !== 59 || !cid.startsWith('b')) return null
  const bytes = unbase32(cid.slice(1))
  if (bytes?.length !== 36) return null
  if (CID_PREFIX.some((byte, at) => bytes[at] !== byte)) return null
  const hex = bytes
    .slice(4)
    .map((byte) => byte.toString(16).padStart(2, '0'))
    .join('')
  // Only the canonical spelling is a name: trailing bits must be zero.
  return cidOfSha256(hex) === cid ? hex : null
}

export const cidSchema = z.string().refine((text) => sha256OfCid(text) !== null, {
  message: 'not a raw sha2-256 CIDv1 (bafkrei…)',
})

function isControlOrBackslash(char: string): boolean {
  const code = char.codePointAt(0) ?? 0
  return code < 0x20 || code === 0x7f || char === '\\'
}

/** A name inside `inputs/` or `outputs/`: a relative path of plain segments, so that no name
 * can climb out of its directory or hide as `.`; NUL and control characters are refused, as a
 * file system or a terminal would mangle them. */
export const fileNameSchema = z
  .string()
  .min(1)
  .refine((name) => utf8Bytes(name) <= limits.JOB_FILE_NAME_BYTES_MAX, {
    message: `a file name exceeds ${limits.JOB_FILE_NAME_BYTES_MAX} bytes`,
  })
  .refine((name) => name.isWellFormed() && ![...name].some(isControlOrBackslash), {
    message: 'a file name contains a control character or a backslash',
  })
  .refine(
    (name) => {
      const segments = name.split('/')
      return (
        segments.length <= limits.JOB_FILE_DEPTH_MAX &&
        segments.every((segment) => segment !== '' && segment !== '.' && segment !== '..')
      )
    },
    { message: 'a file name is a relative path without empty, . or .. segments' },
  )

/** One file of a job: where it sits, what it is, how big. */
export const jobFileSchema = z
  .object({
    name: fileNameSchema,
    cid: cidSchema,
    size: z.number().int().min(0).max(limits.BLOB_BYTES_MAX),
  })
  .strict()
export type JobFile = z.infer<typeof jobFileSchema>

/** The first problem with a set of names of one directory tree, or null: two files of one
 * name, or a file where another name needs a directory. */
export function fileTreeProblem(names: readonly string[]): string | null {
  const files = new Set<string>()
  for (const name of names) {
    if (files.has(name)) return `two files are named ${name}`
    files.add(name)
  }
  for (const name of names) {
    const segments = name.split('/')
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = segments.slice(0, depth).join('/')
      if (files.has(parent)) return `${parent} is a file and a directory of ${name}`
    }
  }
  return null
}

export interface FilesBounds {
  readonly count: number
  readonly fileBytes: number
  readonly bytes: number
}

/** The files of one tree (a job's inputs or outputs), bounded in count, bytes per file and
 * total bytes. */
export function jobFilesSchema(what: 'inputs' | 'outputs', bounds: FilesBounds) {
  const { count, fileBytes, bytes } = bounds
  return z
    .array(jobFileSchema)
    .max(count, { message: `at most ${count} ${what} per job` })
    .superRefine((files, context) => {
      const big = files.find((file) => file.size > fileBytes)
      if (big !== undefined) {
        context.addIssue({
          code: 'custom',
          message: `${big.name} is ${big.size} bytes; one of a job's ${what} may be ${fileBytes}`,
        })
      }
      const problem = fileTreeProblem(files.map((file) => file.name))
      if (problem !== null) context.addIssue({ code: 'custom', message: problem })
      const total = files.reduce((sum, file) => sum + file.size, 0)
      if (total > bytes) {
        context.addIssue({
          code: 'custom',
          message: `a job's ${what} may total ${bytes} bytes; these total ${total}`,
        })
      }
    })
}

/** A job's inputs as the API takes them. */
export const jobInputsSchema = jobFilesSchema('inputs', {
  count: limits.JOB_INPUTS_MAX,
  fileBytes: limits.JOB_INPUT_FILE_BYTES_MAX,
  bytes: limits.JOB_INPUTS_BYTES_MAX,
})

/** A run's outputs as an executor reports them: the disk quota bounds their bytes. */
export const jobOutputsSchema = jobFilesSchema('outputs', {
  count: limits.JOB_OUTPUTS_MAX,
  fileBytes: limits.BLOB_BYTES_MAX,
  bytes: limits.BLOB_BYTES_MAX,
})
