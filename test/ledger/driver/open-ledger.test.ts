// A one-voter ledger opened on real LevelDB: created new, reopened, or migrated from the
// command log a data dir of the one-machine release holds (written here by that release's
// LevelCommandLog, entries in its oldest shape included).
import { ClassicLevel } from 'classic-level'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createState,
  encodeState,
  LevelCommandLog,
  loadCommandLog,
  ManualTicker,
  openOneVoterLedger,
} from '../../../ledger/index.ts'
import type { Entry, State } from '../../../ledger/index.ts'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gridx-open-ledger-'))
  dirs.push(dir)
  return dir
}

const clock = { now: () => 1_700_000_000_000 }

function open(dir: string, legacy: string | null) {
  return openOneVoterLedger({
    location: join(dir, 'raft'),
    legacyLocation: legacy,
    id: 'peer-a',
    clock,
    ticker: new ManualTicker(),
  })
}

/** A command log as the one-machine release left it: a snapshot, then entries after it, the
 * first of them from before proposal ids, the next with the one-id shape. */
async function writeOldLedger(path: string): Promise<void> {
  const log = new LevelCommandLog(new ClassicLevel<string, string>(path))
  await log.open()
  const at = clock.now()
  const entries = [
    { index: 1, logTime: at, command: { type: 'account.open', account: 'alice' } },
    {
      index: 2,
      logTime: at,
      proposal: { id: 'peer-a/1/1', proposedAt: at },
      command: { type: 'account.open', account: 'bob' },
    },
  ]
  await log.append(entries as unknown as Entry[])
  await log.putMeta('meshId', 'mesh-old')
  await log.close()
}

/** The ledger's own content, without the index and sessions a migration may change. */
function content(state: State): unknown {
  const copy = JSON.parse(encodeState(state)) as Record<string, unknown>
  return { ...copy, appliedIndex: 0, sessions: [] }
}

describe('openOneVoterLedger', () => {
  it('should keep every account and balance when it migrates an old command log', async () => {
    const dir = await tempDir()
    const legacy = join(dir, 'ledger')
    await writeOldLedger(legacy)
    const { driver, migratedAt } = await open(dir, legacy)
    expect(migratedAt).toBe(2)
    expect(driver.localRead().accounts.get('alice')?.balanceMc).toBeGreaterThan(0)
    expect(driver.localRead().accounts.has('bob')).toBe(true)
    // The same ledger the old log holds, read the way the old release read it.
    const old = await loadCommandLog(new LevelCommandLog(new ClassicLevel<string, string>(legacy)))
    expect(content(driver.localRead())).toEqual(content(old))
    // It takes proposals at once, on top of the migrated state, at the next Raft indexes.
    expect((await driver.propose({ type: 'account.open', account: 'carol' })).ok).toBe(true)
    expect(driver.localRead().appliedIndex).toBeGreaterThan(2)
    await driver.stop()
    // Reopened, it uses its Raft log: the old one is not read again.
    const again = await open(dir, null)
    await again.driver.read()
    expect(again.migratedAt).toBeNull()
    expect(again.driver.localRead().accounts.has('carol')).toBe(true)
    await again.driver.stop()
  })

  it('should refuse with a clear message when the old ledger does not add up', async () => {
    const dir = await tempDir()
    const legacy = join(dir, 'ledger')
    const log = new LevelCommandLog(new ClassicLevel<string, string>(legacy))
    await log.open()
    const broken = JSON.parse(encodeState(createState()))
    broken.accounts[0][1].balanceMc = 5
    broken.appliedIndex = 0
    await log.saveSnapshot(0, JSON.stringify(broken))
    await log.close()
    await expect(open(dir, legacy)).rejects.toThrow(/old ledger does not add up/)
  })

  it('should bootstrap a new mesh with this peer as its only voter when the dir is new', async () => {
    const { driver, migratedAt } = await open(await tempDir(), null)
    expect(migratedAt).toBeNull()
    expect((await driver.propose({ type: 'account.open', account: 'alice' })).ok).toBe(true)
    expect(driver.status()).toMatchObject({ role: 'leader', conf: { voters: ['peer-a'] } })
    await driver.stop()
  })

  it('should have applied what it had committed when it is reopened', async () => {
    const dir = await tempDir()
    const first = await open(dir, null)
    expect((await first.driver.propose({ type: 'account.open', account: 'alice' })).ok).toBe(true)
    const committed = first.driver.localRead().appliedIndex
    await first.driver.stop()
    // Read at once, with no read() or turn awaited: a restarted peer decides from this state
    // what it must still propose, and a lone voter cannot commit a needless proposal.
    const again = await open(dir, null)
    expect(again.driver.localRead().appliedIndex).toBeGreaterThanOrEqual(committed)
    expect(again.driver.localRead().accounts.has('alice')).toBe(true)
    await again.driver.stop()
  })
})
