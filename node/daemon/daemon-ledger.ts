// The daemon's ledger: a one-voter Raft driver on the data dir's `raft/` log, migrated at the
// first start from the command log (`ledger/`) of the one-machine release, and the genesis
// entry that founds the mesh.
import { access, rename } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { intervalTicker, openOneVoterLedger } from '../../ledger/index.ts'
import type { Clock, OpenedLedger, RaftDriver, RaftTransport } from '../../ledger/index.ts'
import {
  MESH_VOTER_TARGET_DEFAULT,
  RAFT_LEARNER_HEARTBEAT_MS,
  RAFT_TICK_MS_DEFAULT,
} from '../../protocol/index.ts'
import { LEDGER_DIR } from '../local/index.ts'
import { generateJoinSecret, hashJoinSecret } from '../mesh/index.ts'
import { saveJoinSecrets } from './join-tokens.ts'

/** The Raft log and its snapshots, in the data dir. */
export const RAFT_DIR = 'raft'

export interface DaemonLedgerInit {
  readonly dataDir: string
  readonly peerId: string
  readonly clock: Clock
  readonly logger: Logger
  readonly raftTickMs?: number
  readonly electionTicks?: number
  readonly transport?: RaftTransport
  /** False for a joined peer: its log stays empty until the leader catches it up. */
  readonly bootstrap?: boolean
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

/** Opens (creating or migrating) the ledger and starts its driver. */
export async function openDaemonLedger(init: DaemonLedgerInit): Promise<RaftDriver> {
  const legacy = join(init.dataDir, LEDGER_DIR)
  let opened: OpenedLedger
  const tickMs = init.raftTickMs ?? RAFT_TICK_MS_DEFAULT
  try {
    opened = await openOneVoterLedger({
      location: join(init.dataDir, RAFT_DIR),
      legacyLocation: (await exists(legacy)) ? legacy : null,
      id: init.peerId,
      clock: init.clock,
      ticker: intervalTicker(tickMs),
      // In time, not ticks; the driver never heartbeats learners less often than voters.
      learnerHeartbeatTicks: Math.max(1, Math.floor(RAFT_LEARNER_HEARTBEAT_MS / tickMs)),
      ...(init.electionTicks === undefined ? {} : { electionTicks: init.electionTicks }),
      ...(init.transport === undefined ? {} : { transport: init.transport }),
      ...(init.bootstrap === undefined ? {} : { bootstrap: init.bootstrap }),
    })
  } catch (error) {
    if (String((error as Error).cause ?? error).includes('LOCK')) {
      throw new Error(`another Grid-X daemon is using ${init.dataDir}`, { cause: error })
    }
    throw error
  }
  if (opened.migratedAt !== null) {
    // Kept, not deleted: the Raft snapshot now holds the same state.
    await rename(legacy, `${legacy}.migrated`)
    init.logger.info({ index: opened.migratedAt }, 'ledger migrated to the Raft log')
  }
  return opened.driver
}

/**
 * Proposes the genesis entry of a new mesh (or of one migrated from the one-machine release):
 * the mesh id (derived from the founder, as that release did), policy, first voter and the
 * join secrets' hashes become replicated state. The secrets stay in the data dir, written
 * before genesis is proposed (see join-tokens.ts). Resolves with the mesh id.
 */
export async function foundMesh(
  ledger: RaftDriver,
  peerId: string,
  dataDir: string,
  founding: { readonly voterTarget?: number; readonly joinGrantMc?: number } = {},
): Promise<string> {
  const voterTarget = founding.voterTarget ?? MESH_VOTER_TARGET_DEFAULT
  // A restarted founder has its genesis already: it starts without a quorum, as any peer.
  const known = ledger.localRead().mesh
  if (known !== null) return known.meshId
  const state = await ledger.read()
  if (state.mesh === null) {
    const secrets = { voter: generateJoinSecret(), executor: generateJoinSecret() }
    await saveJoinSecrets(dataDir, secrets)
    const result = await ledger.propose({
      type: 'mesh.genesis',
      meshId: `mesh-${peerId.slice(-12)}`,
      policy:
        founding.joinGrantMc === undefined
          ? state.policy
          : { ...state.policy, joinGrantMc: founding.joinGrantMc },
      founder: peerId,
      owner: peerId,
      voterTarget,
      secrets: { voter: hashJoinSecret(secrets.voter), executor: hashJoinSecret(secrets.executor) },
    })
    if (!result.ok) throw new Error(`mesh.genesis refused: ${result.error.message}`)
  }
  return ledger.localRead().mesh?.meshId ?? ''
}
