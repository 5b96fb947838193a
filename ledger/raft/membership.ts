// Membership: who votes, who only learns, and how one conf-change entry changes that. Voters
// change one at a time, so any majority of the old set overlaps any majority of the new one
// (Raft thesis section 4.1); a configuration takes effect when its entry is appended.
import { assert } from './errors.ts'
import type { ConfChange, ConfState, Entry, HardState, NodeId } from './types.ts'
import { NONE } from './types.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeConfChange(change: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify({ type: change.type, node: change.node }))
}

/** Decodes a conf-change entry's data; a malformed one is a corrupt log, so it asserts. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  const value: unknown = JSON.parse(decoder.decode(data))
  assert(typeof value === 'object' && value !== null, 'conf change is not an object')
  const { type, node } = value as { type?: unknown; node?: unknown }
  assert(
    type === 'add-voter' || type === 'add-learner' || type === 'remove-node',
    `unknown conf change type ${String(type)}`,
  )
  assert(typeof node === 'string' && node.length > 0, 'conf change without a node')
  return { type, node }
}

/** Why `change` may not be applied to `conf`, or undefined when it may. */
export function confChangeError(conf: ConfState, change: ConfChange): string | undefined {
  const isVoter = conf.voters.includes(change.node)
  const isLearner = conf.learners.includes(change.node)
  switch (change.type) {
    case 'add-voter':
      return isVoter ? `${change.node} is already a voter` : undefined
    case 'add-learner':
      if (isVoter) return `${change.node} is a voter; remove it before adding it as a learner`
      return isLearner ? `${change.node} is already a learner` : undefined
    case 'remove-node':
      if (!isVoter && !isLearner) return `${change.node} is not a member`
      return isVoter && conf.voters.length === 1 ? 'cannot remove the last voter' : undefined
  }
}

/** The membership after `change`. Total: the leader validated it before appending it. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  const voters = conf.voters.filter((id) => id !== change.node)
  const learners = conf.learners.filter((id) => id !== change.node)
  if (change.type === 'add-voter') voters.push(change.node)
  if (change.type === 'add-learner') learners.push(change.node)
  return { voters: voters.sort(), learners: learners.sort() }
}

export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1
}

/** The largest index that a majority of voters has matched. */
export function quorumIndex(voters: readonly NodeId[], match: (id: NodeId) => number): number {
  if (voters.length === 0) return 0
  const matches = voters.map(match).sort((a, b) => b - a)
  return matches[majority(voters.length) - 1] ?? 0
}

export type VoteResult = 'won' | 'lost' | 'pending'

export function voteResult(
  voters: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  let granted = 0
  let rejected = 0
  for (const id of voters) {
    const vote = votes.get(id)
    if (vote === true) granted++
    if (vote === false) rejected++
  }
  const needed = majority(voters.length)
  if (granted >= needed) return 'won'
  if (voters.length - rejected < needed) return 'lost'
  return 'pending'
}

/**
 * The first write of every founding member: the founding membership as committed conf-change
 * entries at term 1 (as etcd bootstraps). Membership lives in the log, so a peer added later
 * learns it by replication like any other entry. Identical on every founding member.
 */
export function bootstrapState(conf: ConfState): { hardState: HardState; entries: Entry[] } {
  const changes: ConfChange[] = [
    ...conf.voters.map((node) => ({ type: 'add-voter' as const, node })),
    ...conf.learners.map((node) => ({ type: 'add-learner' as const, node })),
  ]
  const entries = changes.map((change, i) => ({
    term: 1,
    index: i + 1,
    type: 'conf-change' as const,
    data: encodeConfChange(change),
  }))
  return { hardState: { term: 1, vote: NONE, commit: entries.length }, entries }
}
