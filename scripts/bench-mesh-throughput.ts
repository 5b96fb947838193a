// mesh-throughput: jobs through a whole mesh of `gridx start` processes on loopback, 3 voters
// (no executor) and 5 executor peers with the noop runtime, so the figure is the mesh's own:
// API, forwarding, Raft, scheduler, executor protocol and settlement, with nothing run. A
// client submits over several WebSocket connections to every peer, as fast as the mesh
// answers, for `seconds` after a warm-up. Counts come from the coordinator's state at the
// window's ends: jobs escrowed (a committed job.submit holds its escrow), placed (assigned),
// finished, and settled (paid out). The baseline, measured in the same run, is one daemon
// with the noop runtime (a one-machine mesh) under the same client.
//
// `npm run bench -- mesh-throughput --json [--seconds 30]`.
import { GridxError, RpcClient } from '../protocol/index.ts'
import type { MeshInfo } from '../protocol/index.ts'
import { percentile } from './bench-stats.ts'
import { MeshCluster } from './lib/mesh-cluster.ts'
import { counts, cpuOf, cpuWindow, perJob, summarize } from './bench-mesh-figures.ts'
import type { Counts } from './bench-mesh-figures.ts'

export interface MeshThroughputOptions {
  readonly seconds: number
  /** Extra `gridx start` flags for every peer, to compare settings. */
  readonly startArgs?: readonly string[]
  /** Submissions kept unanswered on each connection. */
  readonly inFlight?: number
  /** Writes a CPU profile of every peer into this directory when it stops, named with its
   * pid (the output's `peerPids`, and `coordinatorPid`). */
  readonly profileDir?: string
}

const VOTERS = 3
const EXECUTORS = 5
/** Connections the client opens to each peer. */
const CONNECTIONS_PER_PEER = 2
/** Submissions the client keeps unanswered on each connection, by default: enough to keep
 * every executor busy, and few enough that the mesh is not driven past what it can commit
 * (a deeper queue only adds latency; see the report's refusals). Below the gateway's 64 in
 * flight per connection, and an account's 100 unfinished jobs. */
const SUBMITS_PER_CONNECTION_DEFAULT = 8
/** Raised from the default 200 a second, with `gridx start --token-rate`, so that the API's
 * limit is not what is measured. */
const TOKEN_RATE_PER_S = 20_000
/** Credits every owner starts with (`--join-grant`): a noop job costs one. */
const JOIN_GRANT_CREDITS = 1_000_000
const WARMUP_MS = 5_000
/** The peers' CPU is measured for this long before the load, to tell their idle cost apart. */
const IDLE_MS = 5_000
/** After a refusal that says "later" (queue full, rate, no coordinator yet). */
const RETRY_MS = 20
/** The window's counts are sampled this often, for the per-second series in the output. */
const SAMPLE_MS = 1_000

const SPEC = { runtime: 'noop', code: '', cpus: 0.1, memoryMb: 16, timeoutS: 10 } as const

export async function benchMeshThroughput(options: MeshThroughputOptions): Promise<object> {
  const startArgs = options.startArgs ?? []
  const profile = options.profileDir === undefined ? {} : { profileDir: options.profileDir }
  const inFlight = options.inFlight ?? SUBMITS_PER_CONNECTION_DEFAULT
  const oneMachine = await measure({
    peers: 1,
    voters: 1,
    seconds: options.seconds,
    startArgs,
    inFlight,
    ...profile,
  })
  const mesh = await measure({
    peers: VOTERS + EXECUTORS,
    voters: VOTERS,
    seconds: options.seconds,
    startArgs,
    inFlight,
    ...profile,
  })
  return {
    benchmark: 'mesh-throughput',
    seconds: options.seconds,
    runtime: 'noop',
    client:
      `${CONNECTIONS_PER_PEER} WebSocket connections per peer, ` +
      `${inFlight} submissions unanswered on each`,
    tokenRatePerS: TOKEN_RATE_PER_S,
    startArgs,
    mesh: { voters: VOTERS, executors: EXECUTORS, ...mesh },
    baseline: { what: 'one daemon with the noop runtime, the same client', ...oneMachine },
  }
}

interface Layout {
  readonly peers: number
  readonly voters: 1 | 3
  readonly seconds: number
  readonly startArgs: readonly string[]
  readonly inFlight: number
  readonly profileDir?: string
}

