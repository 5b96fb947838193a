import { describe, expect, it } from 'vitest'
import type { TestingKnobs } from '../../../ledger/raft/index.ts'
import { walk, walkSeeds } from './small-cluster.ts'

/** About three seconds here; 20,000 seeds found nothing at the last run (seventy seconds). */
const SEEDS = 300

/** Per bug switch, a seed whose walk finds it, and what it finds. */
const bugs: [keyof TestingKnobs, number, RegExp][] = [
  ['readBeforeNoopCommit', 88, /served r\d+ at \d+, below a write/],
  ['removedLeaderNeverCampaigns', 222, /no leader committed/],
  ['appliedConfIsAppended', 708, /applied .* at \d+, another peer/],
]

describe('small clusters that grow and shrink while leaders change', () => {
  it(`should keep safety and elect a leader after the heal when ${SEEDS} seeds walk`, () => {
    expect(walkSeeds(1, SEEDS)).toEqual([])
  }, 60_000)

  it.each(bugs)(
    'should report a violation when %s is on and seed %i walks',
    (knob, seed, found) => {
      expect(walk(seed).violation).toBeUndefined()
      expect(walk(seed, { [knob]: true }).violation).toMatch(found)
    },
  )

  // Seeds that found no leader after the heal before two fixes (paper Figure 2): a vote
  // request from a lower term is rejected with our term (723, 2237), and an append from a
  // lower term is answered with it also without CheckQuorum and PreVote (3704, 7711).
  it.each([723, 2237, 3704, 7711])(
    'should elect a leader after the heal when seed %i walks',
    (seed) => {
      expect(walk(seed).violation).toBeUndefined()
    },
  )
})
