// Bad input at the coordinator's door: each is refused (stream closed), logged once, and
// nothing reaches the scheduler's callbacks.
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { EXECUTOR_FRAME_BYTES_MAX, EXECUTOR_PROTOCOL } from '../../../protocol/index.ts'
import { capacity, startCoordinator, type TestCoordinator } from './fixtures/executor-mesh.ts'

const load = { runningJobs: 0, cpusInUse: 0, memoryMbInUse: 0 }
const hello = { type: 'hello', running: [], capacity, load }
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))

/** The unsigned varint that prefixes a frame with its length. */
function varint(value: number): Uint8Array {
  const bytes: number[] = []
  for (let rest = value; ; rest = Math.floor(rest / 128)) {
    if (rest < 128) return new Uint8Array([...bytes, rest])
    bytes.push((rest % 128) | 0x80)
  }
}

describe('ExecutorServer refusals', () => {
  const stops: (() => void | Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()))
  })

  async function setUp(init: Parameters<typeof startCoordinator>[0] = {}) {
    const coordinator = await startCoordinator(init)
    const raw: Libp2p = await createLibp2p({
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
    })
    stops.push(
      () => coordinator.node.stop(),
      () => raw.stop(),
    )
    const stream = await raw.dialProtocol(coordinator.node.getMultiaddrs(), EXECUTOR_PROTOCOL, {
      signal: AbortSignal.timeout(5000),
    })
    // A refusal at the door may close the stream before this line runs.
    const closed = new Promise<void>((resolve) => {
      if (stream.status !== 'open') resolve()
      stream.addEventListener('close', () => resolve())
    })
    return { coordinator, raw, stream, lp: lpStream(stream), closed }
  }

  function expectNothingReached(coordinator: TestCoordinator, logLines: number): void {
    const callbacks = coordinator.events.seen.filter((event) => event.type !== 'left')
    expect(callbacks).toEqual([])
    expect(coordinator.server.links()).toEqual([])
    expect(coordinator.lines).toHaveLength(logLines)
  }

  it('should close the stream when the peer is not admitted, hello or not', async () => {
    const { coordinator, lp, closed } = await setUp({ isAdmitted: () => false })
    await lp.write(json(hello)).catch(() => undefined)
    await closed
    expect(coordinator.server.stats.refusedStreams).toBe(1)
    expectNothingReached(coordinator, 1)
    expect(coordinator.events.seen).toEqual([])
  })

  it('should close the stream when a frame announces more than the frame limit', async () => {
    const { coordinator, stream, closed } = await setUp()
    // Only the length goes out: the server must refuse before it buffers a byte of the body.
    stream.send(varint(EXECUTOR_FRAME_BYTES_MAX + 1))
    await closed
    expect(coordinator.server.stats.invalidFrames).toBe(1)
    expectNothingReached(coordinator, 1)
  })

  it('should close the stream when a frame is garbage', async () => {
    const { coordinator, lp, closed } = await setUp()
    await lp.write(new Uint8Array([0xff, 0xfe, 0x00, 0x7b]))
    await closed
    expect(coordinator.server.stats.invalidFrames).toBe(1)
    expectNothingReached(coordinator, 1)
  })

  it('should close the stream when a frame does not match the schema', async () => {
    const { coordinator, lp, closed } = await setUp()
    await lp.write(json({ ...hello, running: [{ jobId: 'x', fence: -1 }] }))
    await closed
    expectNothingReached(coordinator, 1)
  })

  it('should close the stream when the first frame is not a hello', async () => {
    const { coordinator, lp, closed } = await setUp()
    await lp.write(json({ type: 'heartbeat', capacity, load }))
    await closed
    expectNothingReached(coordinator, 1)
  })

  it('should drop the link and pass on no report when a bad frame follows the hello', async () => {
    const { coordinator, lp, closed } = await setUp()
    await lp.write(json(hello))
    await coordinator.events.next((event) => event.type === 'joined')
    const report = { type: 'started', jobId: 'jabcdef1', fence: 0 }
    await lp.write(json({ type: 'report', report }))
    await closed
    await coordinator.events.next((event) => event.type === 'left')
    expect(coordinator.events.seen.map((event) => event.type)).toEqual(['joined', 'left'])
    expect(coordinator.server.links()).toEqual([])
    expect(coordinator.lines).toHaveLength(1)
  })

  it('should close a stream that sends no hello in time', async () => {
    const { coordinator, closed } = await setUp({ ackTimeoutMs: 200 })
    await closed
    expect(coordinator.events.seen).toEqual([])
  })
})
