// Token buckets keyed by API token digest or remote address. The map is bounded: when full,
// the least recently used bucket is dropped (a Map iterates in insertion order and every use
// re-inserts), and a dropped bucket comes back full, which only ever errs toward allowing.

interface Bucket {
  tokens: number
  updatedMs: number
}

export interface RateLimiterInit {
  readonly perS: number
  readonly burst: number
  readonly bucketsMax: number
  /** Monotonic milliseconds. Injected so tests need no real waits. */
  readonly now: () => number
}

export class RateLimiter {
  readonly #init: RateLimiterInit
  readonly #buckets = new Map<string, Bucket>()

  constructor(init: RateLimiterInit) {
    if (init.perS <= 0 || init.burst < 1 || init.bucketsMax < 1) {
      throw new RangeError('rate limits must be positive')
    }
    this.#init = init
  }

  /** Takes one token from `key`'s bucket; false when the bucket is empty (over the limit). */
  take(key: string): boolean {
    const nowMs = this.#init.now()
    const bucket = this.#buckets.get(key) ?? { tokens: this.#init.burst, updatedMs: nowMs }
    const elapsedMs = Math.max(0, nowMs - bucket.updatedMs)
    bucket.tokens = Math.min(this.#init.burst, bucket.tokens + (elapsedMs * this.#init.perS) / 1000)
    bucket.updatedMs = nowMs
    this.#buckets.delete(key)
    this.#buckets.set(key, bucket)
    this.#evict(nowMs)
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  get size(): number {
    return this.#buckets.size
  }

  // Idle buckets that have refilled are the same as absent ones, so they go first; then,
  // if still over the bound, the least recently used.
  #evict(nowMs: number): void {
    const refillMs = (this.#init.burst * 1000) / this.#init.perS
    for (const [key, bucket] of this.#buckets) {
      const idle = nowMs - bucket.updatedMs >= refillMs
      if (!idle && this.#buckets.size <= this.#init.bucketsMax) return
      this.#buckets.delete(key)
    }
  }
}
