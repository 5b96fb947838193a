// CI runs 2,000 seeds of the simulator with zero violations, split over two files so vitest's
// two workers share the work. This file: seeds 1 to 1,000.
import { describe, expect, it } from 'vitest'
import { runSeeds } from './run-seeds.ts'
import { ELECTION_TICKS } from './profile.ts'
import { ELECTION_TIMEOUTS_TO_ELECT_MAX } from './simulation.ts'

describe('Raft simulator, seeds 1 to 1000', () => {
  it('should find no violation and elect after healing when run over 1000 seeds', async () => {
    const summary = await runSeeds({ first: 1, count: 1000 })
    expect(summary.violations).toEqual([])
    expect(summary.electionTicksAfterHeal.max).toBeLessThanOrEqual(
      ELECTION_TIMEOUTS_TO_ELECT_MAX * ELECTION_TICKS,
    )
    expect(summary.acknowledged).toBeGreaterThan(100_000)
  }, 300_000)
})
