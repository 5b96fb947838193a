// raft: proposals committed per second by a 3-voter group in one process, over an in-memory
// transport, each voter on its own LevelDB with synced batches; proposals are batched (all
// those waiting while the previous fsync runs go into the next one). The baseline, measured in
// the same run on the same disk, is the rate of bare synced LevelDB batches: Raft's throughput
// comes from putting many proposals behind each fsync.
//
// `npm run bench -- raft --json`, or on its own: `tsx scripts/bench-raft.ts --json`.
import { ClassicLevel } from 'classic-level'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { LevelRaftStorage, raft } from '../ledger/index.ts'

export interface BenchRaftOptions {
  /** Seconds of measured load after the warm-up. */
  readonly seconds?: number
  /** Proposals the client keeps outstanding (the batching window). */
  readonly outstanding?: number
  /** Bytes of application data per proposal. */
  readonly entryBytes?: number
}

const VOTERS = ['1', '2', '3']
const TICK_MS = 10
const WARMUP_MS = 500

interface Peer {
  readonly id: string
  readonly node: raft.RawNode
  readonly storage: LevelRaftStorage
  readonly inbox: raft.Message[]
  saves: number
}

export async function benchRaft(options: BenchRaftOptions = {}): Promise<object> {
  const seconds = options.seconds ?? 5
  const outstanding = options.outstanding ?? 1024
  const entryBytes = options.entryBytes ?? 128
  const root = await mkdtemp(join(tmpdir(), 'gridx-bench-raft-'))
  try {
    const baseline = await syncedBatchesPerSecond(join(root, 'baseline'), 1)
    const peers = await startPeers(root)
    const result = await measure(peers, { seconds, outstanding, entryBytes })
    for (const peer of peers) await peer.storage.close()
    return {
      benchmark: 'raft',
      voters: VOTERS.length,
      storage: 'leveldb (classic-level), sync: true',
      transport: 'in-memory',
      entryBytes,
      outstanding,
      ...result,
      baseline: { syncedBatchesPerSecond: baseline },
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

async function startPeers(root: string): Promise<Peer[]> {
  const peers: Peer[] = []
  for (const id of VOTERS) {
    const storage = await LevelRaftStorage.open(join(root, `voter-${id}`))
    const boot = raft.bootstrapState({ voters: VOTERS, learners: [] })
    await storage.save({ ...boot, snapshot: undefined }, { sync: true })
    const node = new raft.RawNode({
      id,
      storage,
      random: new raft.SeededRandom(Number(id)),
      electionTicks: 10,
      heartbeatTicks: 1,
      // Big appends and a deep window: the benchmark measures batching, not flow control.
      appendBytesMax: 4 * 1024 * 1024,
      inflightMessagesMax: 256,
    })
    peers.push({ id, node, storage, inbox: [], saves: 0 })
  }
  return peers
}

interface Load {
  readonly seconds: number
  readonly outstanding: number
  readonly entryBytes: number
}

async function measure(peers: Peer[], load: Load): Promise<object> {
  const byId = new Map(peers.map((peer) => [peer.id, peer]))
  const proposedAt = new Map<number, number>()
  const latencies: number[] = []
  let committed = 0
  let nextId = 0
  let running = true
  const leader = peers[0] as Peer
  const onApplied = (data: Uint8Array): void => {
    if (data.byteLength < 8) return
    const id = new DataView(data.buffer, data.byteOffset).getFloat64(0)
    const started = proposedAt.get(id)
    if (started === undefined) return
    proposedAt.delete(id)
    committed++
    latencies.push(performance.now() - started)
  }
  const ticker = setInterval(() => {
    for (const peer of peers) peer.node.tick()
  }, TICK_MS)
  leader.node.campaign()
  const loops = peers.map((peer) =>
    drive(peer, byId, () => running, peer === leader ? onApplied : () => {}),
  )
  const feed = async (): Promise<void> => {
    while (running) {
      if (leader.node.status().role === 'leader' && proposedAt.size < load.outstanding) {
        const batch: Uint8Array[] = []
        while (proposedAt.size + batch.length < load.outstanding) {
          const data = new Uint8Array(load.entryBytes)
          new DataView(data.buffer).setFloat64(0, nextId)
          proposedAt.set(nextId++, performance.now())
          batch.push(data)
        }
        leader.node.proposeBatch(batch)
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  const feeding = feed()
  await sleep(WARMUP_MS)
  const startCommitted = committed
  const startSaves = leader.saves
  latencies.length = 0
  const started = performance.now()
  await sleep(load.seconds * 1000)
  const elapsed = (performance.now() - started) / 1000
  const measured = committed - startCommitted
  const saves = leader.saves - startSaves
  running = false
  clearInterval(ticker)
  await Promise.all([...loops, feeding])
  const sorted = [...latencies].sort((a, b) => a - b)
  return {
    seconds: Number(elapsed.toFixed(2)),
    committed: measured,
    committedPerSecond: Math.round(measured / elapsed),
    commitLatencyMs: { p50: round(pick(sorted, 0.5)), p99: round(pick(sorted, 0.99)) },
    leaderSyncedSavesPerSecond: Math.round(saves / elapsed),
    entriesPerLeaderSave: round(measured / Math.max(1, saves)),
  }
}

/** One peer's driver: deliver, then persist, send, apply, advance (Ready's contract). */
async function drive(
  peer: Peer,
  byId: Map<string, Peer>,
  running: () => boolean,
  onApplied: (data: Uint8Array) => void,
): Promise<void> {
  while (running()) {
    for (const message of peer.inbox.splice(0)) peer.node.step(message)
    if (!peer.node.hasReady()) {
      await new Promise((resolve) => setImmediate(resolve))
      continue
    }
    const ready = peer.node.ready()
    await peer.storage.save(ready, { sync: ready.mustSync })
    if (ready.mustSync) peer.saves++
    for (const message of ready.messages) byId.get(message.to)?.inbox.push(message)
    for (const entry of ready.committedEntries) {
      if (entry.type === 'normal') onApplied(entry.data)
    }
    peer.node.advance()
  }
}

/** The disk's own rate of synced LevelDB batches of one small write. */
async function syncedBatchesPerSecond(location: string, seconds: number): Promise<number> {
  const db = new ClassicLevel<string, Uint8Array>(location, {
    keyEncoding: 'utf8',
    valueEncoding: 'view',
  })
  await db.open()
  const value = new Uint8Array(128)
  const started = performance.now()
  let batches = 0
  while (performance.now() - started < seconds * 1000) {
    await db.batch([{ type: 'put', key: `k${batches}`, value }], { sync: true })
    batches++
  }
  const rate = batches / ((performance.now() - started) / 1000)
  await db.close()
  return Math.round(rate)
}

function pick(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number
}

function round(value: number): number {
  return Math.round(value * 100) / 100
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      seconds: { type: 'string', default: '5' },
      outstanding: { type: 'string', default: '1024' },
    },
  })
  const report = await benchRaft({
    seconds: Number(values.seconds),
    outstanding: Number(values.outstanding),
  })
  process.stdout.write(`${JSON.stringify(report, null, values.json ? undefined : 2)}\n`)
}
