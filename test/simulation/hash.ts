// Cheap hashes for the checkers: a chain hash over a log prefix makes "these two logs agree up
// to index i" a comparison of two numbers, so log matching can be checked at every step.

/** FNV-1a with two different seeds, folded into 53 bits (exact in a double). */
export function hashBytes(data: Uint8Array, seed = 0): number {
  let a = (0x811c9dc5 ^ seed) >>> 0
  let b = (0x01000193 ^ (seed * 31)) >>> 0
  for (let i = 0; i < data.length; i++) {
    const byte = data[i] as number
    a = Math.imul(a ^ byte, 0x01000193) >>> 0
    b = Math.imul(b ^ byte, 0x5bd1e995) >>> 0
    b ^= b >>> 15
  }
  return a * 0x200000 + (b & 0x1fffff)
}

const scratch = new DataView(new ArrayBuffer(24))
const scratchBytes = new Uint8Array(scratch.buffer)

/** The hash of a log prefix ending with an entry of `term` whose data hashes to `data`. */
export function chainHash(previous: number, term: number, data: number): number {
  scratch.setFloat64(0, previous)
  scratch.setFloat64(8, term)
  scratch.setFloat64(16, data)
  return hashBytes(scratchBytes, 7)
}
