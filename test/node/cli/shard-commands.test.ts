// gridx submit --shards / --reduce, and how a sharded job is shown.
import { describe, expect, it } from 'vitest'
import { SHARDS_MAX } from '../../../protocol/index.ts'
import type { ParentView } from '../../../protocol/index.ts'
import { cliRefusal as refusal } from '../../fixtures/cli-refusal.ts'
import { parentDetails, parentLine, shardCount } from '../../../node/cli/shard-commands.ts'

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
