// Issue 9's chaos test in CI: 5 real daemons on loopback (3 voters, all executors on the
// engine), clients on the two peers that are never killed, kill -9 of the coordinator every
// few seconds (and at random of another voter), each restarted from its data dir. Then a quiet
// period: nothing acknowledged is lost, every job is final and settled once, the ledger adds
// up and every replica reports the same state hash at the same index. `npm run chaos` runs the
// same scenario for any duration.
import { randomInt } from 'node:crypto'
import { expect, it } from 'vitest'
import { describeWithDocker } from '../fixtures/docker.ts'
import { runChaos } from '../../scripts/lib/chaos-scenario.ts'

/** Issue 9 asks for at least 2 minutes of kills in CI: some 15 coordinator kills, enough for
 * kills to land in every phase of a job (queued, assigned, running, reporting). */
const CHAOS_DURATION_MS = 120_000
/** The mesh's start, the kills, the clients' last retries (90 s), a quiet period of up to
 * 3 minutes for the last jobs, the checks and the stops, on a loaded 2-core machine. */
const CHAOS_TEST_TIMEOUT_MS = 15 * 60_000

describeWithDocker(
  'chaos on a mesh of five daemons',
  () => {
    it(
      'should lose nothing acknowledged and agree on one state when coordinators are killed',
      async () => {
        const seed = Number(process.env.GRIDX_CHAOS_SEED ?? randomInt(2 ** 31))
        // The seed replays the plan: GRIDX_CHAOS_SEED=<seed> or npm run chaos -- --seed <seed>.
        console.log(`chaos seed ${seed}`)
        const report = await runChaos({
          durationMs: CHAOS_DURATION_MS,
          seed,
          log: (line) => console.log(`chaos: ${line}`),
        })
        console.log(`chaos report ${JSON.stringify(report)}`)
        expect(report.violations).toEqual([])
        const { counts } = report
        expect(counts.client.acknowledged).toBeGreaterThan(0)
        expect(counts.client.unacknowledged).toBe(0)
        expect(counts.coordinatorKills).toBeGreaterThan(0)
        // A killed coordinator is replaced through an election, in a new term. Not one term
        // per kill: the client's peer may name a coordinator that was deposed already.
        expect(counts.terms).toBeGreaterThan(0)
        expect(counts.restarts).toBe(counts.kills)
        expect(report.agreedAt).not.toBeNull()
      },
      CHAOS_TEST_TIMEOUT_MS,
    )
  },
  ['bash', 'python'],
)
