// `gridx history` pages through an account's transfers, newest first, with --before.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasEngine } from '../fixtures/engine.ts'
import { runGridx, startGridxDaemon } from '../../scripts/lib/gridx-process.ts'
import type { StartedDaemon } from '../../scripts/lib/gridx-process.ts'

interface Transfer {
  readonly id: string
  readonly index: number
}

describe.skipIf(!hasEngine)('gridx history pages', () => {
  let dataDir: string
  let daemon: StartedDaemon
  const gridx = (args: string[]) =>
    runGridx([...args, '--data-dir', dataDir], { env: { GRIDX_API: '', GRIDX_TOKEN: '' } })

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gridx-history-'))
    daemon = await startGridxDaemon(dataDir)
    for (const text of ['one', 'two']) {
      const done = await gridx(['submit', '--runtime', 'bash', '-c', `echo ${text}`, '--follow'])
      expect(done.code).toBe(0)
    }
  }, 60_000)
  afterAll(async () => {
    daemon?.child.kill('SIGTERM')
    await daemon?.exited
    await rm(dataDir, { recursive: true, force: true })
  })

  it('should walk every transfer once, page by page, following its next-page hint', async () => {
    const all: Transfer[] = JSON.parse((await gridx(['history', '--json', '--limit', '50'])).stdout)
    expect(all.length).toBeGreaterThanOrEqual(4)
    expect((await gridx(['history', '--limit', '50'])).stderr).not.toMatch(/--before/)
    const seen: string[] = []
    let before: string[] = []
    for (let pages = 0; pages < all.length; pages++) {
      const result = await gridx(['history', '--json', '--limit', '2', ...before])
      expect(result.code).toBe(0)
      seen.push(...(JSON.parse(result.stdout) as Transfer[]).map((transfer) => transfer.id))
      const next = /more: gridx history --before (\d+)/.exec(result.stderr)?.[1]
      if (next === undefined) break
      before = ['--before', next]
    }
    expect(seen).toEqual(all.map((transfer) => transfer.id))
  })

  it('should refuse a --before that is not a log index', async () => {
    const result = await gridx(['history', '--before', 'yesterday'])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/--before/)
  })
})
