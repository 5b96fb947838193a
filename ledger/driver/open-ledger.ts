// The daemon's ledger: a Raft log in `location`, created with this peer as its only voter (a
// new mesh), left empty for a joining peer the leader catches up, or migrated from the command
// log of the one-machine release found at `legacyLocation`.
import { ClassicLevel } from 'classic-level'
import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.ts'
import type { RaftTransport } from '../raft-transport.ts'
import type { NodeId } from '../raft/index.ts'
import { LevelCommandLog, LevelRaftStorage } from '../storage/index.ts'
import { bootstrapStorage } from './membership.ts'
import { installMigratedState, loadCommandLog } from './migrate-command-log.ts'
import { RaftDriver } from './raft-driver.ts'
import type { Ticker } from './ticker.ts'

export interface OpenLedgerInit {
  readonly location: string
  /** Where the one-machine release kept its command log, if it exists; read, never changed. */
  readonly legacyLocation: string | null
  readonly id: NodeId
  readonly clock: Clock
  readonly ticker: Ticker
  readonly electionTicks?: number
  readonly heartbeatTicks?: number
  readonly learnerHeartbeatTicks?: number
  /** The mesh's Raft transport; absent, a lone voter's (it has no one to send to). */
  readonly transport?: RaftTransport
  /** False for a peer that joined a mesh: its empty log stays empty until the leader adds it
   * as a learner and catches it up; it never founds a mesh of its own. Default true. */
  readonly bootstrap?: boolean
}

/** A lone voter has no peer to send to; anything addressed elsewhere has no one to reach. */
const NO_PEERS: RaftTransport = {
  send: () => undefined,
  listen: () => undefined,
}

export interface OpenedLedger {
  readonly driver: RaftDriver
  /** The index the old command log was migrated at; null when nothing was migrated. */
  readonly migratedAt: number | null
}

/** Opens (creating or migrating) the log and starts the driver on it. */
export async function openOneVoterLedger(init: OpenLedgerInit): Promise<OpenedLedger> {
  const storage = await LevelRaftStorage.open(init.location)
  let migratedAt: number | null = null
  try {
    const empty = storage.lastIndex() === 0 && storage.initialState().hardState.term === 0
    if (empty && init.legacyLocation !== null) {
      const legacy = new LevelCommandLog(new ClassicLevel<string, string>(init.legacyLocation))
      migratedAt = await installMigratedState(await loadCommandLog(legacy), storage, init.id)
    } else if (init.bootstrap !== false) {
      await bootstrapStorage(storage, init.id)
    }
  } catch (error) {
    await storage.close()
    throw error
  }
  const driver = new RaftDriver({
    id: init.id,
    storage,
    transport: init.transport ?? NO_PEERS,
    ticker: init.ticker,
    clock: init.clock,
    sessionPrefix: `${init.id}/${randomUUID()}`,
    ...(init.electionTicks === undefined ? {} : { electionTicks: init.electionTicks }),
    ...(init.heartbeatTicks === undefined ? {} : { heartbeatTicks: init.heartbeatTicks }),
    ...(init.learnerHeartbeatTicks === undefined
      ? {}
      : { learnerHeartbeatTicks: init.learnerHeartbeatTicks }),
  })
  driver.start()
  // What this peer had committed before it stopped is applied before anyone reads the state:
  // a restarted peer decides from it what to propose (its account, its executor), and a
  // proposal it need not make would wait for a quorum a lone restarted voter does not have.
  await driver.appliedLocalCommits()
  return { driver, migratedAt }
}
