// gridx start --noop-executor: hidden from help, refused in production and beside --no-executor,
// and when taken, the peer offers the noop runtime through its API.
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { buildProgram } from '../../../node/cli/index.ts'
import type { CliContext } from '../../../node/cli/context.ts'
import { resolveApiTarget } from '../../../node/cli/connect.ts'
import { DockerExecutor } from '../../../node/executor/index.ts'
import { httpCall } from '../../../protocol/client.ts'
import { isFinalJobState, type JobState } from '../../../protocol/index.ts'

const dirs: string[] = []

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

interface Run {
  readonly error: unknown
  readonly dataDir: string
  readonly out: string
}

/** Runs `gridx ARGS`; `whileRunning` is called once the daemon printed its start line, and the
 * daemon is then asked to stop. */
async function run(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  whileRunning: (dataDir: string) => Promise<void> = () => Promise.resolve(),
): Promise<Run> {
  const parent = await mkdtemp(join(tmpdir(), 'gridx-noop-cli-'))
  dirs.push(parent)
  const dataDir = join(parent, 'data')
  const stop = new AbortController()
  let out = ''
  let running: Promise<void> = Promise.resolve()
  const stdout = new PassThrough()
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
    if (out.includes('"apiUrl"') && !stop.signal.aborted) {
      running = whileRunning(dataDir).finally(() => stop.abort())
    }
  })
  const context: CliContext = {
    env,
    stdin: () => new PassThrough(),
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: new PassThrough() as unknown as NodeJS.WriteStream,
    defaultDataDir: dataDir,
    clock: { now: () => Date.now() },
    setExitCode: () => undefined,
    stopSignal: stop.signal,
    staticDir: dataDir,
    // No engine here: what runs is what the noop runtime adds.
    createExecutor: (peerId) =>
      Promise.resolve(
        new DockerExecutor({ executorId: peerId, dockerHost: 'unix:///nonexistent/docker.sock' }),
      ),
  }
  const error = await buildProgram(context)
    .parseAsync(['node', 'gridx', ...args])
    .then(
      () => undefined,
      (caught: unknown) => caught,
    )
  await running
  return { error, dataDir, out }
}

const LOOPBACK = ['--api-port', '0', '--p2p-host', '127.0.0.1', '--p2p-port', '0', '--json']

describe('gridx start --noop-executor', () => {
  it('should not list the flag when help is shown', () => {
    const context = { defaultDataDir: tmpdir() } as CliContext
    const start = buildProgram(context).commands.find((command) => command.name() === 'start')
    const help = start?.helpInformation() ?? ''
    expect(help).toMatch(/--no-executor/)
    expect(help).not.toMatch(/noop/)
  })

  it('should refuse to start and write nothing when NODE_ENV is production', async () => {
    const { error, dataDir } = await run(['start', '--noop-executor'], { NODE_ENV: 'production' })
    expect((error as Error).message).toMatch(/--noop-executor .* refused when NODE_ENV=production/)
    await expect(readdir(dataDir)).rejects.toThrow(/ENOENT/)
  })

  it('should refuse to start when --no-executor is given too', async () => {
    const { error } = await run(['start', '--noop-executor', '--no-executor'])
    expect((error as Error).message).toMatch(/--noop-executor needs the executor/)
  })

  it('should run noop jobs through the API when the flag is given', async () => {
    let state: string = ''
    const { error } = await run(['start', '--noop-executor', ...LOOPBACK], {}, async (dataDir) => {
      const target = await resolveApiTarget({ dataDir, env: {} })
      const { job } = await httpCall(target.url, target.token, 'job.submit', {
        idempotencyId: 'noop-cli',
        spec: { runtime: 'noop', code: '' },
      })
      // Bounded: a noop job ends within a scheduler pass or two.
      for (let tries = 0; tries < 100 && !isFinalJobState(job.state); tries++) {
        state = (await httpCall(target.url, target.token, 'job.get', { id: job.id })).state
        if (isFinalJobState(state as JobState)) break
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })
    expect(error).toBeUndefined()
    expect(state).toBe('succeeded')
  })
})
