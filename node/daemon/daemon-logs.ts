// Live logs in the daemon: every peer serves `/gridx/logs/1.0.0` from its LiveLogs (which has
// output while this peer is the coordinator, and ends its followers' jobs as the state does)
// and relays, for its own clients, the output the coordinator has, over one stream.
import type { Logger } from 'pino'
import type { RaftDriver } from '../../ledger/index.ts'
import { isFinalJobState } from '../../protocol/index.ts'
import { LogsRelay, LogsServer } from '../coordinator/index.ts'
import type {
  ExecutorServerComponents,
  LiveLogs,
  LogsRelayComponents,
} from '../coordinator/index.ts'

export async function startLogsRelay(
  components: ExecutorServerComponents & LogsRelayComponents,
  ledger: RaftDriver,
  liveLogs: LiveLogs,
  logger: Logger,
): Promise<{ readonly relay: LogsRelay; readonly stop: () => Promise<void> }> {
  const server = new LogsServer(components, {
    liveLogs,
    isAdmitted: (peer) => ledger.localRead().peers.has(peer),
    finalState: (jobId) => {
      const job = ledger.localRead().jobs.get(jobId)
      return job !== undefined && isFinalJobState(job.state) ? job.state : null
    },
    logger,
  })
  await server.start()
  // A job ends on every replica, so followers kept here after a step-down hear its end too;
  // what this peer kept as the coordinator goes when it stops leading, since later chunks go
  // to the next one. The entry's changed jobs, not its command, say which ended: a parent's
  // cancel or a round's deadline ends children it does not name.
  const stopEnds = ledger.onApplied(() => {
    const state = ledger.localRead()
    for (const id of state.changedJobs) {
      const job = state.jobs.get(id)
      if (job !== undefined && isFinalJobState(job.state)) liveLogs.end(id, job.state)
    }
  })
  const stopRelease = ledger.onLeadership((leading) => {
    if (!leading) liveLogs.release()
  })
  const relay = new LogsRelay(components, {
    self: ledger.id,
    local: liveLogs,
    coordinator: () => {
      const leader = ledger.status().leader
      if (leader === undefined || leader === null) return null
      return {
        peerId: leader,
        addresses: [...(ledger.localRead().peers.get(leader)?.addresses ?? [])],
      }
    },
    logger,
  })
  return {
    relay,
    stop: async () => {
      stopEnds()
      stopRelease()
      relay.stop()
      await server.stop()
    },
  }
}
