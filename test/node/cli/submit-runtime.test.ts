// gridx submit --runtime: the help names the runtimes users have; the benchmark-only noop
// runtime is accepted (a peer with --noop-executor runs it) but not offered.
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { buildProgram } from '../../../node/cli/index.ts'
import type { CliContext } from '../../../node/cli/context.ts'

async function gridx(args: readonly string[]): Promise<{ out: string; err: string }> {
  let out = ''
  let err = ''
  const stdout = new PassThrough().on('data', (chunk: Buffer) => (out += chunk.toString()))
  const stderr = new PassThrough().on('data', (chunk: Buffer) => (err += chunk.toString()))
  const context: CliContext = {
    env: { GRIDX_API: 'http://127.0.0.1:9', GRIDX_TOKEN: 'x'.repeat(32) },
    stdin: () => new PassThrough(),
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    defaultDataDir: '/nonexistent',
    clock: { now: () => Date.now() },
    setExitCode: () => undefined,
    stopSignal: new AbortController().signal,
    staticDir: '/nonexistent',
    createExecutor: () => Promise.reject(new Error('no executor in this test')),
  }
  await buildProgram(context)
    .parseAsync(['node', 'gridx', ...args])
    .catch(() => undefined)
  return { out, err }
}

describe('gridx submit --runtime', () => {
  it('should list the container runtimes in help and not the noop runtime', async () => {
    const { out } = await gridx(['submit', '--help'])
    expect(out).toMatch(/--runtime <runtime>.*python, node, bash or python-torch/)
    expect(out).not.toMatch(/noop/)
  })

  it('should refuse an unknown runtime naming the ones there are', async () => {
    const { err } = await gridx(['submit', '-c', 'x', '--runtime', 'ruby'])
    expect(err).toMatch(/ruby/)
    expect(err).toMatch(/python, node, bash, python-torch/)
  })

  it('should offer the container runtimes to shell completion', async () => {
    const { out } = await gridx(['completion', 'bash'])
    expect(out).toMatch(/'--runtime'\) _gridx_words 'python' 'node' 'bash' 'python-torch';/)
  })
})
