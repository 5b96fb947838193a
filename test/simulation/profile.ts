// The shape of one simulated run, drawn from its seed: cluster size, fault rates, limits that
// exercise flow control, snapshot cadence. Every knob the core has is varied somewhere.
import type { SeededRandom, TestingKnobs } from '../../ledger/raft/index.ts'
import type { LevelRaftStorageOptions } from '../../ledger/storage/index.ts'
import type { NetworkFaults } from './network.ts'
import type { ReplicaOptions } from './replica.ts'

export interface SimulationOptions {
  readonly seed: number
  /** Ticks of faults before the healed phase. */
  readonly chaosTicks?: number
  readonly testingKnobs?: TestingKnobs
  /** Bug switches of LevelRaftStorage (LevelDisk seeds only). */
  readonly storageKnobs?: NonNullable<LevelRaftStorageOptions['testingKnobs']>
  /** Bug switches of the simulator's own replica (replica.ts). */
  readonly replicaKnobs?: ReplicaOptions
}

export interface Profile {
  /** Founding voters: 1, 2, 3 or 5; a growing mesh starts with 1. */
  readonly voters: number
  readonly learners: number
  /** The mesh's real path: one voter, then voters added one at a time as learners first and
   * promoted, to 3 and 5, then removed back down to 1 (see chaos.ts). */
  readonly growth: boolean
  readonly preVote: boolean
  readonly checkQuorum: boolean
  /** Followers forward proposals to the leader, so clients may talk to any node. */
  readonly proposalForwarding: boolean
  /** Whether each node's clock runs at its own rate, from 0.5x to 2x (drawTickRate). */
  readonly tickRatesDiffer: boolean
  /** The daemon's LevelRaftStorage over memory-level with late, reordered writes and crashes
   * that keep only synced batches, instead of the fast in-memory disk (sim-disk.ts). */
  readonly levelStorage: boolean
  /** LevelDisk: the chance that an in-flight batch lands in a given round; a slow disk
   * keeps a compaction in flight across ticks while the next writes queue behind it. */
  readonly diskLandChance: number
  readonly faults: NetworkFaults
  readonly electionTicks: number
  readonly heartbeatTicks: number
  readonly learnerHeartbeatTicks: number
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
  /** Per tick and live node: the process stops (a GC pause, a stopped VM) for a while. */
  readonly pause: number
  /** A pause lasts up to this many ticks: several election timeouts. */
  readonly pauseTicksMax: number
  /** Per tick: a client whose proposal is unanswered (or whose answer it lost) sends it again
   * with the same proposal id. */
  readonly clientRetry: number
  /** A client waits this many ticks for an answer before it may retry. */
  readonly clientTimeoutTicks: number
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
/** Learners are heartbeated five times less often, as in the daemon (25 ticks against 5). */
const LEARNER_HEARTBEAT_TICKS = 5 * HEARTBEAT_TICKS
/** A pause lasts up to this many election timeouts: long enough to be voted out. */
const PAUSE_ELECTION_TIMEOUTS_MAX = 6
/** A long-held message is up to this many election timeouts late (issue 8). */
const LONG_DELAY_ELECTION_TIMEOUTS_MAX = 10
/** At most this share of messages is held long: a few, or the cluster does nothing else. */
const LONG_DELAY_MAX = 0.02
/** Share of runs on LevelRaftStorage: each costs about 1.7 memory runs (67 against 40 ms of
 * CPU a seed over 200 seeds), and a quarter of the seeds CI runs catches its races (the bug
 * switch unorderedWrites at seed 11). */
const LEVEL_STORAGE_SHARE = 0.25
/** The chaos phase lasts this many election timeouts. */
const CHAOS_ELECTION_TIMEOUTS = 40
export const CHAOS_TICKS_DEFAULT = CHAOS_ELECTION_TIMEOUTS * ELECTION_TICKS

export function drawProfile(random: SeededRandom): Profile {
  // A third of the runs are storms: short, flapping partitions and frequent crashes, the
  // nemesis that finds bugs needing several leaders in quick succession (paper Figure 8).
  const storm = random.chance(0.3)
  // A fifth of the runs grow from one voter as a new mesh does; the rest start at every size
  // a mesh passes through, small ones as often as large ones.
  const growth = random.chance(0.2)
  return {
    voters: growth ? 1 : random.pick([1, 2, 3, 3, 5, 5]),
    learners: growth ? 0 : random.nextInt(3),
    growth,
    preVote: random.chance(0.5),
    checkQuorum: random.chance(0.5),
    proposalForwarding: random.chance(0.75),
    tickRatesDiffer: random.chance(0.5),
    levelStorage: random.chance(LEVEL_STORAGE_SHARE),
    diskLandChance: 0.2 + random.nextFloat() * 0.7,
    faults: {
      loss: random.nextFloat() * 0.2,
      duplication: random.nextFloat() * 0.1,
      delayTicksMax: 1 + random.nextInt(4),
      longDelay: random.chance(0.5) ? random.nextFloat() * LONG_DELAY_MAX : 0,
      longDelayTicksMax: LONG_DELAY_ELECTION_TIMEOUTS_MAX * ELECTION_TICKS,
    },
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: HEARTBEAT_TICKS,
    learnerHeartbeatTicks: LEARNER_HEARTBEAT_TICKS,
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
    pause: random.chance(0.5) ? random.nextFloat() * 0.002 : 0,
    pauseTicksMax: (2 + random.nextInt(PAUSE_ELECTION_TIMEOUTS_MAX - 1)) * ELECTION_TICKS,
    clientRetry: random.chance(0.8) ? random.nextFloat() * 0.1 : 0,
    clientTimeoutTicks: (1 + random.nextInt(4)) * ELECTION_TICKS,
  }
}

/** A node's clock rate: 2^u for u uniform in [-1, 1], so as many run slow as fast. */
export function drawTickRate(random: SeededRandom, profile: Profile): number {
  return profile.tickRatesDiffer ? 2 ** (random.nextFloat() * 2 - 1) : 1
}

/** The shape of a run in one line, printed with a failing seed so it explains itself. */
export function describeProfile(profile: Profile): string {
  const onOff = (flag: boolean): string => (flag ? 'on' : 'off')
  const { faults } = profile
  const percent = (p: number): string => `${(p * 100).toFixed(1)}%`
  return [
    `voters ${profile.voters}`,
    `learners ${profile.learners}`,
    `growth ${onOff(profile.growth)}`,
    `preVote ${onOff(profile.preVote)}`,
    `checkQuorum ${onOff(profile.checkQuorum)}`,
    `forwarding ${onOff(profile.proposalForwarding)}`,
    `tick rates ${profile.tickRatesDiffer ? '0.5x-2x' : '1x'}`,
    `storage ${profile.levelStorage ? `level, landing ${percent(profile.diskLandChance)}` : 'memory'}`,
    `loss ${percent(faults.loss)}`,
    `duplication ${percent(faults.duplication)}`,
    `delay 1-${faults.delayTicksMax}`,
    `long delay ${percent(faults.longDelay)} up to ${faults.longDelayTicksMax}`,
    `pause ${percent(profile.pause)} up to ${profile.pauseTicksMax}`,
    `client retry ${percent(profile.clientRetry)} after ${profile.clientTimeoutTicks}`,
  ].join(', ')
}
