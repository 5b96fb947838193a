import { describe, expect, it } from 'vitest'
import { RateLimiter } from '../../../node/gateway/rate-limiter.ts'

function limiter(bucketsMax = 100) {
  const clock = { ms: 0 }
  const limits = new RateLimiter({ perS: 10, burst: 3, bucketsMax, now: () => clock.ms })
  return { clock, limits }
}

describe('RateLimiter', () => {
  it('should allow a burst and then refuse when no time passes', () => {
    const { limits } = limiter()
    expect([1, 2, 3, 4].map(() => limits.take('a'))).toEqual([true, true, true, false])
    expect(limits.take('b')).toBe(true)
  })

  it('should refill at the configured rate when time passes', () => {
    const { clock, limits } = limiter()
    for (let i = 0; i < 3; i++) limits.take('a')
    clock.ms += 99
    expect(limits.take('a')).toBe(false)
    clock.ms += 1
    expect(limits.take('a')).toBe(true)
  })

  it('should keep at most bucketsMax buckets when keys flood in', () => {
    const { limits } = limiter(5)
    for (let i = 0; i < 1000; i++) limits.take(`address-${i}`)
    expect(limits.size).toBeLessThanOrEqual(5)
  })

  it('should drop idle buckets once they have refilled', () => {
    const { clock, limits } = limiter()
    for (let i = 0; i < 50; i++) limits.take(`address-${i}`)
    clock.ms += 1000
    limits.take('fresh')
    expect(limits.size).toBe(1)
  })
})
