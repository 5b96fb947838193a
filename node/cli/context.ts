import type { Logger } from 'pino'
import type { Clock } from '../../ledger/index.ts'
import type { LocalExecutor } from '../daemon/index.ts'

/** Everything the CLI takes from its process, passed in by main.ts (the only reader of env). */
export interface CliContext {
  readonly env: NodeJS.ProcessEnv
  /** A function: touching process.stdin opens a handle that keeps the process alive. */
  readonly stdin: () => NodeJS.ReadableStream
  readonly stdout: NodeJS.WriteStream
  readonly stderr: NodeJS.WriteStream
  readonly defaultDataDir: string
  readonly clock: Clock
  /** Sets the process's exit code (commands never call process.exit themselves). */
  readonly setExitCode: (code: number) => void
  /** Resolves when the process is asked to stop (SIGINT or SIGTERM). */
  readonly stopSignal: AbortSignal
  /** Directory of the built web app, served by `start`. */
  readonly staticDir: string
  /** Makes this peer's executor (the composition root picks Docker). */
  readonly createExecutor: (peerId: string, logger: Logger) => Promise<LocalExecutor>
}

export interface CommonOptions {
  readonly dataDir: string
  readonly json?: boolean
  readonly api?: string
}
