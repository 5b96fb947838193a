import { describe, expect, it } from 'vitest'
import type { TestingKnobs } from '../../../ledger/raft/index.ts'
import { walk, walkSeeds } from './small-cluster.ts'

/** About a second here; 20,000 seeds (eighty seconds) found nothing at the last run. */
const SEEDS = 300
/** Seeds walked to find a bug switched on: each was found within a few hundred. */
const SEARCH_SEEDS = 3000

/** The bug switches the walks catch, and what they find. */
const bugs: [keyof TestingKnobs, RegExp][] = [
  ['readBeforeNoopCommit', /served r\d+ at \d+, below a write/],
  ['removedLeaderNeverCampaigns', /no leader committed/],
  ['appliedConfIsAppended', /./],
]

function firstViolation(knobs: TestingKnobs): { seed: number; violation: string } | undefined {
  for (let seed = 1; seed <= SEARCH_SEEDS; seed++) {
    const { violation } = walk(seed, knobs)
    if (violation !== undefined) return { seed, violation }
  }
  return undefined
}

describe('small clusters that grow and shrink while leaders change', () => {
  it(`should keep safety and elect a leader after the heal when ${SEEDS} seeds walk`, () => {
    expect(walkSeeds(1, SEEDS)).toEqual([])
  }, 60_000)

  it.each(bugs)(
    'should report a violation that replays when %s is on',
    (knob, expected) => {
      const knobs: TestingKnobs = { [knob]: true }
      const found = firstViolation(knobs)
      expect(found, `no violation in ${SEARCH_SEEDS} seeds`).toBeDefined()
      if (found === undefined) return
      expect(found.violation).toMatch(expected)
      // The seed replays to the same violation, and without the bug it walks clean.
      expect(walk(found.seed, knobs).violation).toBe(found.violation)
      expect(walk(found.seed).violation).toBeUndefined()
    },
    60_000,
  )
})
