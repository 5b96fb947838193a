export { Daemon } from './daemon.ts'
export { RAFT_DIR } from './daemon-ledger.ts'
export type { DaemonInit, LocalExecutor } from './daemon.ts'
export { JOIN_SECRETS_FILE } from './join-tokens.ts'
