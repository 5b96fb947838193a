// The checkers bite: each known bug, switched on through TestingKnobs, is reported as a
// violation within 2,000 seeds, and the seed that found it replays to the same violation.
import { describe, expect, it } from 'vitest'
import type { TestingKnobs } from '../../ledger/raft/index.ts'
import { runSeeds } from './run-seeds.ts'
import { runSimulation } from './simulation.ts'

const SEEDS_MAX = 2000

const bugs: [keyof TestingKnobs, string][] = [
  ['commitPreviousTermByCounting', 'paper 5.4.2, Figure 8'],
  ['voteBeforePersist', 'paper 5.2 with Figure 2: persist before answering'],
  ['skipConflictTruncation', 'paper 5.3: delete the conflicting entry and all after it'],
  ['applyBeforeCommit', 'paper 5.3: apply only committed entries'],
]

describe('Raft simulator with a bug switched on', () => {
  it.each(bugs)(
    'should report a violation within 2000 seeds when %s is on (%s)',
    (knob) => {
      const testingKnobs: TestingKnobs = { [knob]: true }
      const summary = runSeeds({ first: 1, count: SEEDS_MAX, testingKnobs, stopAtViolation: true })
      const found = summary.violations[0]
      expect(found, `no violation in ${SEEDS_MAX} seeds`).toBeDefined()
      if (found === undefined) return
      // The failing seed replays exactly, and without the bug the same seed is clean.
      expect(runSimulation({ seed: found.seed, testingKnobs }).violation).toBe(found.violation)
      expect(runSimulation({ seed: found.seed }).violation).toBeUndefined()
    },
    300_000,
  )
})
