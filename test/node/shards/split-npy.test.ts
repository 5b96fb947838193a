import { execFile } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { ShardSplitError, splitNpy } from '../../../node/shards/index.ts'
import { hasEngine } from '../../fixtures/engine.ts'

/** A version 1.0 .npy as numpy writes one: header padded with spaces to 64 bytes, then '\n'. */
function npy(descr: string, shape: readonly number[], data: Uint8Array, fortran = false) {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ')
  const order = fortran ? 'True' : 'False'
  let dict = `{'descr': '${descr}', 'fortran_order': ${order}, 'shape': (${dims}), }`
  while ((10 + dict.length + 1) % 64 !== 0) dict += ' '
  dict += '\n'
  const head = [0x93, ...Buffer.from('NUMPY'), 1, 0, dict.length & 0xff, dict.length >> 8]
  return new Uint8Array(Buffer.concat([Buffer.from(head), Buffer.from(dict), data]))
}

function int32s(values: readonly number[]): Uint8Array {
  return new Uint8Array(new Int32Array(values).buffer)
}

/** The header dict and the int32 values of a .npy written by splitNpy. */
function read(bytes: Uint8Array): { dict: string; values: number[] } {
  const length = (bytes[8] as number) | ((bytes[9] as number) << 8)
  expect((10 + length) % 64).toBe(0)
  const dict = Buffer.from(bytes.subarray(10, 10 + length))
    .toString('latin1')
    .trim()
  const data = bytes.slice(10 + length)
  return { dict, values: [...new Int32Array(data.buffer)] }
}

describe('splitNpy', () => {
  it('should cut a 2-d array into shards of whole rows when rows do not divide', () => {
    const values = Array.from({ length: 15 }, (_, at) => at)
    const shards = splitNpy(npy('<i4', [5, 3], int32s(values)), 2).map(read)
    expect(shards.map((shard) => shard.dict)).toEqual([
      "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 3), }",
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }",
    ])
    expect(shards.flatMap((shard) => shard.values)).toEqual(values)
    expect(shards[0]?.values).toEqual(values.slice(0, 9))
  })

  it('should write a 1-d shard with a one-element shape tuple', () => {
    const [first] = splitNpy(npy('<i4', [4], int32s([1, 2, 3, 4])), 2).map(read)
    expect(first?.dict).toContain("'shape': (2,)")
    expect(first?.values).toEqual([1, 2])
  })

  it('should refuse an object array, a Fortran array and a damaged file', () => {
    const eight = new Uint8Array(8)
    expect(() => splitNpy(npy('|O', [1], eight), 1)).toThrow(/dtype \|O is not split/)
    expect(() => splitNpy(npy('<f8', [1], eight, true), 1)).toThrow(/Fortran-ordered/)
    expect(() => splitNpy(npy('<f8', [2], eight), 1)).toThrow(/other than the bytes/)
    expect(() => splitNpy(new Uint8Array(20), 1)).toThrow(/magic bytes/)
    expect(() => splitNpy(npy('<f8', [1], eight), 2)).toThrow(ShardSplitError)
  })
})

/** Runs Python in the runtime image with `input` on stdin (no network), and returns stdout. */
function python(code: string, input: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = ['run', '--rm', '-i', '--network', 'none', 'gridx/runtime-python', 'python3']
    const child = execFile('docker', [...args, '-c', code], { encoding: 'buffer' }, (error, out) =>
      error ? reject(error) : resolve(out.toString()),
    )
    child.stdin?.end(input)
  })
}

describe.skipIf(!hasEngine)('splitNpy and numpy', () => {
  it('should write shards numpy loads back into the rows of the array numpy wrote', async () => {
    const write = [
      'import io, sys, numpy as np',
      'buffer = io.BytesIO()',
      'np.save(buffer, np.arange(70, dtype="<f8").reshape(7, 5, 2) / 3)',
      'sys.stdout.buffer.write(buffer.getvalue())',
    ].join('\n')
    const whole = await new Promise<Buffer>((resolve, reject) => {
      const args = ['run', '--rm', '--network', 'none', 'gridx/runtime-python', 'python3', '-c']
      execFile('docker', [...args, write], { encoding: 'buffer' }, (error, out) =>
        error ? reject(error) : resolve(out),
      )
    })
    const shards = splitNpy(new Uint8Array(whole), 3)
    // Each shard is framed by its length so that one stdin carries all three.
    const framed = Buffer.concat(
      shards.flatMap((shard) => [Buffer.from(`${shard.length}\n`), Buffer.from(shard)]),
    )
    const check = [
      'import io, sys, numpy as np',
      'data = sys.stdin.buffer.read(); parts = []',
      'while data:',
      '    size, _, data = data.partition(b"\\n"); size = int(size)',
      '    parts.append(np.load(io.BytesIO(data[:size]))); data = data[size:]',
      'whole = np.arange(70, dtype="<f8").reshape(7, 5, 2) / 3',
      'print([p.shape for p in parts], bool((np.concatenate(parts) == whole).all()))',
    ].join('\n')
    expect((await python(check, framed)).trim()).toBe('[(3, 5, 2), (2, 5, 2), (2, 5, 2)] True')
  }, 120_000)
})
