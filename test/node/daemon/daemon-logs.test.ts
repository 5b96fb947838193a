// Jobs that end by a command that does not name them (a parent's cancel ends its open
// children; a training round's deadline cuts its stragglers; a peer's removal requeues what it
// held): their live log subscribers hear the end, and their job-state subscribers the state.
import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { afterEach, describe, expect, it } from 'vitest'
import { BLOBS_PATH, cidOfSha256 } from '../../../protocol/index.ts'
import type { SubscriptionEvent } from '../../../protocol/index.ts'
import { startTestDaemon } from '../../fixtures/daemon.ts'
import type { TestDaemon } from '../../fixtures/daemon.ts'

/** Bound on the wait for an event: a container's start on a loaded machine is slow. */
const EVENT_TIMEOUT_MS = 60_000

const daemons: TestDaemon[] = []
afterEach(async () => {
  for (const daemon of daemons.splice(0).reverse()) await daemon.destroy()
})

/** The events of one subscription, with a bounded wait for one that matches. */
function collect() {
  const events: SubscriptionEvent[] = []
  const waiters: { match: (event: SubscriptionEvent) => boolean; resolve: () => void }[] = []
  return {
    events,
    push(event: SubscriptionEvent): void {
      events.push(event)
      for (const waiter of [...waiters]) {
        if (!waiter.match(event)) continue
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    },
    until(match: (event: SubscriptionEvent) => boolean, what: string): Promise<void> {
      if (events.some(match)) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what}`)), EVENT_TIMEOUT_MS)
        waiters.push({
          match,
          resolve: () => {
            clearTimeout(timer)
            resolve()
          },
        })
      })
    },
  }
}

/** A sharded job whose shards each take every CPU: one runs at a time, the others wait. */
async function submitParent(daemon: TestDaemon, shards: number) {
  const csv = 'n\n1\n2\n3\n4\n'
  const cid = cidOfSha256(createHash('sha256').update(csv).digest('hex'))
  const put = await fetch(`${daemon.daemon.address.url}${BLOBS_PATH}/${cid}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${daemon.daemon.token}` },
    body: csv,
  })
  expect(put.status).toBeLessThan(300)
  const { parent } = await daemon.call('job.submit-sharded', {
    idempotencyId: 'ends-parent-1',
    spec: {
      runtime: 'bash',
      code: 'echo started; sleep 300',
      cpus: availableParallelism(),
      inputs: [{ name: 'data.csv', cid, size: csv.length }],
    },
    shards,
  })
  return { id: parent.id, children: parent.shards.map((shard) => shard.jobs[0]!) }
}

function p2pAddress(daemon: TestDaemon): string {
  const tcp = daemon.daemon.p2pAddresses.find((address) => !address.includes('/ws'))
  const match = /\/ip4\/([^/]+)\/tcp\/(\d+)/.exec(tcp ?? '')
  if (match === null) throw new Error(`no TCP address in ${daemon.daemon.p2pAddresses.join(' ')}`)
  return `${match[1]}:${match[2]}`
}

const isEnd = (event: SubscriptionEvent): boolean => 'end' in event
const isOutput = (event: SubscriptionEvent): boolean => 'data' in event
const isCancelled = (event: SubscriptionEvent): boolean =>
  event.topic === 'jobs' && event.job.state === 'cancelled'

describe('Live log and job-state ends on a daemon', () => {
  it('should end its children’s live logs and states when a parent is cancelled', async () => {
    const daemon = await startTestDaemon({ executor: true })
    daemons.push(daemon)
    const parent = await submitParent(daemon, 2)
    const client = await daemon.socket()
    const logs = parent.children.map(() => collect())
    const states = parent.children.map(() => collect())
    for (const [at, id] of parent.children.entries()) {
      await client.subscribe('logs', { id }, (event) => logs[at]!.push(event))
      await client.subscribe('jobs', { id }, (event) => states[at]!.push(event))
    }
    // One child runs; the other waits in the queue, where no executor will report on it.
    const running = await Promise.any(
      parent.children.map((_, at) => logs[at]!.until(isOutput, 'output').then(() => at)),
    )
    const waiting = 1 - running
    expect((await daemon.call('job.get', { id: parent.children[waiting]! })).state).toBe('queued')

    const ended = await daemon.call('job.cancel-parent', { id: parent.id, idempotencyId: 'c-1' })
    expect(ended.state).toBe('cancelled')
    for (const at of [running, waiting]) {
      await logs[at]!.until(isEnd, `live log end of child ${at}`)
      await states[at]!.until(isCancelled, `cancelled state of child ${at}`)
      expect(logs[at]!.events.filter(isEnd)).toEqual([
        { topic: 'logs', id: parent.children[at], end: true, state: 'cancelled' },
      ])
    }
  }, 180_000)

  it('should show a job requeued when the peer running it leaves the mesh', async () => {
    // A runs no jobs: the job runs on B, and goes back to A's queue when B leaves.
    const a = await startTestDaemon({ executor: false })
    daemons.push(a)
    const { token } = await a.call('mesh.token', { role: 'executor' })
    const b = await startTestDaemon({ executor: true, join: { address: p2pAddress(a), token } })
    daemons.push(b)
    const { job } = await a.call('job.submit', {
      idempotencyId: 'requeued-1',
      spec: { runtime: 'bash', code: 'echo started; sleep 300', timeoutS: 600 },
    })
    const client = await a.socket()
    const logs = collect()
    await client.subscribe('logs', { id: job.id }, logs.push)
    const states = collect()
    await client.subscribe('jobs', { id: job.id }, states.push)
    await logs.until(isOutput, 'output')
    expect((await a.call('job.get', { id: job.id })).executor).toBe(b.daemon.peerId)

    await b.call('mesh.leave', {})
    // The removal names only the peer; the job it held is lost, then queued again.
    const requeued = (event: SubscriptionEvent): boolean =>
      event.topic === 'jobs' && event.job.state === 'queued' && event.job.attempts === 1
    await states.until(requeued, 'the requeued state')
    expect((await a.call('job.get', { id: job.id })).state).toBe('queued')
    expect(logs.events.filter(isEnd)).toEqual([])
  }, 180_000)
})
