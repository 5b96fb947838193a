// A coordinator that misbehaves: the executor drops the stream and dials again, and nothing it
// sent reaches the runner.
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import type { Stream } from '@libp2p/interface'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { EXECUTOR_PROTOCOL } from '../../../protocol/index.ts'
import { FakeRunner, jobId, spec, startExecutor } from '../coordinator/fixtures/executor-mesh.ts'

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))

describe('ExecutorClient against a faulty coordinator', () => {
  const stops: (() => void | Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()))
  })

  /** A coordinator that answers each hello with a welcome, then does what `then` says. */
  async function fakeCoordinator(then: (stream: Stream, at: number) => Promise<void>) {
    const node: Libp2p = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
    })
    stops.push(() => node.stop())
    let streams = 0
    await node.handle(EXECUTOR_PROTOCOL, async (stream) => {
      const lp = lpStream(stream)
      await lp.read()
      await lp.write(json({ type: 'welcome', leaseMs: 200, heartbeatMs: 50 }))
      streams += 1
      await then(stream, streams)
    })
    return { address: { peerId: node.peerId, addresses: node.getMultiaddrs() } }
  }

  async function executorOf(coordinator: Awaited<ReturnType<typeof fakeCoordinator>>) {
    const runner = new FakeRunner()
    const executor = await startExecutor(() => Promise.resolve(coordinator.address), runner)
    stops.push(() => executor.node.stop())
    return { ...executor, runner }
  }

  it('should drop the stream and dial again when the coordinator goes silent', async () => {
    const coordinator = await fakeCoordinator(async () => {})
    const { connections, client } = await executorOf(coordinator)
    await connections.next((event) => event.type === 'disconnected')
    await connections.next((event) => event.type === 'connected' && client.streamsOpened === 2)
    expect(client.streamsOpened).toBe(2)
  })

  it('should drop the stream and run nothing when the coordinator sends junk', async () => {
    const coordinator = await fakeCoordinator(async (stream, at) => {
      const lp = lpStream(stream)
      if (at === 1) await lp.write(json({ type: 'assign', jobId: jobId(1), fence: 0, spec }))
      else await lp.write(new Uint8Array([0x7b, 0xff]))
    })
    const { connections, client, runner } = await executorOf(coordinator)
    await connections.next((event) => event.type === 'connected' && client.streamsOpened === 3)
    expect(runner.runs.seen).toEqual([])
  })
})
