// The daemon the benchmarks measure: real API, ledger and Docker executor on loopback ports the
// kernel picks, with logging off so it costs nothing.
import pino from 'pino'
import { Daemon } from '../../node/daemon/index.ts'
import type { DaemonInit } from '../../node/daemon/index.ts'
import { DockerExecutor } from '../../node/executor/index.ts'

/** `createExecutor` replaces the Docker executor, for benchmarks that measure the ledger. */
export function benchDaemon(
  dataDir: string,
  options: {
    readonly staticDir?: string
    readonly createExecutor?: DaemonInit['createExecutor']
  } = {},
): Daemon {
  const { staticDir } = options
  return new Daemon({
    dataDir,
    apiHost: '127.0.0.1',
    apiPort: 0,
    p2pHost: '127.0.0.1',
    p2pPort: 0,
    logger: pino({ level: 'silent' }),
    clock: { now: () => Date.now() },
    createExecutor:
      options.createExecutor ?? ((peerId) => new DockerExecutor({ executorId: peerId })),
    ...(staticDir === undefined ? {} : { staticDir }),
  })
}
