// `gridx leave`: this peer leaves the mesh for good. It refuses when leaving would leave the
// mesh without a quorum of voters; a coordinator hands leadership to another voter first; then
// a committed `peer.remove` takes it out of the admitted peers (every member refuses its
// streams from then on, and its executor's jobs go back to the queue), and the coordinator
// removes it from the Raft membership (mesh-membership.ts). The data dir keeps a record of the
// leave, so that a restart refuses to rejoin with a clear message instead of doing so silently.
import { randomBytes } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { raft, stepDown } from '../../ledger/index.ts'
import type { Clock, RaftDriver, State } from '../../ledger/index.ts'
import { LEADERSHIP_TRANSFER_TIMEOUT_MS, LEAVE_REMOVAL_TIMEOUT_MS } from '../../protocol/index.ts'
import type { MeshMemberView, Results } from '../../protocol/index.ts'

/** What a peer that left keeps in its data dir. */
export const MESH_LEFT_FILE = 'mesh-left.json'

export interface LeftRecord {
  readonly meshId: string
  readonly peerId: string
  /** ISO time of the leave. */
  readonly leftAt: string
}

/** The leave was refused before anything changed; the message says what the user can do. */
export class LeaveRefusedError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'LeaveRefusedError'
  }
}

export async function loadLeftRecord(dataDir: string): Promise<LeftRecord | null> {
  try {
    return JSON.parse(await readFile(join(dataDir, MESH_LEFT_FILE), 'utf8')) as LeftRecord
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

async function saveLeftRecord(dataDir: string, record: LeftRecord): Promise<void> {
  const path = join(dataDir, MESH_LEFT_FILE)
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(temporary, `${JSON.stringify(record)}\n`, { mode: 0o600, flush: true })
  await rename(temporary, path)
}

/** Why a data dir whose peer left does not start, and what to do instead. */
export function leftMessage(dataDir: string, record: LeftRecord): string {
  return (
    `the peer of ${dataDir} left mesh ${record.meshId} with \`gridx leave\` at ` +
    `${record.leftAt} and does not rejoin it. To join a mesh again, ask a member for a token ` +
    '(`gridx token`) and start with `--join HOST[:PORT] --token T` and a new --data-dir'
  )
}

/** The part of the leader's Raft status and member health the refusal rules read. */
export interface LeaveView {
  readonly self: string
  readonly state: Pick<State, 'peers'>
  readonly status: Pick<raft.Status, 'role' | 'conf'>
  /** Each member's health as the coordinator's autopilot found it; meaningful on the leader. */
  readonly members: readonly MeshMemberView[]
}

/** Why this peer may not leave now, or null. Pure, so the rules are tested on their own. */
export function leaveRefusal(view: LeaveView): string | null {
  const { self, state, status } = view
  if (!state.peers.has(self)) return 'this peer is not admitted to the mesh: it left already'
  if (state.peers.size === 1) {
    return (
      'this peer is the only one of its mesh: there is nothing to leave. Stop it with Ctrl+C, ' +
      'or delete its data dir to forget the mesh'
    )
  }
  const voters = status.conf.voters
  if (!voters.includes(self)) return null
  const others = voters.filter((voter) => voter !== self)
  if (others.length === 0) {
    return (
      `this peer is the only voter of a mesh of ${state.peers.size} peers, which would be left ` +
      'with none. Join a peer with a voter token (`gridx token --voter`), wait for the ' +
      'autopilot to promote it (`gridx mesh` lists it as a voter), then leave'
    )
  }
  // Only the leader knows the others' health; a follower's leave is confirmed by the leader.
  if (status.role !== 'leader') return null
  const healthy = view.members.filter(
    (member) => member.role === 'voter' && member.peerId !== self && member.healthy,
  ).length
  const quorum = raft.majority(others.length)
  if (healthy < quorum) {
    return (
      `leaving would leave ${others.length} voters of which ${healthy} are reachable, fewer ` +
      `than the ${quorum} a quorum needs: bring the others back, or wait until the autopilot ` +
      'replaces the ones that failed, then leave'
    )
  }
  return null
}

export interface LeaveInit {
  readonly ledger: RaftDriver
  readonly dataDir: string
  readonly meshId: string
  readonly members: () => readonly MeshMemberView[]
  readonly clock: Clock
  readonly logger: Logger
}

/** Leaves the mesh; resolves once `peer.remove` is committed and the leave is recorded in the
 * data dir. Throws LeaveRefusedError (nothing changed) or the driver's retryable errors. */
export async function leaveMesh(init: LeaveInit): Promise<Results['mesh.leave']> {
  const { ledger, logger } = init
  const self = ledger.id
  const state = await ledger.read()
  const refusal = leaveRefusal({
    self,
    state,
    status: ledger.status(),
    members: init.members(),
  })
  if (refusal !== null) throw new LeaveRefusedError(refusal)
  const handedOver = ledger.status().role === 'leader'
  if (handedOver) {
    await stepDown(ledger, LEADERSHIP_TRANSFER_TIMEOUT_MS)
    logger.info({ coordinator: ledger.status().leader }, 'handed over before leaving the mesh')
  }
  const result = await ledger.propose({ type: 'peer.remove', peer: self })
  if (!result.ok) throw new LeaveRefusedError(result.error.message)
  // This peer's acknowledgements may be what the quorum needs until the coordinator's removal
  // of it is in force (two voters, one leaving): it stops only once that entry reached it.
  const removed = await outOfMembership(ledger, LEAVE_REMOVAL_TIMEOUT_MS)
  if (!removed) logger.warn('the coordinator has not yet removed this peer from its members')
  const leftAt = new Date(init.clock.now()).toISOString()
  await saveLeftRecord(init.dataDir, { meshId: init.meshId, peerId: self, leftAt })
  const { requeued } = result.value as { requeued: number }
  logger.info({ meshId: init.meshId, requeued }, 'left the mesh for good')
  return { meshId: init.meshId, peerId: self, handedOver, requeuedJobs: requeued }
}

/** Resolves true once this peer's Raft configuration in force (the newest one appended) no
 * longer has it, or false after `timeoutMs`. */
function outOfMembership(ledger: RaftDriver, timeoutMs: number): Promise<boolean> {
  const { promise, resolve } = Promise.withResolvers<boolean>()
  let settled = false
  const timer = setTimeout(() => {
    settled = true
    resolve(false)
  }, timeoutMs)
  ledger.untilTurn(() => {
    if (settled) return true
    const { voters, learners } = ledger.status().conf
    if (voters.includes(ledger.id) || learners.includes(ledger.id)) return false
    settled = true
    clearTimeout(timer)
    resolve(true)
    return true
  })
  return promise
}