async function measure(layout: Layout): Promise<object> {
  const oneMachine = layout.peers === 1
  const cluster = await MeshCluster.create({
    peers: layout.peers,
    // The voters of a mesh only coordinate; the one machine runs its jobs itself.
    executors: (index) => oneMachine || index >= layout.voters,
    peerArgs: (index) => [
      ...(oneMachine || index >= layout.voters ? ['--noop-executor'] : []),
      ...(index === 0 ? ['--join-grant', String(JOIN_GRANT_CREDITS)] : []),
    ],
    extraArgs: ['--token-rate', String(TOKEN_RATE_PER_S), ...layout.startArgs],
    nodeArgs: () =>
      layout.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', layout.profileDir],
  })
  const clients: RpcClient[] = []
  const load = {
    running: true,
    sent: 0,
    acknowledged: 0,
    refusals: {} as Record<string, number>,
    /** The first message of each kind of refusal, to tell them apart. */
    messages: {} as Record<string, string>,
  }
  try {
    await cluster.startMesh(layout.voters)
    for (const peer of cluster.peers) {
      const token = await cluster.apiToken(peer.index)
      for (let i = 0; i < CONNECTIONS_PER_PEER; i++) {
        const client = new RpcClient({ url: peer.daemon?.apiUrl ?? '', token })
        await client.connect()
        clients.push(client)
      }
    }
    await waitForExecutors(cluster, clients)
    const idleAtStart = await cpuOf(cluster)
    const idleStartMs = performance.now()
    await sleep(IDLE_MS)
    const idle = cpuWindow(
      idleAtStart,
      await cpuOf(cluster),
      (performance.now() - idleStartMs) / 1000,
    )
    const submitters = clients.flatMap((client) =>
      Array.from({ length: layout.inFlight }, () => submitLoop(client, load)),
    )
    await sleep(WARMUP_MS)
    const { coordinator, pid } = await coordinatorClient(cluster, clients)
    const cpuAtStart = await cpuOf(cluster)
    const cpuStartMs = performance.now()
    const samples: Counts[] = [await counts(coordinator)]
    const sentAtStart = load.sent
    const acknowledgedAtStart = load.acknowledged
    const endMs = performance.now() + layout.seconds * 1000
    while (performance.now() < endMs) {
      await sleep(Math.min(SAMPLE_MS, endMs - performance.now()))
      samples.push(await counts(coordinator))
    }
    const cpuEnd = await cpuOf(cluster)
    const cpuLoad = cpuWindow(cpuAtStart, cpuEnd, (performance.now() - cpuStartMs) / 1000)
    // A mesh driven past its limit may not answer the listing: the figures stand without it.
    const stages = await stageLatencies(clients.at(-1) as RpcClient).catch((error: unknown) => ({
      unavailable: (error as Error).message,
    }))
    const sent = load.sent - sentAtStart
    const acknowledged = load.acknowledged - acknowledgedAtStart
    load.running = false
    await Promise.all(submitters)
    return {
      ...summarize(samples, { sent, acknowledged, refusals: load.refusals }),
      refusalMessages: load.messages,
      ...perJob(samples, cpuLoad, idle, layout.voters),
      stages,
      coordinatorPid: pid,
      peerPids: cluster.peers.map((peer) => peer.daemon?.child.pid ?? null),
    }
  } finally {
    load.running = false
    for (const client of clients) client.close()
    await cluster.stopAll()
  }
}

let sequence = 0

/** Submits one job after another on `client`, each retried under its idempotency id while the
 * answer is a refusal that says "later"; counts what it sent and what was acknowledged. */
async function submitLoop(
  client: RpcClient,
  load: {
    running: boolean
    sent: number
    acknowledged: number
    refusals: Record<string, number>
    messages: Record<string, string>
  },
): Promise<void> {
  while (load.running) {
    const idempotencyId = `throughput-${process.pid}-${++sequence}`
    load.sent++
    while (load.running) {
      try {
        await client.call('job.submit', { idempotencyId, spec: SPEC })
        load.acknowledged++
        break
      } catch (error) {
        const name = error instanceof GridxError ? error.name : 'ERROR'
        load.refusals[name] = (load.refusals[name] ?? 0) + 1
        load.messages[name] ??= (error as Error).message
        await sleep(RETRY_MS)
      }
    }
  }
}

/** Waits until every executor peer offers noop and a probe job has run: then the coordinator
 * has their links too. A peer lists only its own capacity, so each is asked. */
async function waitForExecutors(cluster: MeshCluster, clients: readonly RpcClient[]) {
  const deadline = performance.now() + 120_000
  for (const peer of cluster.peers) {
    const client = clients[peer.index * CONNECTIONS_PER_PEER] as RpcClient
    const isExecutor = peer.index >= VOTERS || cluster.peers.length === 1
    while (isExecutor) {
      const { peers } = await client.call('mesh.peers', {})
      const self = peers.find((view) => view.self)
      if (self?.capacity?.runtimes.includes('noop') === true) break
      if (performance.now() > deadline) throw new Error(`peer ${peer.index} offers no noop`)
      await sleep(200)
    }
  }
  const probe = clients.at(-1) as RpcClient
  const idempotencyId = `throughput-probe-${process.pid}-${performance.now()}`
  for (;;) {
    const submitted = await probe
      .call('job.submit', { idempotencyId, spec: SPEC })
      .catch(() => null)
    const id = submitted?.job.id
    const job = id === undefined ? null : await probe.call('job.get', { id })
    if (job?.state === 'succeeded') return
    if (performance.now() > deadline) throw new Error('a noop probe job did not succeed')
    await sleep(200)
  }
}

async function coordinatorClient(cluster: MeshCluster, clients: readonly RpcClient[]) {
  const info: MeshInfo = await (clients[0] as RpcClient).call('mesh.info', {})
  const index = Math.max(
    0,
    cluster.peers.findIndex((peer) => peer.daemon?.peerId === info.coordinator),
  )
  return {
    coordinator: clients[index * CONNECTIONS_PER_PEER] as RpcClient,
    pid: cluster.peers[index]?.daemon?.child.pid ?? null,
  }
}

/** Where a job's time goes, from the log times of one account's newest settled jobs (stamped
 * by the proposer of each step): queued to placed, placed to started, started to finished. */
async function stageLatencies(client: RpcClient): Promise<object> {
  const { jobs } = await client.call('job.list', { state: 'succeeded', limit: 500 })
  const stage = (pick: (job: (typeof jobs)[number]) => number) => {
    const sorted = jobs.map(pick).sort((a, b) => a - b)
    return sorted.length === 0
      ? null
      : { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9) }
  }
  return {
    jobs: jobs.length,
    queuedToPlacedMs: stage((job) => (job.assignedAt ?? 0) - job.createdAt),
    placedToStartedMs: stage((job) => (job.startedAt ?? 0) - (job.assignedAt ?? 0)),
    startedToFinishedMs: stage((job) => (job.finishedAt ?? 0) - (job.startedAt ?? 0)),
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
