import { describe, expect, it } from 'vitest'
import { SeededRandom } from '../../ledger/raft/index.ts'
import { ledgerViolations } from '../../ledger/state/index.ts'
import { encodeProposal } from './proposal.ts'
import { Replica } from './replica.ts'
import { Workload } from './workload.ts'

const LOG_TIME_MS = 1_800_000_000_000

describe('Workload', () => {
  it('should keep the ledger sound when its commands are applied in order', () => {
    const workload = new Workload(new SeededRandom(7))
    const replica = new Replica()
    const kinds = new Set<string>()
    for (let index = 1; index <= 2000; index++) {
      const command = workload.next(replica.ledger)
      kinds.add(command.type)
      expect(
        replica.apply(
          index,
          encodeProposal({
            id: `p${index}`,
            proposedAt: LOG_TIME_MS,
            logTime: LOG_TIME_MS,
            command,
          }),
        ).violation,
      ).toBeUndefined()
    }
    expect(ledgerViolations(replica.ledger)).toEqual([])
    for (const kind of ['job.submit', 'job.assign', 'job.start', 'job.finish', 'job.cancel']) {
      expect(kinds).toContain(kind)
    }
    const states = new Set([...replica.ledger.jobs.values()].map((job) => job.state))
    expect(states.size).toBeGreaterThan(2)
  })
})
