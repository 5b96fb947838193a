export { Daemon, RAFT_DIR } from './daemon.ts'
export type { DaemonInit, LocalExecutor } from './daemon.ts'
