// A small seeded generator (xoshiro128**, seeded through splitmix32). The core never reads a
// global source of randomness: the same seed gives the same elections, which is what lets the
// simulator replay any failure from its seed.

/** The randomness the core consumes. Implementations must be deterministic for a seed. */
export interface RandomSource {
  /** A uniformly distributed integer in [0, bound). `bound` is a positive integer. */
  nextInt(bound: number): number
}

/** xoshiro128** over 32-bit lanes; fast in JavaScript because it stays in int32 arithmetic. */
export class SeededRandom implements RandomSource {
  #a: number
  #b: number
  #c: number
  #d: number

  constructor(seed: number) {
    let state = seed >>> 0
    // splitmix32 spreads a small seed over all four lanes so seeds 1 and 2 are unrelated.
    const next = (): number => {
      state = (state + 0x9e3779b9) >>> 0
      let z = state
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.#a = next()
    this.#b = next()
    this.#c = next()
    this.#d = next()
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0
    const t = this.#b << 9
    this.#c ^= this.#a
    this.#d ^= this.#b
    this.#b ^= this.#c
    this.#a ^= this.#d
    this.#c ^= t
    this.#d = rotl(this.#d, 11)
    return result
  }

  /** A float in [0, 1) with 32 bits of precision. */
  nextFloat(): number {
    return this.nextUint32() / 0x1_0000_0000
  }

  nextInt(bound: number): number {
    if (!Number.isInteger(bound) || bound <= 0) {
      throw new RangeError(`bound must be a positive integer, got ${bound}`)
    }
    return Math.floor(this.nextFloat() * bound)
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.nextFloat() < p
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    const item = items[this.nextInt(items.length)]
    if (item === undefined) throw new RangeError('pick from an empty array')
    return item
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}
