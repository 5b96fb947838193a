// gridx start --noop-executor: hidden from help, refused in production and beside --no-executor,
// and when taken, the peer offers the noop runtime through its API.
import { readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { buildProgram } from '../../../node/cli/index.ts'
import type { CliContext } from '../../../node/cli/context.ts'
import { resolveApiTarget } from '../../../node/cli/connect.ts'
import { DockerExecutor } from '../../../node/executor/index.ts'
import { httpCall } from '../../../protocol/client.ts'
import { isFinalJobState, type JobState } from '../../../protocol/index.ts'
import { runInProcess } from './fixtures/in-process-gridx.ts'

/** Runs `gridx ARGS` in this process with no engine: what runs is what the noop runtime adds. */
function run(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  whileRunning?: (dataDir: string) => Promise<void>,
) {
  return runInProcess(args, {
    env,
    createExecutor: (peerId) =>
      Promise.resolve(
        new DockerExecutor({ executorId: peerId, dockerHost: 'unix:///nonexistent/docker.sock' }),
      ),
    ...(whileRunning === undefined ? {} : { whileRunning }),
  })
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
