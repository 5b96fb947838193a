// The logs relay on real libp2p nodes on 127.0.0.1: a peer follows a job's live output on the
// coordinator over one stream, and when the coordinator changes it resumes on the new one after
// the last chunk it delivered, with none twice.
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { LiveLogs, LogsRelay, LogsServer } from '../../../node/coordinator/index.ts'
import type { RelayEvent } from '../../../node/coordinator/index.ts'
import { LOGS_PROTOCOL } from '../../../protocol/index.ts'
import { Recorder } from './fixtures/executor-mesh.ts'

const logger = pino({ level: 'silent' })
const nodes: Libp2p[] = []
const stops: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop()
  for (const node of nodes.splice(0)) await node.stop()
})

async function node(): Promise<Libp2p> {
  const made = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  })
  nodes.push(made)
  return made
}

/** A peer that may be the coordinator: its LiveLogs behind a LogsServer. */
async function coordinator(admitted = true) {
  const host = await node()
  const liveLogs = new LiveLogs()
  const server = new LogsServer(
    { registrar: host },
    { liveLogs, isAdmitted: () => admitted, finalState: () => null, logger },
  )
  await server.start()
  stops.push(() => server.stop())
  const where = { peerId: host.peerId.toString(), addresses: host.getMultiaddrs().map(String) }
  return { host, liveLogs, where }
}

async function follower(lead: () => { peerId: string; addresses: string[] } | null) {
  const host = await node()
  const relay = new LogsRelay(
    { connectionManager: { openConnection: (target, options) => host.dial(target, options) } },
    { self: host.peerId.toString(), local: new LiveLogs(), coordinator: lead, logger, checkMs: 20 },
  )
  stops.push(() => relay.stop())
  return { host, relay }
}

const JOB = 'jaaaaaaa1'
const data = (events: readonly RelayEvent[]) =>
  events.map((event) =>
    'data' in event ? event.data : 'gap' in event ? `gap:${event.missing}` : `end:${event.state}`,
  )

describe('LogsRelay', () => {
  it('should resume after the last chunk when the coordinator changes', async () => {
    const first = await coordinator()
    const second = await coordinator()
    let lead = first.where
    const { relay } = await follower(() => lead)
    const events = new Recorder<RelayEvent>()
    relay.follow(JOB, events.push)
    first.liveLogs.append(JOB, 'stdout', 'a', { fence: 5, seq: 0 })
    first.liveLogs.append(JOB, 'stdout', 'b', { fence: 5, seq: 1 })
    await events.next((event) => 'data' in event && event.data === 'b')
    // The executor reconnected to the new coordinator and resent what it had not had acked.
    for (const [seq, text] of ['b', 'c', 'd'].entries()) {
      second.liveLogs.append(JOB, 'stdout', text, { fence: 5, seq: seq + 1 })
    }
    lead = second.where
    await events.next((event) => 'data' in event && event.data === 'd')
    second.liveLogs.end(JOB, 'succeeded')
    await events.next((event) => 'end' in event)
    expect(data(events.seen)).toEqual(['a', 'b', 'c', 'd', 'end:succeeded'])
  })

  it('should tell its followers of a gap when chunks reached only a coordinator that died', async () => {
    const first = await coordinator()
    const second = await coordinator()
    let lead = first.where
    const { relay } = await follower(() => lead)
    const events = new Recorder<RelayEvent>()
    relay.follow(JOB, events.push)
    first.liveLogs.append(JOB, 'stdout', 'a', { fence: 5, seq: 0 })
    first.liveLogs.append(JOB, 'stdout', 'b', { fence: 5, seq: 1 })
    await events.next((event) => 'data' in event && event.data === 'b')
    // Chunks 2 and 3 went to the first coordinator only, and it died before passing them on.
    await first.host.stop()
    second.liveLogs.append(JOB, 'stdout', 'e', { fence: 5, seq: 4 })
    lead = second.where
    await events.next((event) => 'data' in event && event.data === 'e')
    // A retry's run starts its own numbering: its first chunk is no gap.
    second.liveLogs.append(JOB, 'stdout', 'r', { fence: 6, seq: 0 })
    second.liveLogs.append(JOB, 'stdout', 's', { fence: 6, seq: 2 })
    await events.next((event) => 'data' in event && event.data === 's')
    expect(data(events.seen)).toEqual(['a', 'b', 'gap:2', 'e', 'r', 'gap:1', 's'])
  })

  it('should tell its followers of a gap when the first chunks it gets are not the run’s first', async () => {
    const lead = await coordinator()
    const { relay } = await follower(() => lead.where)
    const events = new Recorder<RelayEvent>()
    relay.follow(JOB, events.push)
    lead.liveLogs.append(JOB, 'stdout', 'late', { fence: 3, seq: 7 })
    await events.next((event) => 'data' in event)
    expect(data(events.seen)).toEqual(['gap:7', 'late'])
  })

  it('should keep one stream to the coordinator when several jobs are followed', async () => {
    const lead = await coordinator()
    const { host, relay } = await follower(() => lead.where)
    const events = new Recorder<RelayEvent>()
    const stopFirst = relay.follow(JOB, events.push)
    relay.follow('jaaaaaaa2', events.push)
    relay.follow(JOB, () => undefined)
    lead.liveLogs.append('jaaaaaaa2', 'stderr', 'x', { fence: 1, seq: 0 })
    await events.next((event) => 'data' in event && event.data === 'x')
    const streams = host
      .getConnections(lead.host.peerId)
      .flatMap((connection) => connection.streams)
      .filter((stream) => stream.protocol === LOGS_PROTOCOL)
    expect(streams).toHaveLength(1)
    stopFirst()
  })

  it('should deliver nothing when the coordinator refuses a peer it did not admit', async () => {
    const lead = await coordinator(false)
    const { relay } = await follower(() => lead.where)
    const events = new Recorder<RelayEvent>()
    relay.follow(JOB, events.push)
    lead.liveLogs.append(JOB, 'stdout', 'secret', { fence: 1, seq: 0 })
    await expect(events.next(() => true, 500)).rejects.toThrow(/no such event/)
  })

  it('should back off its dials when the coordinator cannot be reached', async () => {
    let dials = 0
    const relay = new LogsRelay(
      {
        connectionManager: {
          openConnection: () => {
            dials += 1
            return Promise.reject(new Error('connection refused'))
          },
        },
      },
      {
        self: 'peer-self',
        local: new LiveLogs(),
        coordinator: () => ({ peerId: 'peer-gone', addresses: [] }),
        logger,
        checkMs: 5,
      },
    )
    stops.push(() => relay.stop())
    relay.follow(JOB, () => undefined)
    await new Promise((resolve) => setTimeout(resolve, 400))
    // One look every 5 ms would dial ~80 times; doubling waits dial a handful.
    expect(dials).toBeGreaterThanOrEqual(2)
    expect(dials).toBeLessThan(20)
  })
})
