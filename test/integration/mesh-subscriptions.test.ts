// Subscriptions on a peer that neither runs the job nor took its submission, on real `gridx
// start` processes on loopback: A founds the mesh, B joins as the only executor, C joins with
// A's same-owner token. C's client, over the API's WebSocket, hears the job's states, its
// live output, the account's balance as the escrow is placed and settled, and the peers with
// B's load while B runs the job that A's CLI submitted.
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RpcClient } from '../../protocol/index.ts'
import type { BalanceView, JobView, PeerView, SubscriptionEvent } from '../../protocol/index.ts'
import { describeWithDocker } from '../fixtures/docker.ts'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'

/** A container's start and a python run on a loaded 2-core machine. */
const JOB_TIMEOUT_MS = 90_000

const CODE = [
  'import time',
  'for i in range(4):',
  "    print(f'line {i}', flush=True)",
  '    time.sleep(1)',
].join('\n')

describeWithDocker('subscriptions on a peer other than the one running the job', () => {
  let cluster: MeshCluster
  let client: RpcClient

  beforeAll(async () => {
    cluster = await MeshCluster.create({ peers: 3, executors: (index) => index === 1 })
    await cluster.start(0, ['--voters', '1'])
    await cluster.join(1, 0, 'executor')
    await cluster.joinSameOwner(2, 0, 'executor')
    client = new RpcClient({
      url: cluster.peers[2]?.daemon?.apiUrl ?? '',
      token: await cluster.apiToken(2),
    })
    await client.connect()
  }, 240_000)

  afterAll(async () => {
    client?.close()
    await cluster.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
  })

  it('should push states, output, balance and peers on C when A submits and B runs', async () => {
    const events: SubscriptionEvent[] = []
    const seen = (accept: (event: SubscriptionEvent) => boolean) =>
      expect.poll(() => events.some(accept), { timeout: JOB_TIMEOUT_MS }).toBe(true)
    await client.subscribe('jobs', {}, (event) => void events.push(event))
    await client.subscribe('balance', {}, (event) => void events.push(event))
    await client.subscribe('peers', {}, (event) => void events.push(event))
    const submitted = await cluster.cli(0, ['submit', '-c', CODE])
    expect(submitted.code, submitted.stderr).toBe(0)
    const { job } = JSON.parse(submitted.stdout) as { job: JobView }
    await client.subscribe('logs', { id: job.id }, (event) => void events.push(event))

    const b = cluster.peerIdOf(1)
    const stateOf = (event: SubscriptionEvent) =>
      event.topic === 'jobs' && event.job.id === job.id ? event.job.state : null
    await seen((event) => stateOf(event) === 'running')
    // B's load, as the coordinator knows it, reaches C's peers topic while the job runs.
    const busy = (peers: readonly PeerView[]) =>
      peers.some((peer) => peer.peerId === b && (peer.load?.runningJobs ?? 0) > 0)
    await seen((event) => event.topic === 'peers' && busy(event.peers))
    await seen((event) => stateOf(event) === 'succeeded')
    await seen((event) => event.topic === 'logs' && 'end' in event)

    const finished = events.map(stateOf).findLast((state) => state !== null)
    expect(finished).toBe('succeeded')
    const output = events
      .flatMap((event) => (event.topic === 'logs' && 'data' in event ? [event.data] : []))
      .join('')
    expect(output).toBe('line 0\nline 1\nline 2\nline 3\n')
    expect(events.find((event) => stateOf(event) === 'succeeded')).toMatchObject({
      job: { executor: b },
    })

    // The escrow was placed, then settled: what is left held is nothing, and the balance is
    // the grant less the job's price, as `gridx balance` on A says.
    const balances = events.flatMap((event) => (event.topic === 'balance' ? [event.balance] : []))
    expect(balances.some((balance) => balance.escrowedMc > 0)).toBe(true)
    await expect.poll(() => balances.at(-1)?.escrowedMc, { timeout: JOB_TIMEOUT_MS }).toBe(0)
    const onA = JSON.parse((await cluster.cli(0, ['balance'])).stdout) as BalanceView
    const settled = JSON.parse((await cluster.cli(0, ['status', job.id])).stdout) as JobView
    expect(balances.at(-1)?.balanceMc).toBe(onA.balanceMc)
    expect(onA.balanceMc + (settled.priceMc ?? 0)).toBe(100_000)
  }, 240_000)
})
