// How the mesh's Raft group reads on screen: each member's health in one word, how long ago
// the coordinator heard from it, and a one-machine peer shown as the one-voter mesh it is.
import { AUTOPILOT_CONTACT_MS_MAX } from '../../protocol/index.ts'
import type { MeshInfo, MeshMemberView, PeerView } from '../../protocol/index.ts'

/** 'lagging': heard from, but behind on the log; 'unreachable': silent past the autopilot's
 * limit, or never heard from; 'unknown': the peer showing the page could not ask the
 * coordinator, the only one that knows. */
export type MemberHealth = 'healthy' | 'lagging' | 'unreachable' | 'unknown'

/** The coordinator's verdict first; when it says unhealthy, silence tells the two causes
 * apart, by the same limit the autopilot applies. `nowMs` is this browser's clock, which may
 * differ from the coordinator's by the machines' skew: only the word can be off by it. */
export function memberHealth(
  member: MeshMemberView,
  nowMs: number,
  info?: Pick<MeshInfo, 'membersUnknown'>,
): MemberHealth {
  if (info?.membersUnknown !== undefined) return 'unknown'
  if (member.healthy) return 'healthy'
  const { lastContactMs } = member
  if (lastContactMs === null || nowMs - lastContactMs > AUTOPILOT_CONTACT_MS_MAX) {
    return 'unreachable'
  }
  return 'lagging'
}

/** The voters, then the learners. A peer that reports no members (a one-machine mesh) is its
 * own one voter, caught up with itself. */
export function meshMembers(info: MeshInfo): readonly MeshMemberView[] {
  if (info.members === undefined) {
    const matchIndex = info.commitIndex ?? info.appliedIndex
    return [{ peerId: info.peerId, role: 'voter', healthy: true, matchIndex, lastContactMs: null }]
  }
  const voters = info.members.filter((member) => member.role === 'voter')
  return [...voters, ...info.members.filter((member) => member.role !== 'voter')]
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`

/** "3 voters of 3 wanted, 1 learner". */
export function voterSummary(info: MeshInfo): string {
  const members = meshMembers(info)
  const voters = members.filter((member) => member.role === 'voter').length
  const learners = members.length - voters
  const wanted =
    info.voterTarget === undefined || info.voterTarget === voters
      ? ''
      : ` of ${info.voterTarget} wanted`
  const learnerText = learners === 0 ? 'no learners' : plural(learners, 'learner')
  return `${plural(voters, 'voter')}${wanted}, ${learnerText}`
}

/** How long ago `thenMs` was: "now" under 100 ms (or ahead of this clock), seconds to one
 * decimal under a minute, then whole minutes, hours and days. */
export function formatAgo(thenMs: number | null | undefined, nowMs: number): string {
  if (thenMs === null || thenMs === undefined) return 'never'
  const elapsedMs = nowMs - thenMs
  if (elapsedMs < 100) return 'now'
  if (elapsedMs < 60_000) return `${(elapsedMs / 1000).toFixed(1).replace(/\.0$/, '')} s ago`
  if (elapsedMs < 3_600_000) return `${Math.floor(elapsedMs / 60_000)} min ago`
  if (elapsedMs < 86_400_000) return `${Math.floor(elapsedMs / 3_600_000)} h ago`
  return `${Math.floor(elapsedMs / 86_400_000)} d ago`
}

/** The last-contact column: the peer showing the page does not contact itself. */
export function contactLabel(member: MeshMemberView, info: MeshInfo, nowMs: number): string {
  if (member.peerId === info.peerId) return 'this peer'
  if (info.membersUnknown !== undefined) return 'not known here'
  return formatAgo(member.lastContactMs, nowMs)
}

/** A peer's owner account: "itself" when the peer is its own owner (it joined with a plain
 * token), else the owner's id (it joined with a same-owner token, or was told to pay out). */
export function ownerLabel(peer: Pick<PeerView, 'peerId' | 'owner'>): string {
  return peer.owner === peer.peerId ? 'itself' : peer.owner
}

/** What a peer offers. Another peer's capacity is the coordinator's to tell: when the page's
 * peer could not ask it, that peer comes with no heartbeat field at all, and "runs no jobs"
 * would be a guess. */
export function capacityLabel(
  peer: Pick<PeerView, 'self' | 'capacity' | 'lastHeartbeatMs'>,
): string {
  const { capacity } = peer
  if (capacity !== null) {
    return `${capacity.cpus} CPU, ${capacity.memoryMb} MB, ${capacity.runtimes.join(', ')}`
  }
  if (!peer.self && peer.lastHeartbeatMs === undefined) return 'not known on this peer'
  return 'runs no jobs'
}
