// The checkers bite: each known bug, switched on in its layer (knobs.ts), is reported as a
// violation within the seeds CI runs, and the seed that found it replays to the same violation.
import { describe, expect, it } from 'vitest'
import { BUGS, BUG_NAMES, bugOptions } from './knobs.ts'
import { runSeeds } from './run-seeds.ts'
import { runSimulation } from './simulation.ts'

const SEEDS_MAX = 2000

describe('Raft simulator with a bug switched on', () => {
  it.each(BUG_NAMES.map((name) => [name, BUGS[name].why]))(
    'should report a violation within 2000 seeds when %s is on (%s)',
    async (name) => {
      const knobs = bugOptions(name)
      const summary = await runSeeds({
        first: 1,
        count: SEEDS_MAX,
        ...knobs,
        stopAtViolation: true,
      })
      const found = summary.violations[0]
      expect(found, `no violation in ${SEEDS_MAX} seeds`).toBeDefined()
      if (found === undefined) return
      // The failing seed replays exactly, and without the bug the same seed is clean.
      expect((await runSimulation({ seed: found.seed, ...knobs })).violation).toBe(found.violation)
      expect((await runSimulation({ seed: found.seed })).violation).toBeUndefined()
    },
    300_000,
  )
})
