// Cutting a numpy `.npy` array into shards along its first axis (rows), each a `.npy` of its
// own that numpy loads as it loaded the whole. Only the plain layout is cut: a C-ordered array
// of a fixed-size scalar dtype. An object array is refused: its data is a pickle, and reading
// one is running code. Format: numpy's NEP 1 (magic, version, header length, a dict literal).
import { ShardSplitError } from './split-dataset.ts'

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] // "\x93NUMPY"
/** numpy pads the magic, version, length and header to a multiple of 64 bytes. */
const ALIGNMENT = 64
/** A scalar dtype: byte order, kind, item size (`<f8`, `|u1`, `>i4`, `<c16`, `|b1`). */
const SCALAR_DESCR = /^[<>|=]([biufc])(\d+)$/
/** numpy's own header bound (`_MAX_HEADER_SIZE`): a longer header is not read. */
const HEADER_BYTES_MAX = 10_000

interface NpyHeader {
  readonly descr: string
  readonly shape: readonly number[]
  readonly dataOffset: number
  readonly rowBytes: number
}

function parseHeader(bytes: Uint8Array): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((byte, at) => bytes[at] !== byte)) {
    throw new ShardSplitError('not a .npy file: it does not start with numpy’s magic bytes')
  }
  const major = bytes[6] as number
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const lengthBytes = major === 1 ? 2 : 4
  const length = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true)
  const start = 8 + lengthBytes
  if (major < 1 || major > 3 || length > HEADER_BYTES_MAX || start + length > bytes.length) {
    throw new ShardSplitError(`a .npy header of version ${major} is not read`)
  }
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(start, start + length),
  )
  const descr = /'descr':\s*'([^']*)'/.exec(text)?.[1]
  const fortran = /'fortran_order':\s*(True|False)/.exec(text)?.[1]
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1]
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new ShardSplitError('the .npy header does not say its dtype, order and shape')
  }
  const scalar = SCALAR_DESCR.exec(descr)
  if (scalar === null) {
    throw new ShardSplitError(`a .npy of dtype ${descr} is not split: only plain numbers are`)
  }
  if (fortran === 'True') throw new ShardSplitError('a Fortran-ordered .npy is not split by rows')
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(Number)
  if (shape.length === 0 || shape.some((side) => !Number.isSafeInteger(side) || side < 0)) {
    throw new ShardSplitError('a .npy of no rows (a scalar) is not split')
  }
  const rowBytes = shape.slice(1).reduce((product, side) => product * side, Number(scalar[2]))
  const dataOffset = start + length
  if (bytes.length - dataOffset !== rowBytes * (shape[0] as number)) {
    throw new ShardSplitError('the .npy holds other than the bytes its shape says')
  }
  return { descr, shape, dataOffset, rowBytes }
}

/** A version 1.0 header for `descr` and `shape`, padded as numpy pads it. */
function header(descr: string, shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ')
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1
  const padded = dict + ' '.repeat((ALIGNMENT - (unpadded % ALIGNMENT)) % ALIGNMENT) + '\n'
  const out = new Uint8Array(MAGIC.length + 4 + padded.length)
  out.set(MAGIC)
  out.set([1, 0, padded.length & 0xff, padded.length >> 8], MAGIC.length)
  out.set(new TextEncoder().encode(padded), MAGIC.length + 4)
  return out
}

/** The rows of a `.npy` (its first axis), as splitNpy counts them. */
export function npyRows(bytes: Uint8Array): number {
  return parseHeader(bytes).shape[0] as number
}

/** Cuts a `.npy` into `shards` arrays of consecutive rows, as even as can be (the first ones
 * take one row more). Throws ShardSplitError for an array that is not cut, or has fewer rows
 * than shards. */
export function splitNpy(bytes: Uint8Array, shards: number): Uint8Array[] {
  const { descr, shape, dataOffset, rowBytes } = parseHeader(bytes)
  const rows = shape[0] as number
  if (rows < shards) throw new ShardSplitError(`the array has ${rows} rows, fewer than ${shards}`)
  const out: Uint8Array[] = []
  let row = 0
  for (let shard = 0; shard < shards; shard++) {
    const count = Math.floor(rows / shards) + (shard < rows % shards ? 1 : 0)
    const head = header(descr, [count, ...shape.slice(1)])
    const data = bytes.subarray(dataOffset + row * rowBytes, dataOffset + (row + count) * rowBytes)
    const piece = new Uint8Array(head.length + data.length)
    piece.set(head)
    piece.set(data, head.length)
    out.push(piece)
    row += count
  }
  return out
}
