// failover: three voters as separate `gridx start` processes on loopback, with the default Raft
// timings. A client on a voter that is not the coordinator submits noop jobs at a steady pace
// (each retried under its idempotency id until it is answered); the coordinator is killed with
// SIGKILL at a random moment of that stream. The figure of a trial is the time from the kill to
// the first submission the client sees committed among those it sent after the kill, so no
// write that the old coordinator committed can count. The killed peer is then restarted from
// its data dir and caught up before the next trial. The baseline, measured in the same run, is
// the client's commit latency with every voter up.
//
// With `--signal term` the coordinator is sent SIGTERM instead (Ctrl+C, a planned stop: it
// hands leadership over first); `--signal both` alternates the two in one run and reports each.
//
// `npm run bench -- failover --json [--trials 50] [--signal kill|term|both]`.
import { loadavg } from 'node:os'
import { RpcClient } from '../protocol/index.ts'
import type { MeshInfo } from '../protocol/index.ts'
import { percentile, summary } from './bench-stats.ts'
import { MeshCluster } from './lib/mesh-cluster.ts'

export interface FailoverOptions {
  readonly trials: number
  /** Extra `gridx start` flags for every voter (e.g. other Raft timings, to compare). */
  readonly startArgs?: readonly string[]
  /** How the coordinator is stopped: SIGKILL, SIGTERM, or each in turn. */
  readonly signal?: 'kill' | 'term' | 'both'
}

type Signal = 'kill' | 'term'

/** Between two submissions the client starts: a steady stream, not a flood. */
const WRITE_PACE_MS = 50
/** Submissions the client has unanswered at once: the pace goes on while earlier ones wait
 * (else the first write sent after the kill would queue behind those sent before it), and at
 * the pace above this covers three seconds without a coordinator. */
const WRITES_OUTSTANDING_MAX = 64
/** Before retrying a submission that failed (no coordinator yet, connection lost). */
const WRITE_RETRY_MS = 20
/** One attempt's wait for its answer; a longer one is sent again under the same id. */
const WRITE_ATTEMPT_TIMEOUT_MS = 5_000
/** Writing before the kill, drawn uniformly from this range so that the kill falls anywhere
 * between two heartbeats. */
const KILL_AFTER_MS_MIN = 300
const KILL_AFTER_MS_MAX = 700
/** A trial whose client sees no commit for this long has failed (and is reported so). */
const TRIAL_TIMEOUT_MS = 30_000
/** How long a restarted peer may take to catch up with the coordinator. */
const CATCH_UP_TIMEOUT_MS = 60_000
const POLL_MS = 50
/** Credits each voter's owner starts with: a noop job costs one. */
const JOIN_GRANT_CREDITS = 100_000

/** The cheapest submission that goes through the whole write path: nothing runs. */
const SPEC = { runtime: 'noop', code: '', cpus: 0.1, memoryMb: 16, timeoutS: 1 } as const

interface Trial {
  readonly signal: Signal
  readonly killed: number
  readonly client: number
  readonly newCoordinator: number | null
  readonly termBefore: number
  readonly termAfter: number
  /** The signal sent to the first commit seen of a write sent after it. */
  readonly failoverMs: number | null
  /** The signal sent to the client's peer naming a new coordinator (polled every POLL_MS). */
  readonly coordinatorSeenMs: number | null
  /** The signal sent to the process's exit seen by the parent. */
  readonly exitSeenMs: number
  /** Submissions sent after the kill before that first commit, retries included. */
  readonly attemptsAfterKill: number
}

export async function benchFailover(options: FailoverOptions): Promise<object> {
  const cluster = await MeshCluster.create({
    peers: 3,
    executors: true,
    extraArgs: ['--noop-executor', ...(options.startArgs ?? [])],
    // Enough for every trial's submissions, whoever's executor runs them.
    peerArgs: (index) => (index === 0 ? ['--join-grant', String(JOIN_GRANT_CREDITS)] : []),
  })
  const clients: RpcClient[] = []
  try {
    await cluster.startMesh(3)
    for (const peer of cluster.peers) {
      const client = new RpcClient({
        url: peer.daemon?.apiUrl ?? '',
        token: await cluster.apiToken(peer.index),
      })
      await client.connect()
      clients.push(client)
    }
    await waitForVoters(cluster, clients)
    const baseline = await steadyLatencies(cluster, clients)
    const trials: Trial[] = []
    const mode = options.signal ?? 'kill'
    const loadBefore = loadavg()
    for (let trial = 0; trial < options.trials; trial++) {
      const signal: Signal = mode === 'both' ? (trial % 2 === 0 ? 'kill' : 'term') : mode
      trials.push(await runTrial(cluster, clients, signal))
      await catchUp(cluster, clients, trials.at(-1)?.killed as number)
    }
    const load = { before: loadBefore, after: loadavg() }
    return { ...report(trials, baseline), load, startArgs: options.startArgs ?? [] }
  } finally {
    for (const client of clients) client.close()
    await cluster.stopAll()
  }
}

