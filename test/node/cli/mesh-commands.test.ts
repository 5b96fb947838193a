// The mesh commands without a daemon: gridx leave and gridx token say no daemon runs, leave's
// help says what leaving means, and a bad mesh flag of gridx start leaves no trace.
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { buildProgram } from '../../../node/cli/index.ts'
import type { CliContext } from '../../../node/cli/context.ts'

const dirs: string[] = []

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

/** A context whose output is captured; nothing here may start a daemon. */
function context(dataDir: string): CliContext & { out: () => string } {
  let out = ''
  const sink = new PassThrough()
  sink.on('data', (chunk: Buffer) => (out += chunk.toString()))
  return {
    env: {},
    stdin: () => new PassThrough(),
    stdout: sink as unknown as NodeJS.WriteStream,
    stderr: sink as unknown as NodeJS.WriteStream,
    defaultDataDir: dataDir,
    clock: { now: () => Date.now() },
    setExitCode: () => undefined,
    stopSignal: new AbortController().signal,
    staticDir: dataDir,
    createExecutor: () => Promise.reject(new Error('no executor in this test')),
    out: () => out,
  }
}

async function run(
  args: readonly string[],
): Promise<{ error: unknown; dataDir: string; out: string }> {
  const parent = await mkdtemp(join(tmpdir(), 'gridx-mesh-cli-'))
  dirs.push(parent)
  const dataDir = join(parent, 'data')
  const cli = context(dataDir)
  const program = buildProgram(cli)
  const error = await program.parseAsync(['node', 'gridx', ...args]).then(
    () => undefined,
    (caught: unknown) => caught,
  )
  // The sink hands written text on to its reader on a later turn.
  await new Promise((resolve) => setImmediate(resolve))
  return { error, dataDir, out: cli.out() }
}

describe('gridx mesh commands without a daemon', () => {
  it('should say no daemon runs when gridx leave finds none', async () => {
    const { error } = await run(['leave'])
    expect((error as Error).message).toMatch(/cannot find a running Grid-X daemon/)
  })

  it('should say what leaving does when asked for gridx leave --help', async () => {
    const { out } = await run(['leave', '--help'])
    expect(out).toMatch(/for good/)
    expect(out).toMatch(/hands leadership to another voter/)
    expect(out).toMatch(/quorum/)
    expect(out).toMatch(/--join HOST\[:PORT\] --token T/)
  })

  it('should say no daemon runs when gridx token finds none', async () => {
    for (const args of [['token'], ['token', '--voter', '--rotate']]) {
      const { error } = await run(args)
      expect((error as Error).message).toMatch(/cannot find a running Grid-X daemon/)
    }
  })

  it('should name the bad flag and write nothing when a mesh flag has a bad value', async () => {
    const { error, dataDir } = await run(['start', '--voters', '4'])
    expect((error as Error).message).toMatch(/--voters takes 1, 3 or 5/)
    await expect(readdir(dataDir)).rejects.toThrow(/ENOENT/)
  })
})
