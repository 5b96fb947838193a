// Plain-text rendering of `gridx mesh` and `gridx peers`. The member table and the heartbeat
// column appear only when the API reports them, so a one-machine peer prints what it always
// has.
import type { MeshInfo, MeshMemberView, PeerView } from '../../protocol/index.ts'
import { credits, table } from './format.ts'

/** How long ago `thenMs` was, for people: "now" under 100 ms, else seconds to one decimal. */
export function ago(thenMs: number | null | undefined, nowMs: number): string {
  if (thenMs === null || thenMs === undefined) return 'never'
  const elapsedMs = Math.max(0, nowMs - thenMs)
  return elapsedMs < 100 ? 'now' : `${(elapsedMs / 1000).toFixed(1).replace(/\.0$/, '')} s ago`
}

export function meshInfoText(info: MeshInfo, nowMs: number): string {
  const counts = Object.entries(info.jobsByState)
    .filter(([, count]) => count > 0)
    .map(([state, count]) => `${state} ${count}`)
    .join(', ')
  const { policy } = info
  const lines = [
    ['mesh', info.meshId],
    ['this peer', info.peerId],
    ['coordinator', info.coordinator ?? 'none (no quorum)'],
    ['term', String(info.term)],
    ...(info.commitIndex === undefined ? [] : [['commit index', String(info.commitIndex)]]),
    ['applied index', String(info.appliedIndex)],
    ...(info.members === undefined ? [] : [['voters', voterSummary(info, info.members)]]),
    ['queue', `${info.queueLength} waiting`],
    ['jobs', counts || 'none'],
    [
      'price',
      `${credits(policy.cpuSecondMc)} per cpu-second, ${credits(policy.gibSecondMc)} per ` +
        `GiB-second, at least ${credits(policy.jobMinimumMc)} per job`,
    ],
    ['executor share', `${policy.executorSharePpm / 10_000} %`],
    ['version', info.version],
  ]
  const text = table(lines)
  if (info.members === undefined) return text
  const members = membersTable(info.members, info.coordinator, nowMs, info.membersUnknown)
  const unknown =
    info.membersUnknown === undefined
      ? ''
      : `\nhealth not known on this peer: ${info.membersUnknown}`
  return `${text}\n\n${members}${unknown}`
}

function voterSummary(info: MeshInfo, members: readonly MeshMemberView[]): string {
  const voters = members.filter((member) => member.role === 'voter').length
  const learners = members.length - voters
  const wanted = info.voterTarget === undefined ? '' : ` of ${info.voterTarget} wanted`
  return `${voters}${wanted}, ${learners} learner${learners === 1 ? '' : 's'}`
}

/** Health and contact are the coordinator's to tell: without its view (`unknown`), this
 * peer's own silence from a member says nothing of it. */
function membersTable(
  members: readonly MeshMemberView[],
  coordinator: string | null,
  nowMs: number,
  unknown: string | undefined,
): string {
  const rows = members.map((member) => [
    member.peerId + (member.peerId === coordinator ? ' (coordinator)' : ''),
    member.role,
    unknown !== undefined ? 'unknown here' : member.healthy ? 'healthy' : 'unhealthy',
    String(member.matchIndex),
    unknown !== undefined ? '-' : ago(member.lastContactMs, nowMs),
  ])
  return table([['MEMBER', 'ROLE', 'HEALTH', 'MATCH INDEX', 'LAST CONTACT'], ...rows])
}

/** A plain TCP multiaddr (no /ws), its host and port captured. */
const TCP_ADDRESS = /^\/(?:ip4|ip6|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)(?:\/p2p\/[^/]+)?$/

/** The first TCP address as `HOST:PORT`, what `gridx start --join` takes, with a count of
 * the others (WebSocket and further listeners are in `--json`); `-` for none. */
function joinAddress(addresses: readonly string[]): string {
  const first = addresses[0]
  if (first === undefined) return '-'
  let shown = first
  for (const address of addresses) {
    const tcp = TCP_ADDRESS.exec(address)
    if (tcp === null) continue
    const [, host = '', port = ''] = tcp
    shown = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
    break
  }
  return addresses.length > 1 ? `${shown} (+${addresses.length - 1})` : shown
}

/** `unknown`: why the coordinator's view (capacity, load, heartbeats) is missing here. */
export function peersText(peers: readonly PeerView[], nowMs: number, unknown?: string): string {
  const heartbeats = unknown !== undefined || peers.some((p) => p.lastHeartbeatMs !== undefined)
  const rows = peers.map((peer) => {
    const guess = unknown !== undefined && !peer.self
    const runs = peer.roles.includes('executor')
    return [
      peer.peerId + (peer.self ? ' (this peer)' : ''),
      peer.owner === peer.peerId ? 'itself' : peer.owner,
      peer.roles.join(','),
      joinAddress(peer.addresses),
      peer.reachable ? 'yes' : 'no',
      peer.capacity
        ? `${peer.capacity.cpus} cpus, ${peer.capacity.memoryMb} MB`
        : guess
          ? '?'
          : '-',
      peer.capacity ? peer.capacity.runtimes.join(',') || 'none' : guess ? '?' : '-',
      peer.load ? `${peer.load.runningJobs} jobs` : guess ? '?' : '-',
      ...(!heartbeats
        ? []
        : guess
          ? ['?']
          : peer.lastHeartbeatMs === null && !runs
            ? ['-']
            : [ago(peer.lastHeartbeatMs, nowMs)]),
    ]
  })
  const header = ['PEER', 'OWNER', 'ROLES', 'ADDRESS', 'REACHABLE', 'CAPACITY', 'RUNTIMES', 'LOAD']
  const lines = [table([heartbeats ? [...header, 'LAST HEARTBEAT'] : header, ...rows])]
  if (unknown !== undefined) {
    lines.push(`capacity, load and heartbeats not known on this peer: ${unknown}`)
  }
  for (const peer of peers) {
    if (peer.executorProblem) lines.push(`\n${peer.peerId} runs no jobs: ${peer.executorProblem}`)
  }
  return lines.join('\n')
}
