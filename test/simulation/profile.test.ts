import { describe, expect, it } from 'vitest'
import { SeededRandom } from '../../ledger/raft/index.ts'
import { describeProfile, drawProfile, drawTickRate, ELECTION_TICKS } from './profile.ts'
import type { Profile } from './profile.ts'

const SEEDS = 400

function profiles(): Profile[] {
  const result: Profile[] = []
  for (let seed = 1; seed <= SEEDS; seed++) result.push(drawProfile(new SeededRandom(seed)))
  return result
}

describe('drawProfile', () => {
  it('should draw clusters of 1, 2, 3 and 5 voters and growing ones when seeds vary', () => {
    const drawn = profiles()
    expect(new Set(drawn.map((profile) => profile.voters))).toEqual(new Set([1, 2, 3, 5]))
    const growing = drawn.filter((profile) => profile.growth)
    expect(growing.length).toBeGreaterThan(SEEDS / 10)
    // The mesh's real path: one founding voter, the others join as learners first.
    for (const profile of growing) expect([profile.voters, profile.learners]).toEqual([1, 0])
  })

  it('should switch PreVote, CheckQuorum, forwarding and differing tick rates per seed', () => {
    const drawn = profiles()
    for (const key of [
      'preVote',
      'checkQuorum',
      'proposalForwarding',
      'tickRatesDiffer',
    ] as const) {
      const on = drawn.filter((profile) => profile[key]).length
      expect(on, key).toBeGreaterThan(SEEDS / 5)
      expect(on, key).toBeLessThan(SEEDS)
    }
  })

  it('should pause nodes for several election timeouts and delay messages up to ten', () => {
    const drawn = profiles()
    expect(drawn.some((profile) => profile.pause > 0)).toBe(true)
    for (const profile of drawn) {
      expect(profile.pauseTicksMax).toBeGreaterThanOrEqual(2 * ELECTION_TICKS)
      expect(profile.faults.longDelayTicksMax).toBe(10 * ELECTION_TICKS)
      expect(profile.faults.longDelay).toBeLessThanOrEqual(0.02)
    }
    expect(drawn.filter((profile) => profile.faults.longDelay > 0).length).toBeGreaterThan(0)
    expect(drawn.filter((profile) => profile.clientRetry > 0).length).toBeGreaterThan(SEEDS / 2)
  })

  it('should describe the drawn shape in one line when a seed fails', () => {
    const profile = drawProfile(new SeededRandom(3))
    const line = describeProfile(profile)
    expect(line).toContain(`voters ${profile.voters}`)
    expect(line).toContain(`preVote ${profile.preVote ? 'on' : 'off'}`)
    expect(line).not.toContain('\n')
  })
})

describe('drawTickRate', () => {
  it('should draw rates from 0.5x to 2x when rates differ, and 1x otherwise', () => {
    const random = new SeededRandom(9)
    const profile = { ...drawProfile(random), tickRatesDiffer: true }
    const rates = Array.from({ length: 500 }, () => drawTickRate(random, profile))
    expect(Math.min(...rates)).toBeGreaterThanOrEqual(0.5)
    expect(Math.max(...rates)).toBeLessThanOrEqual(2)
    expect(Math.min(...rates)).toBeLessThan(0.6)
    expect(Math.max(...rates)).toBeGreaterThan(1.8)
    expect(drawTickRate(random, { ...profile, tickRatesDiffer: false })).toBe(1)
  })
})
