// The autopilot's rules (hashicorp/raft-autopilot is the model) as pure functions of the
// leader's Raft status, what the coordinator knows of each member's contact and the clock's
// reading: how healthy each member is, and the one membership change, if any, to make next.
import { raft } from '../../ledger/index.ts'
import {
  AUTOPILOT_CONTACT_MS_MAX,
  AUTOPILOT_FAILED_AFTER_MS,
  AUTOPILOT_LAG_ENTRIES_MAX,
  AUTOPILOT_STABILIZATION_MS,
} from '../../protocol/index.ts'

/** Voters the mesh keeps: an odd count, so each one added raises the failures it survives. */
export type VoterTarget = 1 | 3 | 5

export interface AutopilotConfig {
  readonly voterTarget: VoterTarget
  /** A learner is promoted only once it has been healthy this long without a break. */
  readonly stabilizationMs: number
  /** A member heard from longer ago than this is unhealthy. */
  readonly contactMsMax: number
  /** A voter heard from longer ago than this has failed and may be removed. */
  readonly failedAfterMs: number
  /** A member whose match trails the leader's last index by more is not caught up. */
  readonly lagEntriesMax: number
}

export class AutopilotConfigError extends Error {
  override name = 'AutopilotConfigError'
}

/** The config with defaults from protocol/limits.ts; throws AutopilotConfigError when invalid. */
export function autopilotConfig(
  init: Partial<AutopilotConfig> & Pick<AutopilotConfig, 'voterTarget'>,
): AutopilotConfig {
  const config: AutopilotConfig = {
    stabilizationMs: AUTOPILOT_STABILIZATION_MS,
    contactMsMax: AUTOPILOT_CONTACT_MS_MAX,
    failedAfterMs: AUTOPILOT_FAILED_AFTER_MS,
    lagEntriesMax: AUTOPILOT_LAG_ENTRIES_MAX,
    ...init,
  }
  if (![1, 3, 5].includes(config.voterTarget)) {
    throw new AutopilotConfigError(`voter target ${String(config.voterTarget)} is not 1, 3 or 5`)
  }
  for (const key of [
    'stabilizationMs',
    'contactMsMax',
    'failedAfterMs',
    'lagEntriesMax',
  ] as const) {
    const value = config[key]
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new AutopilotConfigError(`${key} must be a non-negative integer, not ${value}`)
    }
  }
  if (config.failedAfterMs < config.contactMsMax) {
    throw new AutopilotConfigError('failedAfterMs must be at least contactMsMax')
  }
  return config
}

/** The part of the leader's Raft status the rules read. */
export type AutopilotStatus = Pick<
  raft.Status,
  'id' | 'role' | 'commit' | 'lastIndex' | 'lastConfIndex' | 'conf' | 'progress'
>

export interface MemberContact {
  /** When the coordinator last heard from the member, on the autopilot's clock; undefined when
   * it has not heard from it since it began to track contacts. */
  readonly lastContactMs: number | undefined
  /** Whether the member was admitted with a voter token: only such a learner is promoted. */
  readonly voterCandidate: boolean
}

export interface HealthInput {
  readonly status: AutopilotStatus
  readonly contacts: ReadonlyMap<raft.NodeId, MemberContact>
  /** Each member's healthySinceMs from the previous assessment. */
  readonly healthySinceMs: ReadonlyMap<raft.NodeId, number>
  /** When contact tracking began: a member never heard from counts as silent since then. */
  readonly trackedSinceMs: number
  readonly nowMs: number
  readonly config: AutopilotConfig
}

export interface MemberHealth {
  readonly id: raft.NodeId
  readonly voter: boolean
  readonly voterCandidate: boolean
  readonly match: number
  readonly lastContactMs: number | undefined
  /** Heard from within contactMsMax. */
  readonly reachable: boolean
  /** Its match is within lagEntriesMax of the leader's last index. */
  readonly caughtUp: boolean
  readonly healthy: boolean
  /** A voter unheard for longer than failedAfterMs (never the leader itself). */
  readonly failed: boolean
  /** Since when it has been healthy without a break; undefined while it is unhealthy. */
  readonly healthySinceMs: number | undefined
  /** Healthy for at least stabilizationMs. */
  readonly stable: boolean
}

