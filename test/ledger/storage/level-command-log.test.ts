// LevelCommandLog under writes that are not awaited one by one, and snapshots that arrive out
// of order: the log on disk must always replay to the state it was written from.
import { MemoryLevel } from 'memory-level'
import { describe, expect, it } from 'vitest'
import type { Entry } from '../../../ledger/state/index.ts'
import { LevelCommandLog } from '../../../ledger/storage/index.ts'
import { CrashLevel } from '../../fixtures/crash-level.ts'

function entries(from: number, to: number): Entry[] {
  const result: Entry[] = []
  for (let index = from; index <= to; index++) {
    result.push({
      index,
      logTime: index,
      proposal: { session: `p${index}`, sequence: 1, acknowledged: 0, proposedAt: index },
      command: { type: 'account.open', account: `a${index}` },
    })
  }
  return result
}

/** Lets every pending promise continuation run, so a queued write reaches the database. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

describe('LevelCommandLog', () => {
  it('should keep the newer snapshot when an older one is saved after it', async () => {
    const db = new MemoryLevel<string, string>()
    const log = new LevelCommandLog(db)
    await log.open()
    await log.append(entries(1, 25))
    await log.saveSnapshot(20, 'state at 20')
    await log.saveSnapshot(10, 'state at 10')
    await log.close()
    const stored = await new LevelCommandLog(db).open()
    expect(stored.snapshot).toEqual({ index: 20, encoded: 'state at 20' })
    expect(stored.entries.map((entry) => entry.index)).toEqual([21, 22, 23, 24, 25])
  })

  it('should land writes in call order when their batches would land newest first', async () => {
    const inner = new MemoryLevel<string, string>()
    const level = new CrashLevel<string>(inner)
    const log = new LevelCommandLog(level)
    await log.open()
    await log.append(entries(1, 20))
    level.holdBatches(true)
    const writes = [
      log.saveSnapshot(10, 'state at 10'),
      log.saveSnapshot(20, 'state at 20'),
      log.append(entries(21, 22)),
    ]
    for (;;) {
      await settle()
      const held = level.held().length
      if (held === 0) break
      await level.release(held - 1)
    }
    await Promise.all(writes)
    const stored = await new LevelCommandLog(inner).open()
    expect(stored.snapshot).toEqual({ index: 20, encoded: 'state at 20' })
    expect(stored.entries.map((entry) => entry.index)).toEqual([21, 22])
  })

  it('should refuse to open when an entry after the snapshot is missing', async () => {
    const db = new MemoryLevel<string, string>()
    const log = new LevelCommandLog(db)
    await log.open()
    await log.append(entries(1, 5))
    await log.saveSnapshot(2, 'state at 2')
    await log.close()
    await db.open()
    await db.del(`log/${(4).toString().padStart(16, '0')}`)
    await expect(new LevelCommandLog(db).open()).rejects.toThrow('entry 4 missing')
  })
})
