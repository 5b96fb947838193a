// The known bugs the simulator must catch, each re-introduced by a switch in the layer it
// lives in: the Raft core's TestingKnobs, LevelRaftStorage's, or the simulator's replica.
import type { TestingKnobs } from '../../ledger/raft/index.ts'
import type { SimulationOptions } from './profile.ts'
import type { ReplicaOptions } from './replica.ts'

type StorageKnobs = NonNullable<SimulationOptions['storageKnobs']>

interface Bug {
  readonly layer: 'raft' | 'storage' | 'replica'
  /** The rule it breaks, or the issue item that found it. */
  readonly why: string
}

export const BUGS = {
  commitPreviousTermByCounting: { layer: 'raft', why: 'paper 5.4.2, Figure 8' },
  voteBeforePersist: { layer: 'raft', why: 'paper 5.2 with Figure 2: persist before answering' },
  skipConflictTruncation: {
    layer: 'raft',
    why: 'paper 5.3: delete the conflicting entry and all after it',
  },
  applyBeforeCommit: { layer: 'raft', why: 'paper 5.3: apply only committed entries' },
  readBeforeNoopCommit: {
    layer: 'raft',
    why: 'issue 8 bug 1: a lone voter serves a read before its no-op commits',
  },
  removedLeaderNeverCampaigns: {
    layer: 'raft',
    why: 'issue 8 bug 2: thesis 4.2.2, a leader whose removal is uncommitted may campaign',
  },
  unorderedWrites: {
    layer: 'storage',
    why: 'issue 8 bug 3: all writes to one storage go through one queue, in order',
  },
  stripProposalIds: {
    layer: 'replica',
    why: 'issue 8 bug 4: a forwarded or retried proposal takes effect at most once',
  },
  appliedConfIsAppended: {
    layer: 'raft',
    why: 'issue 8 bug 5: a snapshot records the membership as of its applied index',
  },
  dropEarlyReads: {
    layer: 'raft',
    why: 'issue 8 bug 6: reads before the no-op commits wait for it, as in etcd',
  },
} as const satisfies Record<string, Bug>

export type BugName = keyof typeof BUGS

export const BUG_NAMES = Object.keys(BUGS) as BugName[]

export function isBugName(name: string): name is BugName {
  return Object.hasOwn(BUGS, name)
}

/** The simulation options that switch `bug` on. */
export function bugOptions(bug: BugName): {
  testingKnobs?: TestingKnobs
  storageKnobs?: StorageKnobs
  replicaKnobs?: ReplicaOptions
} {
  const layer: Bug['layer'] = BUGS[bug].layer
  switch (layer) {
    case 'raft':
      return { testingKnobs: { [bug]: true } }
    case 'storage':
      return { storageKnobs: { [bug]: true } }
    case 'replica':
      return { replicaKnobs: { [bug]: true } }
  }
}
