// A data dir of the one-machine release: its ledger is a command log (LevelCommandLog, written
// here in that release's formats, the oldest entry shape included). The daemon migrates it into
// the Raft log at start, keeps the old directory aside, and serves the same balances.
import { ClassicLevel } from 'classic-level'
import { access, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LevelCommandLog } from '../../../ledger/index.ts'
import type { Entry } from '../../../ledger/index.ts'
import { LEDGER_DIR } from '../../../node/local/index.ts'
import { loadOrCreateIdentity } from '../../../node/mesh/index.ts'
import { DEFAULT_POLICY } from '../../../protocol/index.ts'
import { startTestDaemon } from '../../fixtures/daemon.ts'
import type { TestDaemon } from '../../fixtures/daemon.ts'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function oldDataDir(): Promise<{ dataDir: string; peerId: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gridx-migration-'))
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
  const { peerId } = await loadOrCreateIdentity(dataDir)
  const log = new LevelCommandLog(new ClassicLevel<string, string>(join(dataDir, LEDGER_DIR)))
  await log.open()
  const at = Date.now() - 60_000
  const entries = [
    { index: 1, logTime: at, command: { type: 'account.open', account: peerId } },
    {
      index: 2,
      logTime: at,
      proposal: { id: `${peerId}/1/1`, proposedAt: at },
      command: { type: 'account.open', account: 'alice' },
    },
  ]
  await log.append(entries as unknown as Entry[])
  await log.putMeta('meshId', `mesh-${peerId.slice(-12)}`)
  await log.close()
  return { dataDir, peerId }
}

async function start(dataDir: string): Promise<TestDaemon> {
  const daemon = await startTestDaemon({ dataDir, executor: false })
  cleanups.push(() => daemon.stop())
  return daemon
}

describe('Daemon data dir migration', () => {
  it('should serve the old balances from the Raft log when started on an old data dir', async () => {
    const { dataDir, peerId } = await oldDataDir()
    const daemon = await start(dataDir)
    const balance = await daemon.call('account.balance', {})
    expect(balance.balanceMc).toBe(DEFAULT_POLICY.joinGrantMc)
    const info = await daemon.call('mesh.info', {})
    expect(info).toMatchObject({ meshId: `mesh-${peerId.slice(-12)}`, coordinator: peerId })
    // The old log stays, aside; a restart reads the Raft log only.
    await access(join(dataDir, `${LEDGER_DIR}.migrated`))
    await expect(access(join(dataDir, LEDGER_DIR))).rejects.toThrow()
    const restarted = await daemon.restart()
    cleanups.push(() => restarted.stop())
    expect((await restarted.call('account.balance', {})).balanceMc).toBe(balance.balanceMc)
    expect((await restarted.call('mesh.info', {})).appliedIndex).toBeGreaterThan(2)
  })
})
