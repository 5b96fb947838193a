// Cutting a sharded job's dataset into shards, by rows: a CSV into N CSVs that each keep the
// header, or the files of a directory into N groups. Pure: bytes in, bytes out; the daemon
// stores each shard as a blob of its own (shard-submit.ts).
import { SHARD_INPUT_NAME } from '../../protocol/index.ts'
import type { JobFile } from '../../protocol/index.ts'

/** A dataset that cannot be split as asked; the message says why in the user's terms. */
export class ShardSplitError extends Error {
  override name = 'ShardSplitError'
}

export type DatasetKind = 'csv' | 'npy' | 'files'

const QUOTE = 0x22
const NEWLINE = 0x0a

/** How `inputs` are split: one CSV or `.npy` by rows, several files by file. Throws
 * ShardSplitError for what is not split (an `.npz`, one file of another kind, no file). */
export function datasetKind(inputs: readonly JobFile[]): DatasetKind {
  if (inputs.length === 0) throw new ShardSplitError('a sharded job needs --input: the dataset')
  if (inputs.length > 1) return 'files'
  const name = (inputs[0] as JobFile).name.toLowerCase()
  if (name.endsWith('.npy')) return 'npy'
  if (name.endsWith('.npz')) {
    throw new ShardSplitError(
      `${name}: .npz archives are not split into shards yet; save each array with numpy.save ` +
        'and give the .npy, or give a CSV or a directory of files (one or more per shard)',
    )
  }
  if (!name.endsWith('.csv')) {
    throw new ShardSplitError(`${name}: only a .csv or .npy file (or a directory) is split`)
  }
  return 'csv'
}

/** Offsets just past each row's end (its newline, or the end of the bytes). A newline inside
 * a quoted field belongs to its row (RFC 4180), so a row is never cut in two. */
function rowEnds(bytes: Uint8Array): number[] {
  const ends: number[] = []
  let quoted = false
  for (let at = 0; at < bytes.length; at++) {
    const byte = bytes[at]
    if (byte === QUOTE) quoted = !quoted
    else if (byte === NEWLINE && !quoted) ends.push(at + 1)
  }
  if (ends.at(-1) !== bytes.length && bytes.length > 0) ends.push(bytes.length)
  return ends
}

/** The data rows of a CSV (its rows but the header), as splitCsv counts them. */
export function csvRows(bytes: Uint8Array): number {
  return Math.max(rowEnds(bytes).length - 1, 0)
}

/** Cuts a CSV into `shards` CSVs of consecutive rows, as even as can be (the first ones take
 * one row more), each starting with the header row. A last row without a newline gets one,
 * so that shards concatenate to rows. Throws ShardSplitError when there are fewer data rows
 * than shards: a shard of no rows would run a job for nothing. */
export function splitCsv(bytes: Uint8Array, shards: number): Uint8Array[] {
  const ends = rowEnds(bytes)
  const rows = ends.length - 1
  if (rows < shards) {
    throw new ShardSplitError(`the CSV has ${Math.max(rows, 0)} data rows, fewer than ${shards}`)
  }
  const header = withNewline(bytes.subarray(0, ends[0]))
  const out: Uint8Array[] = []
  let row = 0
  for (let shard = 0; shard < shards; shard++) {
    const count = Math.floor(rows / shards) + (shard < rows % shards ? 1 : 0)
    const start = ends[row] as number
    const end = ends[row + count] as number
    row += count
    out.push(concat(header, withNewline(bytes.subarray(start, end))))
  }
  return out
}

function withNewline(bytes: Uint8Array): Uint8Array {
  if (bytes.length > 0 && bytes[bytes.length - 1] === NEWLINE) return bytes
  return concat(bytes, Uint8Array.of(NEWLINE))
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** Groups the files of a directory into `shards` runs of consecutive files by name, as even
 * as can be, each named `shard/<name>` with the directory's own name dropped when every file
 * is under it. The blobs are the same: only the names change. */
export function splitFiles(files: readonly JobFile[], shards: number): JobFile[][] {
  if (files.length < shards) {
    throw new ShardSplitError(`the dataset has ${files.length} files, fewer than ${shards} shards`)
  }
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const top = commonDirectory(sorted)
  const out: JobFile[][] = []
  let at = 0
  for (let shard = 0; shard < shards; shard++) {
    const count = Math.floor(files.length / shards) + (shard < files.length % shards ? 1 : 0)
    out.push(
      sorted.slice(at, at + count).map((file) => ({
        ...file,
        name: `${SHARD_INPUT_NAME}/${file.name.slice(top.length)}`,
      })),
    )
    at += count
  }
  return out
}

/** `dir/` when every name starts with it, else the empty string. */
function commonDirectory(files: readonly JobFile[]): string {
  const first = (files[0] as JobFile).name
  const slash = first.indexOf('/')
  if (slash < 0) return ''
  const top = first.slice(0, slash + 1)
  return files.every((file) => file.name.startsWith(top)) ? top : ''
}
