// The app's PNG icons, drawn and encoded here at build time: an indexed-colour PNG (two bits
// per pixel) in stored (uncompressed) deflate blocks. No image library, no node:* (this area
// is browser-safe by the lint rule), and the result stays small because of the palette.

/** Colours of the icon (RGB), indexed by the pixel values of `drawIcon`. */
export const ICON_PALETTE: readonly (readonly [number, number, number])[] = [
  [0x1f, 0x5f, 0xbf], // background
  [0xff, 0xff, 0xff], // cells
  [0xff, 0xb3, 0x47], // the busy cell
  [0x00, 0x00, 0x00], // outside the rounded corners (transparent)
]
const TRANSPARENT = 3

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

function adler32(bytes: Uint8Array): number {
  let a = 1
  let b = 0
  for (const byte of bytes) {
    a = (a + byte) % 65521
    b = (b + a) % 65521
  }
  return ((b << 16) | a) >>> 0
}

/** A zlib stream of stored blocks (each at most 65535 bytes). */
export function zlibStored(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / 65535))
  const out = new Uint8Array(2 + data.length + blocks * 5 + 4)
  const view = new DataView(out.buffer)
  out[0] = 0x78
  out[1] = 0x01
  let at = 2
  for (let block = 0; block < blocks; block++) {
    const chunk = data.subarray(block * 65535, (block + 1) * 65535)
    out[at] = block === blocks - 1 ? 1 : 0
    view.setUint16(at + 1, chunk.length, true)
    view.setUint16(at + 3, ~chunk.length & 0xffff, true)
    out.set(chunk, at + 5)
    at += 5 + chunk.length
  }
  view.setUint32(at, adler32(data))
  return out
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  out.set(data, 8)
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)))
  return out
}

/** Encodes `size`×`size` pixels of palette indices (0 to 3) as a PNG. */
export function encodeIndexedPng(
  size: number,
  pixel: (x: number, y: number) => number,
): Uint8Array {
  const rowBytes = Math.ceil(size / 4)
  const raw = new Uint8Array((rowBytes + 1) * size)
  for (let y = 0; y < size; y++) {
    const row = y * (rowBytes + 1) // byte 0 of each row: filter type 0 (none)
    for (let x = 0; x < size; x++) {
      raw[row + 1 + (x >> 2)]! |= (pixel(x, y) & 3) << (6 - 2 * (x & 3))
    }
  }
  const header = new Uint8Array(13)
  const view = new DataView(header.buffer)
  view.setUint32(0, size)
  view.setUint32(4, size)
  header.set([2, 3, 0, 0, 0], 8) // bit depth 2, colour type 3 (indexed)
  const palette = new Uint8Array(ICON_PALETTE.flat())
  const alpha = new Uint8Array(ICON_PALETTE.map((_, index) => (index === TRANSPARENT ? 0 : 255)))
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('PLTE', palette),
    chunk('tRNS', alpha),
    chunk('IDAT', zlibStored(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** The Grid-X mark (a 2×2 grid of cells, one busy) on a 16-unit canvas, as in icon.svg.
 * `maskable` fills the whole square and keeps the mark inside the central safe zone. */
export function drawIcon(size: number, maskable: boolean): Uint8Array {
  const inset = maskable ? 0.2 : 0 // the safe zone of a maskable icon is the central 80 %
  const unit = (size * (1 - inset)) / 16
  const origin = (size * inset) / 2
  const inCell = (u: number, v: number, x0: number, y0: number) =>
    u >= x0 && u < x0 + 4 && v >= y0 && v < y0 + 4
  return encodeIndexedPng(size, (x, y) => {
    if (!maskable && outsideRoundedSquare(x, y, size, (3 / 16) * size)) return TRANSPARENT
    const u = (x + 0.5 - origin) / unit
    const v = (y + 0.5 - origin) / unit
    if (inCell(u, v, 9, 9)) return 2
    if (inCell(u, v, 3, 3) || inCell(u, v, 9, 3) || inCell(u, v, 3, 9)) return 1
    return 0
  })
}

function outsideRoundedSquare(x: number, y: number, size: number, radius: number): boolean {
  const cx = Math.min(Math.max(x + 0.5, radius), size - radius)
  const cy = Math.min(Math.max(y + 0.5, radius), size - radius)
  return (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 > radius ** 2
}
