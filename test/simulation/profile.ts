// The shape of one simulated run, drawn from its seed: cluster size, fault rates, limits that
// exercise flow control, snapshot cadence. Every knob the core has is varied somewhere.
import type { SeededRandom, TestingKnobs } from '../../ledger/raft/index.ts'
import type { NetworkFaults } from './network.ts'

export interface SimulationOptions {
  readonly seed: number
  /** Ticks of faults before the healed phase. */
  readonly chaosTicks?: number
  readonly testingKnobs?: TestingKnobs
}

export interface Profile {
  readonly voters: number
  readonly learners: number
  readonly faults: NetworkFaults
  readonly electionTicks: number
  readonly heartbeatTicks: number
  readonly appendBytesMax: number
  readonly inflightMessagesMax: number
  readonly uncommittedBytesMax: number
  readonly snapshotEveryEntries: number
  readonly retainEntries: number
  /** Per-tick probabilities of the chaos events. */
  readonly crash: number
  /** Added to crashAfterPersist for a new leader's first Ready or a leader's commit. */
  readonly crashWhenInteresting: number
  /** Per tick: crash a leader (Jepsen's kill-the-primary nemesis). */
  readonly leaderCrash: number
  /** Per Ready: crash after persisting it, before sending its messages. */
  readonly crashAfterPersist: number
  readonly restart: number
  readonly partition: number
  readonly partitionHeal: number
  readonly membership: number
  readonly transfer: number
  readonly propose: number
  readonly read: number
}

/**
 * Ticks of the minimum election timeout (a node waits 20 to 39). A tick here is also the
 * smallest network delay, so a pre-vote and a vote take four ticks: 10 ticks left so little
 * spread that, with six voters, two nodes drew the same timeout in about one round of four,
 * campaigned in the same tick and split the vote round after round (seed 49544 split eight
 * in a row). 20 halves those ties; a real mesh, ticking every 100 ms over millisecond links,
 * has far more room (paper 5.6: broadcast time much less than the election timeout).
 */
export const ELECTION_TICKS = 20
/** Heartbeats per election timeout as before: five. */
const HEARTBEAT_TICKS = 4
/** The chaos phase lasts this many election timeouts. */
const CHAOS_ELECTION_TIMEOUTS = 40
export const CHAOS_TICKS_DEFAULT = CHAOS_ELECTION_TIMEOUTS * ELECTION_TICKS

export function drawProfile(random: SeededRandom): Profile {
  // A third of the runs are storms: short, flapping partitions and frequent crashes, the
  // nemesis that finds bugs needing several leaders in quick succession (paper Figure 8).
  const storm = random.chance(0.3)
  return {
    voters: random.chance(0.5) ? 3 : 5,
    learners: random.nextInt(3),
    faults: {
      loss: random.nextFloat() * 0.2,
      duplication: random.nextFloat() * 0.1,
      delayTicksMax: 1 + random.nextInt(4),
    },
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: HEARTBEAT_TICKS,
    // About 190 bytes per ledger command entry: from one entry per append up to fifty.
    appendBytesMax: storm ? random.pick([160, 160, 640]) : random.pick([160, 640, 10_240]),
    inflightMessagesMax: 1 + random.nextInt(8),
    // A leader cut off from its followers stops taking proposals after 15 to 100 commands.
    uncommittedBytesMax: 2560 + random.nextInt(15 * 1024),
    snapshotEveryEntries: 8 + random.nextInt(56),
    retainEntries: random.nextInt(8),
    crash: storm ? 0.01 + random.nextFloat() * 0.03 : 0.002 + random.nextFloat() * 0.01,
    crashWhenInteresting: storm ? random.nextFloat() * 0.2 : random.nextFloat() * 0.01,
    leaderCrash: storm ? 0.02 + random.nextFloat() * 0.04 : random.nextFloat() * 0.01,
    crashAfterPersist: storm ? random.nextFloat() * 0.02 : random.nextFloat() * 0.002,
    restart: storm ? 0.1 + random.nextFloat() * 0.2 : 0.03 + random.nextFloat() * 0.1,
    partition: storm ? 0.05 + random.nextFloat() * 0.1 : random.nextFloat() * 0.03,
    partitionHeal: storm ? 0.1 + random.nextFloat() * 0.2 : 0.02 + random.nextFloat() * 0.05,
    membership: random.nextFloat() * 0.03,
    transfer: random.nextFloat() * 0.02,
    propose: 0.3 + random.nextFloat() * 0.6,
    read: random.nextFloat() * 0.2,
  }
}
