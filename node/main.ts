// The composition root: the only reader of argv and env. It picks the real clock, the Docker
// executor and the web app's build, then hands control to the command line.
import './polyfills.ts'
import { CommanderError } from 'commander'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GridxError } from '../protocol/index.ts'
import { buildProgram, CliError } from './cli/index.ts'
import { defaultDataDir } from './local/index.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const stop = new AbortController()
let signals = 0
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    signals += 1
    // A second Ctrl+C means now: skip the drain.
    if (signals > 1) process.exit(130)
    stop.abort()
  })
}

const program = buildProgram({
  env: process.env,
  stdin: () => process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  defaultDataDir: defaultDataDir(process.env),
  clock: { now: () => Date.now() },
  setExitCode: (code) => {
    process.exitCode = code
  },
  stopSignal: stop.signal,
  staticDir: join(root, 'dist', 'pwa'),
  createExecutor: async (peerId) => {
    const { DockerExecutor } = await import('./executor/index.ts')
    return new DockerExecutor({ executorId: peerId, dockerHost: process.env.DOCKER_HOST })
  },
})

try {
  await program.parseAsync(process.argv)
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode
  } else if (error instanceof CliError) {
    process.stderr.write(`gridx: ${error.message}\n`)
    process.exitCode = error.exitCode
  } else if (error instanceof GridxError) {
    const field = error.data?.field ? ` (${error.data.field})` : ''
    process.stderr.write(`gridx: ${error.message}${field}\n`)
    process.exitCode = 1
  } else {
    process.stderr.write(`gridx: ${error instanceof Error ? error.stack : String(error)}\n`)
    process.exitCode = 1
  }
}
// A command is over when parseAsync returns; a socket or timer a library left open must not
// keep the process alive past a short grace for pending writes.
setTimeout(() => process.exit(), 1000).unref()