function figures(trials: readonly Trial[]) {
  const measured = trials.flatMap((trial) => (trial.failoverMs === null ? [] : [trial.failoverMs]))
  const sorted = [...measured].sort((a, b) => a - b)
  const round = (value: number) => Math.round(value * 10) / 10
  return {
    trials: trials.length,
    failed: trials.length - measured.length,
    failoverMs: {
      p50: round(percentile(sorted, 0.5)),
      p90: round(percentile(sorted, 0.9)),
      p99: round(percentile(sorted, 0.99)),
      max: round(sorted.at(-1) ?? 0),
      min: round(sorted[0] ?? 0),
    },
  }
}

function report(trials: readonly Trial[], baselineMs: readonly number[]): object {
  const bySignal = (signal: Signal) => trials.filter((trial) => trial.signal === signal)
  return {
    benchmark: 'failover',
    voters: 3,

    write: 'job.submit of a noop job on a voter that is not the coordinator',
    ...figures(trials),
    kill: figures(bySignal('kill')),
    term: figures(bySignal('term')),
    restartedPeerWon: trials.filter(
      (trial, i) => i > 0 && trial.newCoordinator === trials[i - 1]?.killed,
    ).length,
    baseline: {
      what: 'the same client’s submit latency with every voter up',
      ...summary(baselineMs),
    },
    raw: trials,
  }
}

function indexOf(cluster: MeshCluster, peerId: string | null): number | null {
  const peer = cluster.peers.find((candidate) => candidate.daemon?.peerId === peerId)
  return peer === undefined ? null : peer.index
}

async function info(client: RpcClient): Promise<MeshInfo> {
  return client.call('mesh.info', {}, { timeoutMs: WRITE_ATTEMPT_TIMEOUT_MS })
}

/** Polls `check` every POLL_MS until it returns a value, for at most `timeoutMs`. */
async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>) {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    if (performance.now() > deadline) throw new Error(`${what}: not so within ${timeoutMs} ms`)
    await sleep(POLL_MS)
  }
}

/** Waits until the coordinator reports three healthy voters, every one caught up. */
async function waitForVoters(cluster: MeshCluster, clients: readonly RpcClient[]) {
  return until('three healthy voters', CATCH_UP_TIMEOUT_MS, async () => {
    const seen = await info(clients[0] as RpcClient)
    const leader = indexOf(cluster, seen.coordinator)
    if (leader === null) return undefined
    const view = await info(clients[leader] as RpcClient)
    const voters = (view.members ?? []).filter((member) => member.role === 'voter')
    const healthy = voters.filter((member) => member.healthy)
    if (voters.length !== 3 || healthy.length !== 3) return undefined
    const commit = view.commitIndex ?? view.appliedIndex
    for (const client of clients) {
      if ((await info(client)).appliedIndex < commit) return undefined
    }
    return { leader, term: view.term }
  })
}

/** The coordinator's index and term, as a peer that is up sees them. */
async function coordinator(cluster: MeshCluster, clients: readonly RpcClient[]) {
  return until('a coordinator', CATCH_UP_TIMEOUT_MS, async () => {
    for (const peer of cluster.peers) {
      if (peer.daemon === null) continue
      const seen = await info(clients[peer.index] as RpcClient)
      const leader = indexOf(cluster, seen.coordinator)
      if (leader !== null) return { leader, term: seen.term }
    }
    return undefined
  })
}

/** Restarts the killed peer from its data dir and waits until it has caught up. */
async function catchUp(cluster: MeshCluster, clients: readonly RpcClient[], killed: number) {
  await cluster.start(killed)
  await waitForVoters(cluster, clients)
}

let sequence = 0

/** One submission, retried under its idempotency id until it is answered: resolves with the
 * time the client saw it committed and the attempts it took. */
