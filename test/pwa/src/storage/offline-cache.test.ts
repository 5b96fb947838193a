import { describe, expect, it } from 'vitest'
import type { JobView } from '../../../../protocol/index.ts'
import {
  CACHED_CODE_BYTES_MAX,
  CACHED_CODES_MAX,
  CACHED_JOBS_MAX,
  OfflineCache,
} from '../../../../pwa/src/storage/offline-cache.ts'

function memoryStorage(failWrites = false) {
  const items = new Map<string, string>()
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => {
      if (failWrites) throw new Error('quota exceeded')
      items.set(key, value)
    },
  }
}

const job = (id: string, createdAt: number) => ({ id, createdAt, state: 'queued' }) as JobView

describe('OfflineCache', () => {
  it('should keep the newest jobs, at most CACHED_JOBS_MAX, with the time they were saved', () => {
    const cache = new OfflineCache(memoryStorage(), () => 42)
    cache.saveJobs(Array.from({ length: CACHED_JOBS_MAX + 5 }, (_, i) => job(`j${i}`, i)))
    const saved = cache.jobs()
    expect(saved?.value).toHaveLength(CACHED_JOBS_MAX)
    expect(saved?.savedAt).toBe(42)
  })

  it('should merge one job into the saved list, newest first, replacing its older view', () => {
    const cache = new OfflineCache(memoryStorage())
    cache.saveJobs([job('ja', 1), job('jb', 3)])
    cache.saveJob({ ...job('ja', 1), state: 'succeeded' } as JobView)
    cache.saveJob(job('jc', 2))
    expect(cache.jobs()?.value.map((saved) => [saved.id, saved.state])).toEqual([
      ['jb', 'queued'],
      ['jc', 'queued'],
      ['ja', 'succeeded'],
    ])
  })

  it('should remember codes for resubmit, bounded in number and size', () => {
    const cache = new OfflineCache(memoryStorage())
    for (let i = 0; i <= CACHED_CODES_MAX; i++) cache.rememberCode(`j${i}`, `print(${i})`)
    expect(cache.codeOf(`j${CACHED_CODES_MAX}`)).toBe(`print(${CACHED_CODES_MAX})`)
    expect(cache.codeOf('j0')).toBeUndefined()
    cache.rememberCode('jbig', 'x'.repeat(CACHED_CODE_BYTES_MAX + 1))
    expect(cache.codeOf('jbig')).toBeUndefined()
  })

  it('should drop an unreadable entry and survive a storage that refuses writes', () => {
    const storage = memoryStorage()
    storage.items.set('gridx.cache.jobs', '{not json')
    expect(new OfflineCache(storage).jobs()).toBeUndefined()
    const full = new OfflineCache(memoryStorage(true))
    expect(() => full.saveJobs([job('ja', 1)])).not.toThrow()
    expect(full.jobs()).toBeUndefined()
  })
})
