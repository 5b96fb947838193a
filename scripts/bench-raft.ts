// raft: ledger proposals committed and applied per second by a 3-voter group in one process,
// run by the driver the daemon runs (ledger/driver: RawNode, LevelRaftStorage with synced
// batches, a real ticker) over an in-memory RaftTransport. The client keeps `outstanding`
// proposals in flight on the leader; those made while an fsync runs share the next one. The
// baseline, measured in the same run on the same disk, is the rate of bare synced LevelDB
// batches: Raft's throughput comes from putting many proposals behind each fsync.
//
// `npm run bench -- raft --json`, or on its own: `tsx scripts/bench-raft.ts --json`.
import { ClassicLevel } from 'classic-level'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { intervalTicker, LevelRaftStorage, RaftDriver, raft } from '../ledger/index.ts'
import type { Command, RaftTransport, RaftTransportHandler } from '../ledger/index.ts'
import { RAFT_TICK_MS_DEFAULT } from '../protocol/index.ts'

export interface BenchRaftOptions {
  /** Seconds of measured load after the warm-up. */
  readonly seconds?: number
  /** Proposals the client keeps outstanding (the batching window). */
  readonly outstanding?: number
}

const VOTERS = ['1', '2', '3']
const WARMUP_MS = 500

export async function benchRaft(options: BenchRaftOptions = {}): Promise<object> {
  const seconds = options.seconds ?? 5
  const outstanding = options.outstanding ?? 1024
  const root = await mkdtemp(join(tmpdir(), 'gridx-bench-raft-'))
  try {
    const baseline = await syncedBatchesPerSecond(join(root, 'baseline'), 1)
    const drivers = await startDrivers(root)
    const result = await measure(drivers, { seconds, outstanding })
    for (const driver of drivers) await driver.stop()
    return {
      benchmark: 'raft',
      voters: VOTERS.length,
      driver: 'ledger/driver RaftDriver',
      storage: 'leveldb (classic-level), sync: true',
      transport: 'in-memory',
      tickMs: RAFT_TICK_MS_DEFAULT,
      command: 'account.open of an open account',
      outstanding,
      ...result,
      baseline: { syncedBatchesPerSecond: baseline },
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

/** Delivers each message on a later turn of the event loop, in order per receiver. */
function memoryTransports(ids: readonly string[]): Map<string, RaftTransport> {
  const handlers = new Map<string, RaftTransportHandler>()
  const transports = new Map<string, RaftTransport>()
  for (const id of ids) {
    transports.set(id, {
      send: (messages) => {
        for (const message of messages) {
          setImmediate(() => {
            const handler = handlers.get(message.to)
            const delivered = handler?.onMessage(message)
            if (message.type !== 'snapshot') return
            void Promise.resolve(delivered).then(() =>
              handlers.get(id)?.onSnapshotStatus(message.to, handler !== undefined),
            )
          })
        }
      },
      listen: (handler) => {
        handlers.set(id, handler)
      },
    })
  }
  return transports
}

async function startDrivers(root: string): Promise<RaftDriver[]> {
  const transports = memoryTransports(VOTERS)
  const drivers: RaftDriver[] = []
  for (const id of VOTERS) {
    const storage = await LevelRaftStorage.open(join(root, `voter-${id}`))
    const boot = raft.bootstrapState({ voters: VOTERS, learners: [] })
    await storage.save({ ...boot, snapshot: undefined }, { sync: true })
    const driver = new RaftDriver({
      id,
      storage,
      transport: transports.get(id) as RaftTransport,
      ticker: intervalTicker(RAFT_TICK_MS_DEFAULT),
      clock: { now: () => Date.now() },
      sessionPrefix: `${id}/${randomUUID()}`,
    })
    driver.start()
    drivers.push(driver)
  }
  return drivers
}

interface Load {
  readonly seconds: number
  readonly outstanding: number
}

async function measure(drivers: RaftDriver[], load: Load): Promise<object> {
  const leader = await waitForLeader(drivers)
  const command: Command = { type: 'account.open', account: 'bench' }
  await leader.propose(command)
  const latencies: number[] = []
  let committed = 0
  let running = true
  const client = async (): Promise<void> => {
    while (running) {
      const started = performance.now()
      const result = await leader.propose(command)
      if (!result.ok) throw new Error(`refused: ${result.error.message}`)
      committed++
      latencies.push(performance.now() - started)
    }
  }
  const clients = Array.from({ length: load.outstanding }, () => client())
  await sleep(WARMUP_MS)
  const startCommitted = committed
  const startIndex = leader.status().commit
  latencies.length = 0
  const started = performance.now()
  await sleep(load.seconds * 1000)
  const elapsed = (performance.now() - started) / 1000
  const measured = committed - startCommitted
  const entries = leader.status().commit - startIndex
  running = false
  await Promise.all(clients)
  const sorted = [...latencies].sort((a, b) => a - b)
  return {
    seconds: Number(elapsed.toFixed(2)),
    committed: measured,
    committedPerSecond: Math.round(measured / elapsed),
    entriesPerSecond: Math.round(entries / elapsed),
    commitLatencyMs: { p50: round(pick(sorted, 0.5)), p99: round(pick(sorted, 0.99)) },
  }
}

async function waitForLeader(drivers: RaftDriver[]): Promise<RaftDriver> {
  for (let waited = 0; waited < 10_000; waited += RAFT_TICK_MS_DEFAULT) {
    const leader = drivers.find((driver) => driver.status().role === 'leader')
    if (leader !== undefined) return leader
    await sleep(RAFT_TICK_MS_DEFAULT)
  }
  throw new Error('no leader within 10 s')
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