/** The health of every voter and learner of `status.conf`, the leader included. */
export function assessMembers(input: HealthInput): MemberHealth[] {
  const { status, config, nowMs } = input
  const members = [...status.conf.voters, ...status.conf.learners]
  return members.map((id) => {
    const self = id === status.id
    const contact = input.contacts.get(id)
    const lastContactMs = self ? nowMs : contact?.lastContactMs
    const silentSinceMs = lastContactMs ?? input.trackedSinceMs
    const reachable = lastContactMs !== undefined && nowMs - lastContactMs <= config.contactMsMax
    const match = self ? status.lastIndex : (status.progress[id]?.match ?? 0)
    const caughtUp = status.lastIndex - match <= config.lagEntriesMax
    const healthy = reachable && caughtUp
    const voter = status.conf.voters.includes(id)
    const healthySinceMs = healthy ? (input.healthySinceMs.get(id) ?? nowMs) : undefined
    return {
      id,
      voter,
      voterCandidate: self || contact?.voterCandidate === true,
      match,
      lastContactMs,
      reachable,
      caughtUp,
      healthy,
      failed: voter && !self && nowMs - silentSinceMs > config.failedAfterMs,
      healthySinceMs,
      stable: healthySinceMs !== undefined && nowMs - healthySinceMs >= config.stabilizationMs,
    }
  })
}

/** At most one conf change to propose, always with the reason, for logs and `gridx mesh`. */
export interface Decision {
  readonly change: raft.ConfChange | undefined
  readonly reason: string
}

/**
 * The next membership change, or none. In order: act only as leader and only when no conf
 * change is uncommitted; remove a failed voter when that is safe and worth it; else promote
 * the most advanced stable learner while voters are below the target.
 */
export function decide(
  status: AutopilotStatus,
  members: readonly MemberHealth[],
  config: AutopilotConfig,
): Decision {
  if (status.role !== 'leader') return wait('this peer is not the leader')
  if (status.lastConfIndex > status.commit) {
    return wait(`the conf change at index ${status.lastConfIndex} is not yet committed`)
  }
  const voters = members.filter((m) => m.voter)
  const replacement = promotable(members)
  const failed = voters.filter((m) => m.failed).sort(bySilence)
  const [victim] = failed
  if (victim !== undefined) return removal(victim, voters, failed.length, replacement, config)
  if (voters.length >= config.voterTarget) {
    return wait(`${voters.length} voters meet the target of ${config.voterTarget}`)
  }
  if (replacement === undefined) return wait('no learner is a stable voter candidate')
  return {
    change: { type: 'add-voter', node: replacement.id },
    reason: `${replacement.id} is caught up and stable; voters are below the target`,
  }
}

/**
 * Removing a failed voter is safe when the healthy voters left are a quorum of the current
 * voters (the leader is never failed, so it is never removed this way). It is worth it when a
 * stable learner can take the seat, when voters exceed the target, or when removing every
 * failed voter lowers the quorum; otherwise (one failed of three, of five) removing it alone
 * would let the mesh survive no more failures, and the voter may yet come back.
 */
function removal(
  victim: MemberHealth,
  voters: readonly MemberHealth[],
  failedCount: number,
  replacement: MemberHealth | undefined,
  config: AutopilotConfig,
): Decision {
  const healthy = voters.filter((m) => m.healthy).length
  const quorum = raft.majority(voters.length)
  if (healthy < quorum) {
    return wait(
      `removing failed ${victim.id} would leave ${healthy} healthy voters, ` +
        `fewer than a quorum of ${quorum}`,
    )
  }
  const worth =
    replacement !== undefined ||
    voters.length > config.voterTarget ||
    raft.majority(voters.length - failedCount) < quorum
  if (!worth) return wait(`${victim.id} has failed; it stays until a learner can replace it`)
  return { change: { type: 'remove-node', node: victim.id }, reason: `${victim.id} has failed` }
}

/** The stable voter-candidate learner with the highest match (ties: the lowest id). */
function promotable(members: readonly MemberHealth[]): MemberHealth | undefined {
  const candidates = members.filter((m) => !m.voter && m.voterCandidate && m.stable)
  candidates.sort((a, b) => b.match - a.match || compareIds(a.id, b.id))
  return candidates[0]
}

/** The voter silent the longest first (ties: the lowest id). */
function bySilence(a: MemberHealth, b: MemberHealth): number {
  const silence = (m: MemberHealth): number => m.lastContactMs ?? -Infinity
  return silence(a) - silence(b) || compareIds(a.id, b.id)
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function wait(reason: string): Decision {
  return { change: undefined, reason }
}
