// A finished report the coordinator could not commit: the server sends no ack, ends the
// stream so that the executor sends it again, and still counts the job as the executor's.
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { EXECUTOR_PROTOCOL, handedBack } from '../../../protocol/index.ts'
import {
  capacity,
  jobId,
  Recorder,
  recordServer,
  startCoordinator,
  type ServerEvent,
} from './fixtures/executor-mesh.ts'

const load = { runningJobs: 0, cpusInUse: 0, memoryMbInUse: 0 }
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))
const decode = (bytes: { subarray(): Uint8Array }) =>
  JSON.parse(new TextDecoder().decode(bytes.subarray())) as { type: string }

describe('ExecutorServer when a result is not committed', () => {
  const stops: (() => Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()))
  })

  it('should not ack it, end the stream, and keep the job in the lease', async () => {
    const events = new Recorder<ServerEvent>()
    const recorded = recordServer(events)
    const at = await startCoordinator({
      leaseMs: 400,
      // The proposal of every finished report fails, as in an election.
      events: {
        ...recorded,
        report: (link, report) => {
          recorded.report?.(link, report)
          return Promise.resolve(false)
        },
      },
    })
    stops.push(async () => {
      await at.node.stop()
    })
    const node = await createLibp2p({
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
    })
    stops.push(async () => {
      await node.stop()
    })
    const stream = await node.dialProtocol(at.node.getMultiaddrs(), EXECUTOR_PROTOCOL, {
      signal: AbortSignal.timeout(5000),
    })
    const lp = lpStream(stream)
    const id = jobId(31)
    await lp.write(encode({ type: 'hello', running: [{ jobId: id, fence: 7 }], capacity, load }))
    expect(decode(await lp.read()).type).toBe('welcome')
    const outcome = handedBack('test')
    await lp.write(
      encode({ type: 'report', report: { type: 'finished', jobId: id, fence: 7, outcome } }),
    )
    const frames: string[] = []
    await expect(
      (async () => {
        for (;;) frames.push(decode(await lp.read()).type)
      })(),
    ).rejects.toThrow()
    expect(frames).not.toContain('report-ack')
    // The executor never comes back: its lease runs out with the job whose result it holds.
    const expired = await events.next((event) => event.type === 'leaseExpired', 5000)
    expect(expired).toMatchObject({ running: [{ jobId: id, fence: 7 }] })
  })
})
