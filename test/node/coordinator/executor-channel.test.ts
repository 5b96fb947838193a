// FrameChannel over a pair of in-memory libp2p streams (@libp2p/utils' streamPair).
import { streamPair } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { FrameChannel } from '../../../node/coordinator/index.ts'

const frameSchema = z.object({ n: z.number() })
type Frame = z.infer<typeof frameSchema>

const closes: (() => void)[] = []
afterEach(() => {
  for (const close of closes.splice(0)) close()
})

async function channels() {
  const [outbound, inbound] = await streamPair()
  let writes = 0
  const send = outbound.send.bind(outbound)
  outbound.send = (data) => {
    writes += 1
    return send(data)
  }
  const init = { schema: frameSchema, writeTimeoutMs: 5000 }
  const writer = new FrameChannel<Frame, Frame>({ stream: outbound, ...init })
  const reader = new FrameChannel<Frame, Frame>({ stream: inbound, ...init })
  closes.push(() => {
    writer.abort(new Error('test over'))
    reader.abort(new Error('test over'))
  })
  return { writer, reader, writes: () => writes }
}

describe('FrameChannel', () => {
  it('should write the frames sent in one turn of the event loop as one write', async () => {
    const { writer, reader, writes } = await channels()
    writer.send({ n: 1 })
    await Promise.resolve()
    writer.send({ n: 2 })
    queueMicrotask(() => writer.send({ n: 3 }))
    const read = [await reader.read(), await reader.read(), await reader.read()]
    expect(read).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
    expect(writes()).toBe(1)
  })

  it('should write frames sent while a write is under way with the next one', async () => {
    const { writer, reader, writes } = await channels()
    writer.send({ n: 1 })
    await new Promise((resolve) => setImmediate(resolve))
    writer.send({ n: 2 })
    writer.send({ n: 3 })
    const read = [await reader.read(), await reader.read(), await reader.read()]
    expect(read).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
    expect(writes()).toBe(2)
  })

  it('should deliver the frames sent just before it closes when it closes', async () => {
    const { writer, reader } = await channels()
    writer.send({ n: 1 })
    writer.send({ n: 2 })
    const closed = writer.close(5000)
    expect(() => writer.send({ n: 3 })).toThrow('closed')
    const read = [await reader.read(), await reader.read(), await reader.read()]
    await closed
    expect(read).toEqual([{ n: 1 }, { n: 2 }, null])
  })
})
