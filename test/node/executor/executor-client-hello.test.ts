// What an executor's hello tells a new coordinator: every job whose fate it still holds, so
// that the coordinator does not declare a finished run lost while its report is on the way.
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { EXECUTOR_PROTOCOL } from '../../../protocol/index.ts'
import {
  FakeRunner,
  jobId,
  Recorder,
  spec,
  startExecutor,
} from '../coordinator/fixtures/executor-mesh.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const json = (value: unknown) => encoder.encode(JSON.stringify(value))

interface Frame {
  readonly type: string
  readonly running?: readonly { jobId: string; fence: number }[]
  readonly report?: { readonly type: string; readonly jobId: string }
}

describe('ExecutorClient hello', () => {
  const stops: (() => void | Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()))
  })

  it('should list a finished run when its report is not acknowledged yet', async () => {
    // A coordinator that assigns one job on the first stream, takes its finished report and
    // goes away before it acknowledges it (it was killed); the second stream is the next one.
    const frames = new Recorder<{ stream: number; frame: Frame }>()
    const node = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
    })
    stops.push(() => node.stop())
    let streams = 0
    await node.handle(EXECUTOR_PROTOCOL, async (stream) => {
      const at = ++streams
      const lp = lpStream(stream)
      const read = async () => JSON.parse(decoder.decode((await lp.read()).subarray())) as Frame
      frames.push({ stream: at, frame: await read() })
      await lp.write(json({ type: 'welcome', leaseMs: 5_000, heartbeatMs: 1_000 }))
      if (at !== 1) return
      await lp.write(json({ type: 'assign', jobId: jobId(1), fence: 7, spec }))
      for (;;) {
        const frame = await read()
        frames.push({ stream: at, frame })
        if (frame.type === 'report' && frame.report?.type === 'finished') break
      }
      stream.abort(new Error('the coordinator was killed'))
    })
    const runner = new FakeRunner()
    const address = { peerId: node.peerId, addresses: node.getMultiaddrs() }
    const executor = await startExecutor(() => Promise.resolve(address), runner)
    stops.push(() => executor.node.stop())

    const run = await runner.started(jobId(1))
    run.finish()
    const hello = await frames.next(({ stream, frame }) => stream === 2 && frame.type === 'hello')
    expect(hello.frame.running).toEqual([{ jobId: jobId(1), fence: 7 }])
  })
})
