// The daemon the benchmarks measure: real API, ledger and Docker executor on loopback ports the
// kernel picks, with logging off so it costs nothing.
import pino from 'pino'
import { Daemon } from '../../node/daemon/index.ts'
import { DockerExecutor } from '../../node/executor/index.ts'

export function benchDaemon(dataDir: string, staticDir?: string): Daemon {
  return new Daemon({
    dataDir,
    apiHost: '127.0.0.1',
    apiPort: 0,
    p2pHost: '127.0.0.1',
    p2pPort: 0,
    logger: pino({ level: 'silent' }),
    clock: { now: () => Date.now() },
    createExecutor: (peerId) => new DockerExecutor({ executorId: peerId }),
    ...(staticDir === undefined ? {} : { staticDir }),
  })
}
