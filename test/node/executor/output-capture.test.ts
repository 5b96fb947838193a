// Output under its cap: live text cut only at whole characters, a byte-exact tail, the Docker
// attach framing split anywhere.
import { describe, expect, it } from 'vitest'
import { AttachDemuxer, StreamCapture } from '../../../node/executor/index.ts'

function frame(kind: number, payload: string): Buffer {
  const body = Buffer.from(payload)
  const header = Buffer.alloc(8)
  header[0] = kind
  header.writeUInt32BE(body.byteLength, 4)
  return Buffer.concat([header, body])
}

function collect(capBytes: number, tailBytes: number) {
  const live: string[] = []
  const capture = new StreamCapture({
    name: 'stdout',
    capBytes,
    tailBytes,
    onOutput: (_stream, text) => live.push(text),
  })
  return { capture, live }
}

describe('StreamCapture', () => {
  it('should forward everything and keep the tail when output is under the cap', () => {
    const { capture, live } = collect(100, 4)
    capture.push(Buffer.from('hello '))
    capture.push(Buffer.from('world'))
    expect(capture.finish()).toEqual({ tail: 'orld', bytes: 11, truncated: false })
    expect(live.join('')).toBe('hello world')
  })

  it('should stop forwarding at the cap but count every byte when output exceeds it', () => {
    const { capture, live } = collect(5, 3)
    for (let index = 0; index < 1000; index += 1) capture.push(Buffer.from('abcdefghij'))
    const summary = capture.finish()
    expect(live.join('')).toBe('abcde')
    expect(summary).toEqual({ tail: 'hij', bytes: 10_000, truncated: true })
  })

  it('should mark the stream truncated when a chunk ends exactly at the cap', () => {
    const { capture, live } = collect(4, 4)
    capture.push(Buffer.from('abcd'))
    capture.push(Buffer.from('e'))
    expect(capture.finish()).toEqual({ tail: 'bcde', bytes: 5, truncated: true })
    expect(live.join('')).toBe('abcd')
  })

  it('should never split a character when a chunk ends inside it', () => {
    const { capture, live } = collect(100, 100)
    const bytes = Buffer.from('é€😀')
    for (const byte of bytes) capture.push(Buffer.from([byte]))
    capture.finish()
    expect(live.join('')).toBe('é€😀')
    expect(live.every((text) => !text.includes('\uFFFD'))).toBe(true)
  })

  it('should start the tail on a whole character when the tail boundary falls inside one', () => {
    const { capture } = collect(100, 5)
    // 1 + 4 + 1 + 4 bytes: the last five are exactly 'b😀'.
    capture.push(Buffer.from('a😀b😀'))
    expect(capture.finish().tail).toBe('b😀')
    const second = collect(100, 6)
    second.capture.push(Buffer.from('a😀😀'))
    expect(second.capture.finish().tail).toBe('😀')
  })

  it('should drop a character cut by the cap instead of forwarding a broken one', () => {
    const { capture, live } = collect(2, 10)
    capture.push(Buffer.from('a€'))
    expect(capture.finish().truncated).toBe(true)
    expect(live.join('')).toBe('a')
  })
})

describe('AttachDemuxer', () => {
  it('should route frames to stdout and stderr when headers and payloads split anywhere', () => {
    const stdout = new StreamCapture({ name: 'stdout' })
    const stderr = new StreamCapture({ name: 'stderr' })
    const demuxer = new AttachDemuxer(stdout, stderr)
    const wire = Buffer.concat([frame(1, 'out-1 '), frame(2, 'err'), frame(1, 'out-2')])
    for (let offset = 0; offset < wire.byteLength; offset += 3) {
      demuxer.push(wire.subarray(offset, offset + 3))
    }
    expect(stdout.finish().tail).toBe('out-1 out-2')
    expect(stderr.finish().tail).toBe('err')
  })
})
