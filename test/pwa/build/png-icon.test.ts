import { inflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { crc32, drawIcon, zlibStored } from '../../../pwa/build/png-icon.ts'

function chunks(png: Uint8Array) {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength)
  const found: { type: string; data: Uint8Array; crcOk: boolean }[] = []
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at)
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8))
    const data = png.subarray(at + 8, at + 8 + length)
    const crcOk = view.getUint32(at + 8 + length) === crc32(png.subarray(at + 4, at + 8 + length))
    found.push({ type, data, crcOk })
    at += 12 + length
  }
  return found
}

describe('png-icon', () => {
  it('should compute the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926)
  })

  it('should write zlib streams that zlib inflates, across several stored blocks', () => {
    const data = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff)
    expect(Buffer.compare(inflateSync(zlibStored(data)), data)).toBe(0)
  })

  it('should draw valid PNGs of the asked size with every chunk checksum right', () => {
    for (const [size, maskable] of [
      [192, false],
      [512, true],
    ] as const) {
      const png = drawIcon(size, maskable)
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
      const parts = chunks(png)
      expect(parts.map((part) => part.type)).toEqual(['IHDR', 'PLTE', 'tRNS', 'IDAT', 'IEND'])
      expect(parts.every((part) => part.crcOk)).toBe(true)
      const header = new DataView(parts[0]!.data.buffer, parts[0]!.data.byteOffset)
      expect([header.getUint32(0), header.getUint32(4)]).toEqual([size, size])
      const raw = inflateSync(parts[3]!.data)
      expect(raw.length).toBe((Math.ceil(size / 4) + 1) * size)
    }
  })
})