async function write(client: RpcClient, stop: { stopped: boolean }) {
  const idempotencyId = `failover-${process.pid}-${++sequence}`
  let attempts = 0
  while (!stop.stopped) {
    attempts++
    try {
      await client.call(
        'job.submit',
        { idempotencyId, spec: SPEC },
        { timeoutMs: WRITE_ATTEMPT_TIMEOUT_MS },
      )
      return { committedAt: performance.now(), attempts }
    } catch {
      await sleep(WRITE_RETRY_MS)
    }
  }
  return { committedAt: null, attempts }
}

/** The client's submit latency with every voter up, a few seconds' worth. */
async function steadyLatencies(cluster: MeshCluster, clients: readonly RpcClient[]) {
  const { leader } = await coordinator(cluster, clients)
  const client = clients[(leader + 1) % clients.length] as RpcClient
  const latencies: number[] = []
  for (let i = 0; i < 40; i++) {
    const started = performance.now()
    const { committedAt } = await write(client, { stopped: false })
    latencies.push((committedAt as number) - started)
    await sleep(WRITE_PACE_MS)
  }
  return latencies
}

async function runTrial(
  cluster: MeshCluster,
  clients: readonly RpcClient[],
  signal: Signal,
): Promise<Trial> {
  const before = await coordinator(cluster, clients)
  const clientIndex = (before.leader + 1) % clients.length
  const client = clients[clientIndex] as RpcClient
  const stop = { stopped: false }
  let killedAt = Number.POSITIVE_INFINITY
  const seen = { firstCommitAfterKill: Number.POSITIVE_INFINITY, attemptsAfterKill: 0 }
  const outstanding = new Set<Promise<void>>()
  const { promise: committed, resolve: onCommitted } = Promise.withResolvers<void>()
  const writer = (async () => {
    while (!stop.stopped) {
      if (outstanding.size < WRITES_OUTSTANDING_MAX) {
        const sentAt = performance.now()
        const pending = write(client, stop).then(({ committedAt, attempts }) => {
          if (sentAt < killedAt) return
          seen.attemptsAfterKill += attempts
          if (committedAt === null) return
          seen.firstCommitAfterKill = Math.min(seen.firstCommitAfterKill, committedAt)
          onCommitted()
        })
        outstanding.add(pending)
        void pending.finally(() => outstanding.delete(pending))
      }
      await sleep(WRITE_PACE_MS)
    }
  })()
  await sleep(KILL_AFTER_MS_MIN + Math.random() * (KILL_AFTER_MS_MAX - KILL_AFTER_MS_MIN))
  const daemon = cluster.peers[before.leader]?.daemon
  killedAt = performance.now()
  const killing = signal === 'kill' ? cluster.kill(before.leader) : cluster.stop(before.leader)
  // Watched from the signal on: a stopping coordinator hands over before it exits.
  const seenCoordinator = watchCoordinator(client, cluster, before, stop)
  await daemon?.exited
  const exitSeenMs = performance.now() - killedAt
  await killing
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([
    committed,
    new Promise((resolve) => (timer = setTimeout(resolve, TRIAL_TIMEOUT_MS))),
  ])
  clearTimeout(timer)
  stop.stopped = true
  await writer
  await Promise.all(outstanding)
  const coordinatorSeenAt = await seenCoordinator
  const after = await coordinator(cluster, clients)
  return {
    signal,
    killed: before.leader,
    client: clientIndex,
    newCoordinator: after.leader,
    termBefore: before.term,
    termAfter: after.term,
    failoverMs: Number.isFinite(seen.firstCommitAfterKill)
      ? Math.round((seen.firstCommitAfterKill - killedAt) * 10) / 10
      : null,
    coordinatorSeenMs:
      coordinatorSeenAt === null ? null : Math.round((coordinatorSeenAt - killedAt) * 10) / 10,
    exitSeenMs: Math.round(exitSeenMs * 10) / 10,
    attemptsAfterKill: seen.attemptsAfterKill,
  }
}

/** When the client's peer first names a coordinator of a later term than `before`'s. */
async function watchCoordinator(
  client: RpcClient,
  cluster: MeshCluster,
  before: { readonly leader: number; readonly term: number },
  stop: { stopped: boolean },
): Promise<number | null> {
  while (!stop.stopped) {
    const seen = await info(client).catch(() => undefined)
    const leader = indexOf(cluster, seen?.coordinator ?? null)
    if (seen !== undefined && leader !== null && leader !== before.leader) {
      if (seen.term > before.term) return performance.now()
    }
    await sleep(POLL_MS / 5)
  }
  return null
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
