// Figures of the Raft transport on loopback, printed as one JSON object:
//   npx tsx test/node/mesh/raft-transport-figures.ts
// rtt: a heartbeat and its response between two real libp2p nodes, one at a time.
// streamOpen: what opening a stream per message would add (the transport keeps one open).
// appends: append messages (one 128-byte entry each, and 64 entries each) streamed as fast as
// the sender's bounded queue takes them, counted when the receiver has stepped them.
import '../../../node/polyfills.ts'
import { performance } from 'node:perf_hooks'
import type { raft } from '../../../ledger/index.ts'
import { appendMessage, meshTogether, startRaftPeer } from './raft-peers.ts'
import type { RaftPeer } from './raft-peers.ts'

const ROUND_TRIPS = 2000
const OPEN_PROTOCOL = '/gridx/figures/open/1.0.0'
const WARMUP = 200

function heartbeat(from: RaftPeer, to: RaftPeer, type: 'heartbeat' | 'heartbeat-response') {
  return { ...appendMessage(from, to, 1), type, entries: [] }
}

async function roundTrips(a: RaftPeer, b: RaftPeer): Promise<number[]> {
  b.onMessage = (message) => {
    if (message.type === 'heartbeat') b.transport.send([heartbeat(b, a, 'heartbeat-response')])
    return Promise.resolve()
  }
  const samples: number[] = []
  for (let trip = 0; trip < WARMUP + ROUND_TRIPS; trip++) {
    const answered = Promise.withResolvers<void>()
    a.onMessage = () => {
      answered.resolve()
      return Promise.resolve()
    }
    const start = performance.now()
    a.transport.send([heartbeat(a, b, 'heartbeat')])
    await answered.promise
    if (trip >= WARMUP) samples.push(performance.now() - start)
  }
  return samples.sort((x, y) => x - y)
}

async function appendRate(a: RaftPeer, b: RaftPeer, entriesPerMessage: number, total: number) {
  let received = 0
  const done = Promise.withResolvers<void>()
  b.onMessage = () => {
    if (++received === total) done.resolve()
    return Promise.resolve()
  }
  const data = new Uint8Array(128).fill(7)
  const message = (index: number): raft.Message => ({
    ...appendMessage(a, b, index),
    entries: Array.from({ length: entriesPerMessage }, (_, at) => ({
      term: 1,
      index: index * entriesPerMessage + at,
      type: 'normal' as const,
      data,
    })),
  })
  const start = performance.now()
  for (let sent = 0; sent < total;) {
    // A closed-loop producer: keep the queue half full so nothing is dropped.
    if ((a.transport.stats(b.id)?.queued ?? 0) > 2000) {
      await new Promise((resolve) => setImmediate(resolve))
      continue
    }
    const batch = Array.from({ length: Math.min(100, total - sent) }, (_, at) =>
      message(sent + at + 1),
    )
    a.transport.send(batch)
    sent += batch.length
  }
  await done.promise
  const seconds = (performance.now() - start) / 1000
  return {
    entriesPerMessage,
    messages: total,
    messagesPerSecond: Math.round(total / seconds),
    entriesPerSecond: Math.round((total * entriesPerMessage) / seconds),
    dropped: a.transport.stats(b.id)?.dropped ?? 0,
  }
}

/** What a stream per message would cost: opening one on the open connection, then closing it. */
async function streamOpens(a: RaftPeer, b: RaftPeer): Promise<number[]> {
  await b.node.handle(OPEN_PROTOCOL, (stream) => void stream.close())
  const samples: number[] = []
  for (let open = 0; open < WARMUP + 500; open++) {
    const start = performance.now()
    const stream = await a.node.dialProtocol(b.node.peerId, OPEN_PROTOCOL)
    if (open >= WARMUP) samples.push(performance.now() - start)
    await stream.close()
  }
  return samples.sort((x, y) => x - y)
}

const quantile = (sorted: number[], q: number) =>
  Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(3))

const [a, b] = await Promise.all([startRaftPeer(), startRaftPeer()])
await meshTogether([a, b])
const rtt = await roundTrips(a, b)
const opens = await streamOpens(a, b)
const single = await appendRate(a, b, 1, 100_000)
const batched = await appendRate(a, b, 64, 10_000)
await Promise.all([a.node.stop(), b.node.stop()])
console.log(
  JSON.stringify({
    rttMs: {
      samples: rtt.length,
      p50: quantile(rtt, 0.5),
      p99: quantile(rtt, 0.99),
      max: quantile(rtt, 1),
    },
    streamOpenMs: { samples: opens.length, p50: quantile(opens, 0.5), p99: quantile(opens, 0.99) },
    appends: [single, batched],
  }),
)
