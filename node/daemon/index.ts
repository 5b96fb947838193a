export { Daemon } from './daemon.ts'
export type { DaemonInit, LocalExecutor } from './daemon.ts'
