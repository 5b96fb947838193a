export { Daemon } from './daemon.ts'
export type { DaemonInit, LocalExecutor } from './daemon.ts'
export {
  API_TOKEN_FILE,
  DAEMON_FILE,
  defaultDataDir,
  readApiToken,
  readDaemonInfo,
} from './data-dir.ts'
export type { DaemonInfo } from './data-dir.ts'
export { VERSION } from './version.ts'
