import { describe, expect, it } from 'vitest'
import { walk, walkSeeds } from './small-cluster.ts'

/** About three seconds here; `walkSeeds` over 20,000 seeds found nothing at the last run. */
const SEEDS = 300

describe('small clusters that grow and shrink while leaders change', () => {
  it(`should keep safety and elect a leader after the heal when ${SEEDS} seeds walk`, () => {
    expect(walkSeeds(1, SEEDS)).toEqual([])
  }, 60_000)

  it('should serve no read below an applied write when seed 63 walks', () => {
    expect(walk(63).violation).toBeUndefined()
    expect(walk(63, { readBeforeNoopCommit: true }).violation).toMatch(/served r\d+ at \d+, below/)
  })

  it('should elect a leader after the heal when seed 151 walks', () => {
    expect(walk(151).violation).toBeUndefined()
    expect(walk(151, { removedLeaderNeverCampaigns: true }).violation).toMatch(/no leader/)
  })

  // Seeds that found no leader after the heal before two fixes (paper Figure 2): a vote
  // request from a lower term is rejected with our term (3657), and an append from a lower
  // term is answered with it also without CheckQuorum and PreVote (69, 3556).
  it.each([3657, 69, 3556])('should elect a leader after the heal when seed %i walks', (seed) => {
    expect(walk(seed).violation).toBeUndefined()
  })
})
