// A logs subscription on a peer that is not the coordinator streams the live output of a job
// that runs on another peer: over the follower's one logs stream to the coordinator.
import { afterEach, describe, expect, it } from 'vitest'
import type { SubscriptionEvent } from '../../../protocol/index.ts'
import { startTestDaemon } from '../../fixtures/daemon.ts'
import type { TestDaemon } from '../../fixtures/daemon.ts'

const daemons: TestDaemon[] = []
afterEach(async () => {
  for (const daemon of daemons.splice(0).reverse()) await daemon.destroy()
})

function p2pAddress(daemon: TestDaemon): string {
  const tcp = daemon.daemon.p2pAddresses.find((address) => !address.includes('/ws'))
  const match = /\/ip4\/([^/]+)\/tcp\/(\d+)/.exec(tcp ?? '')
  if (match === null) throw new Error(`no TCP address in ${daemon.daemon.p2pAddresses.join(' ')}`)
  return `${match[1]}:${match[2]}`
}

describe('Logs subscriptions on a follower', () => {
  it('should stream a job’s output while it runs when the job runs on another peer', async () => {
    const a = await startTestDaemon({ executor: true })
    daemons.push(a)
    const { token } = await a.call('mesh.token', { role: 'executor', sameOwner: true })
    const c = await startTestDaemon({
      executor: false,
      join: { address: p2pAddress(a), token },
    })
    daemons.push(c)
    const { job } = await c.call('job.submit', {
      idempotencyId: 'follow-1',
      spec: { runtime: 'bash', code: 'for i in 1 2 3 4; do echo "line $i"; sleep 1; done' },
    })
    const client = await c.socket()
    const events: SubscriptionEvent[] = []
    const firstLine = Promise.withResolvers<void>()
    const ended = Promise.withResolvers<void>()
    await client.subscribe('logs', { id: job.id }, (event) => {
      events.push(event)
      if ('data' in event) firstLine.resolve()
      if ('end' in event) ended.resolve()
    })
    await firstLine.promise
    // The first line came while the job still runs: live, not the kept tails at the end.
    expect((await a.call('job.get', { id: job.id })).state).toBe('running')
    await ended.promise
    const text = events.map((event) => ('data' in event ? event.data : '')).join('')
    expect(text).toBe('line 1\nline 2\nline 3\nline 4\n')
    expect(events.at(-1)).toMatchObject({ end: true, state: 'succeeded' })
  }, 60_000)

  it('should give a short job’s output once, live or as tails, when it races the log', async () => {
    const a = await startTestDaemon({ executor: true })
    daemons.push(a)
    const { token } = await a.call('mesh.token', { role: 'executor', sameOwner: true })
    const c = await startTestDaemon({ executor: false, join: { address: p2pAddress(a), token } })
    daemons.push(c)
    const client = await c.socket()
    for (const [n, code, output] of [
      [1, 'echo hi', 'hi\n'],
      [2, 'true', ''],
    ] as const) {
      const { job } = await c.call('job.submit', {
        idempotencyId: `short-${n}`,
        spec: { runtime: 'bash', code },
      })
      const events: SubscriptionEvent[] = []
      const ended = Promise.withResolvers<void>()
      await client.subscribe('logs', { id: job.id }, (event) => {
        events.push(event)
        if ('end' in event) ended.resolve()
      })
      await ended.promise
      const text = events.map((event) => ('data' in event ? event.data : '')).join('')
      expect(text).toBe(output)
      expect(events.filter((event) => 'end' in event)).toHaveLength(1)
      expect(events.at(-1)).toMatchObject({ end: true, state: 'succeeded' })
    }
  }, 60_000)
})
