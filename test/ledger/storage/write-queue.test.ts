import { describe, expect, it } from 'vitest'
import { WriteQueue } from '../../../ledger/storage/write-queue.ts'

describe('WriteQueue', () => {
  it('should start a write only after the one before it has settled', async () => {
    const queue = new WriteQueue({ ordered: true })
    const events: string[] = []
    const { promise: gate, resolve: open } = Promise.withResolvers<void>()
    const first = queue.run(async () => {
      events.push('first started')
      await gate
      events.push('first done')
    })
    const second = queue.run(() => {
      events.push('second started')
      return Promise.resolve()
    })
    await new Promise((resolve) => setImmediate(resolve))
    expect(events).toEqual(['first started'])
    open()
    await Promise.all([first, second])
    expect(events).toEqual(['first started', 'first done', 'second started'])
  })

  it('should run later writes and reject only its own caller when a write fails', async () => {
    const queue = new WriteQueue({ ordered: true })
    const failing = queue.run(() => Promise.reject(new Error('disk full')))
    const next = queue.run(() => Promise.resolve('written'))
    await expect(failing).rejects.toThrow('disk full')
    await expect(next).resolves.toBe('written')
  })

  it('should start every write at once when unordered', async () => {
    const queue = new WriteQueue({ ordered: false })
    const started: number[] = []
    const { promise: gate, resolve: open } = Promise.withResolvers<void>()
    const writes = [1, 2].map((n) =>
      queue.run(async () => {
        started.push(n)
        await gate
      }),
    )
    expect(started).toEqual([1, 2])
    open()
    await Promise.all(writes)
  })
})
