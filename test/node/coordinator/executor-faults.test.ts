// An executor that misbehaves within the protocol: it never acks, it opens a second stream, or
// the coordinator already serves as many executors as it may.
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { EXECUTOR_PROTOCOL, EXECUTOR_WRITE_QUEUE_MAX } from '../../../protocol/index.ts'
import {
  capacity,
  jobId,
  spec,
  startCoordinator,
  type ServerEvent,
  type TestCoordinator,
} from './fixtures/executor-mesh.ts'

const load = { runningJobs: 0, cpusInUse: 0, memoryMbInUse: 0 }
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))
const decode = (bytes: { subarray(): Uint8Array }) =>
  JSON.parse(new TextDecoder().decode(bytes.subarray())) as { type: string }

type Joined = Extract<ServerEvent, { type: 'joined' }>

describe('ExecutorServer with a faulty executor', () => {
  const stops: (() => void | Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()))
  })

  async function coordinator(init: Parameters<typeof startCoordinator>[0] = {}) {
    const started = await startCoordinator(init)
    stops.push(() => started.node.stop())
    return started
  }

  /** A peer that speaks the frames by hand: it says hello and then only what a test makes it. */
  async function handmade(at: TestCoordinator) {
    const node = await createLibp2p({
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
    })
    stops.push(() => node.stop())
    const open = async (hello = true) => {
      const stream = await node.dialProtocol(at.node.getMultiaddrs(), EXECUTOR_PROTOCOL, {
        signal: AbortSignal.timeout(5000),
      })
      const lp = lpStream(stream)
      if (hello) await lp.write(encode({ type: 'hello', running: [], capacity, load }))
      return { stream, lp }
    }
    return { node, open }
  }

  it('should hand the job back and cancel it when the executor never acks', async () => {
    const at = await coordinator({ ackTimeoutMs: 200 })
    const { lp } = await (await handmade(at)).open()
    expect(decode(await lp.read()).type).toBe('welcome')
    const { link } = (await at.events.next((event) => event.type === 'joined')) as Joined
    const result = await link.assign({ jobId: jobId(1), fence: 4, spec })
    expect(result).toEqual({ acknowledged: false, reason: 'timeout' })
    const handedBack = at.events.seen.find((event) => event.type === 'report')
    expect(handedBack).toMatchObject({
      report: { type: 'finished', jobId: jobId(1), fence: 4, outcome: { cause: 'executor' } },
    })
    expect(decode(await lp.read()).type).toBe('assign')
    expect(decode(await lp.read())).toEqual({ type: 'cancel', jobId: jobId(1) })
  })

  it('should replace the link, with no left event, when a second stream opens', async () => {
    const at = await coordinator()
    const peer = await handmade(at)
    const first = await peer.open()
    const firstClosed = new Promise((resolve) => first.stream.addEventListener('close', resolve))
    const { link: old } = (await at.events.next((event) => event.type === 'joined')) as Joined
    await peer.open()
    await at.events.next((event) => event.type === 'joined' && event.link !== old)
    await firstClosed
    expect(at.server.links()).toHaveLength(1)
    expect(at.server.links()[0]).not.toBe(old)
    expect(at.events.seen.map((event) => event.type)).toEqual(['joined', 'joined'])
  })

  it('should refuse a stream when it already serves as many executors as it may', async () => {
    const at = await coordinator({ executorsMax: 1 })
    await (await handmade(at)).open()
    await at.events.next((event) => event.type === 'joined')
    // No hello: the refusal comes at the door, before any frame is read.
    const second = await (await handmade(at)).open(false)
    const closed = new Promise((resolve) => {
      if (second.stream.status !== 'open') resolve(undefined)
      second.stream.addEventListener('close', resolve)
    })
    await closed
    expect(at.server.stats.refusedStreams).toBe(1)
    expect(at.server.links()).toHaveLength(1)
  })

  it('should cut off an executor that stops reading when its write queue is full', async () => {
    const at = await coordinator({ ackTimeoutMs: 60_000 })
    const { stream, lp } = await (await handmade(at)).open()
    expect(decode(await lp.read()).type).toBe('welcome')
    // It reads nothing more: libp2p stops its window, and frames pile up on our side.
    stream.maxReadBufferLength = 1024 * 1024 * 1024
    stream.pause()
    const { link } = (await at.events.next((event) => event.type === 'joined')) as Joined
    const big = { ...spec, code: 'x'.repeat(4096) }
    const results = Array.from({ length: EXECUTOR_WRITE_QUEUE_MAX + 2000 }, (_, at) =>
      link.assign({ jobId: jobId(at), fence: at + 1, spec: big }),
    )
    const refused = await Promise.race(results.map((result) => result.then(() => result)))
    expect(await refused).toMatchObject({ acknowledged: false, reason: 'unreachable' })
    const first = at.events.seen.find((event) => event.type === 'report')
    expect(first).toMatchObject({
      report: { outcome: { error: expect.stringContaining('not reading') as unknown } },
    })
    await at.events.next((event) => event.type === 'left')
    expect(link.connected).toBe(false)
    const all = await Promise.all(results)
    expect(all.every((result) => !result.acknowledged)).toBe(true)
  })
})
