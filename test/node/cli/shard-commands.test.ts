// gridx submit --shards / --reduce, and how a sharded job is shown.
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { SHARDS_MAX } from '../../../protocol/index.ts'
import type { ParentView } from '../../../protocol/index.ts'
import { buildProgram } from '../../../node/cli/index.ts'
import type { CliContext } from '../../../node/cli/context.ts'
import { parentDetails, parentLine, shardCount } from '../../../node/cli/shard-commands.ts'

/** Runs the CLI against a port nothing listens on; resolves with what it threw. */
async function refusal(args: readonly string[]): Promise<Error> {
  const context: CliContext = {
    env: { GRIDX_API: 'http://127.0.0.1:9', GRIDX_TOKEN: 'x'.repeat(32) },
    stdin: () => new PassThrough(),
    stdout: new PassThrough() as unknown as NodeJS.WriteStream,
    stderr: new PassThrough() as unknown as NodeJS.WriteStream,
    defaultDataDir: '/nonexistent',
    clock: { now: () => Date.now() },
    setExitCode: () => undefined,
    stopSignal: new AbortController().signal,
    staticDir: '/nonexistent',
    createExecutor: () => Promise.reject(new Error('no executor in this test')),
  }
  const program = buildProgram(context).exitOverride()
  return program.parseAsync(['node', 'gridx', ...args]).then(
    () => new Error('accepted'),
    (error: Error) => error,
  )
}

const PARENT: ParentView = {
  id: 'jparent00001',
  submitter: 'alice',
  state: 'running',
  shards: [
    { index: 0, inputs: [], jobs: ['jparent00001s0'], state: 'succeeded' },
    { index: 1, inputs: [], jobs: ['jparent00001s1', 'jparent00001s1r1'], state: 'running' },
  ],
  reduce: null,
  hasReduce: true,
  shardsDone: 1,
  costMc: 1500,
  maxPriceMc: 7000,
  createdAt: 0,
  finishedAt: null,
  reason: null,
}

describe('gridx submit --shards', () => {
  it('should take a whole number of shards within the bound', () => {
    expect(shardCount(undefined)).toBeUndefined()
    expect(shardCount('1')).toBe(1)
    expect(shardCount(String(SHARDS_MAX))).toBe(SHARDS_MAX)
    for (const bad of ['0', String(SHARDS_MAX + 1), '2.5', 'four']) {
      expect(() => shardCount(bad)).toThrow(`from 1 to ${SHARDS_MAX}`)
    }
  })

  it('should refuse --reduce without --shards and --follow with it before any call', async () => {
    expect((await refusal(['submit', '-c', 'x', '--reduce', 'r.py'])).message).toBe(
      '--reduce goes with --shards',
    )
    const follow = await refusal(['submit', '-c', 'x', '--shards', '2', '-f'])
    expect(follow.message).toBe('--follow is for one job')
  })
})

describe('a sharded job in the CLI', () => {
  it('should show progress, cost and each shard’s jobs', () => {
    const text = parentDetails(PARENT)
    expect(text).toMatch(/progress\s+1\/2 shards done/)
    expect(text).toMatch(/cost\s+1\.5 credits \(of 7 escrowed\)/)
    expect(text).toMatch(/reduce\s+waits for every shard/)
    expect(text).toMatch(/1\s+running\s+jparent00001s1 jparent00001s1r1/)
    expect(parentLine(PARENT)).toEqual(['jparent00001', 'running', '1/2', '1.5', 'waiting'])
  })
})
