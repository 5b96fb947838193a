// What a daemon keeps on this machine and what the CLI reads of it: the data dir's files and
// the version. Kept apart from the daemon so that client commands start without loading it.
export {
  API_TOKEN_FILE,
  DAEMON_FILE,
  LEDGER_DIR,
  defaultDataDir,
  ensureDataDir,
  loadOrCreateApiToken,
  readApiToken,
  readDaemonInfo,
  removeDaemonInfo,
  writeDaemonInfo,
} from './data-dir.ts'
export type { DaemonInfo } from './data-dir.ts'
export { VERSION } from './version.ts'
