// Issue 9's chaos scenario on real `gridx start` processes: 5 peers (3 voters, every peer an
// executor on the real engine), a client on the two executor-only peers, and every few seconds
// `kill -9` of the coordinator (and at random of another voter), each restarted from its data
// dir. Then a quiet period and the checks of chaos-checks.ts. The seed fixes the schedule of
// kills, restarts and the job mix; the machine's timing does the rest, so a replay sees the
// same plan, not the same interleaving.
import { rm } from 'node:fs/promises'
import { raft } from '../../ledger/index.ts'
import { ChaosClient } from './chaos-client.ts'
import type { ChaosClientCounts } from './chaos-client.ts'
import {
  checkContainerRuns,
  checkJobs,
  checkLedger,
  checkReplicas,
  jobsByState,
  waitForFinalJobs,
} from './chaos-checks.ts'
import { Killer } from './chaos-killer.ts'
import { ContainerRuns } from './container-runs.ts'
import type { ContainerRun } from './container-runs.ts'
import { MeshCluster } from './mesh-cluster.ts'

const PEERS = 5
/** Peers 0-2 are the voters (and executors) and the ones killed; 3 and 4 joined with executor
 * tokens, so autopilot never makes them voters (and coordinator): the client sits there. */
const VOTERS = [0, 1, 2] as const
const CLIENT_PEERS = [3, 4] as const
/** Quiet period bounds: every job must end within its timeout plus a lease, a grace period
 * and retries on a loaded machine; the replicas must then line up at one index. */
const FINAL_JOBS_TIMEOUT_MS = 180_000
const REPLICAS_TIMEOUT_MS = 60_000
/** Each job costs the policy's minimum (1,000 mc). The clients get back 80 % of what their own
 * two executors run, but how much that is depends on the kills: in a 20-minute run, pacing for
 * 700 mc a job left the clients holding back a quarter of their ticks for funds by the end. So
 * the budget counts the whole price. */
const JOB_DRAIN_MC = 1_000
/** The steadiest rate the clients keep, whatever their funds: one submission a second. */
const SUBMIT_EVERY_MS_MIN = 1_000
const BALANCE_EVERY_MS = 500

export interface ChaosOptions {
  readonly durationMs: number
  readonly seed: number
  /** Where the data dirs and logs go; a new temporary directory by default. */
  readonly root?: string
  /** Keep the data dirs and logs when the run passes too (they are kept when it fails). */
  readonly keepRoot?: boolean
  /** Override of the submission interval (by default the clients' funds last the run). */
  readonly submitEveryMs?: number
  readonly log?: (line: string) => void
}

export interface ChaosCounts {
  readonly client: ChaosClientCounts
  readonly jobsByState: Record<string, number>
  readonly kills: number
  readonly coordinatorKills: number
  readonly restarts: number
  /** Raft terms the client's peer saw go by: an upper bound on elections held. */
  readonly terms: number
  readonly containerRuns: number
  /** Jobs whose code ran to exit 0 under two assignments. */
  readonly jobsCompletedTwice: number
  /** Of those, the ones where a run's own executor was not killed around it (KILL_SLACK_MS)
   * (a kill -9 leaves the container running as an orphan while the job is retried, which is
   * expected): what is left is a report that a live executor's run did not get through. */
  readonly jobsCompletedTwiceOnLiveExecutors: number
}

export interface ChaosReport {
  readonly seed: number
  readonly durationMs: number
  readonly root: string
  readonly submitEveryMs: number
  readonly counts: ChaosCounts
  readonly agreedAt: { readonly appliedIndex: number; readonly stateHash: string } | null
  /** The jobs counted in jobsCompletedTwice, with the executors of their containers. */
  readonly completedTwice: readonly string[]
  readonly violations: readonly string[]
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined)
  const cluster = await MeshCluster.create({
    peers: PEERS,
    executors: true,
    ...(options.root === undefined ? {} : { root: options.root }),
  })
  log(`seed ${options.seed}, ${options.durationMs} ms, peers in ${cluster.root}`)
  const violations: string[] = []
  let runs: ContainerRuns | null = null
  let passed = false
  try {
    await startMesh(cluster, log)
    runs = await ContainerRuns.watch(cluster.peers.map((peer) => cluster.peerIdOf(peer.index)!))
    const report = await chaosPhases(cluster, runs, options, violations, log)
    passed = violations.length === 0
    return report
  } finally {
    runs?.stop()
    await cluster.stopAll()
    // A failed or broken run keeps its data dirs and logs for whoever reads the report.
    if (passed && options.keepRoot !== true && options.root === undefined) {
      await rm(cluster.root, { recursive: true, force: true })
    }
  }
}

async function startMesh(cluster: MeshCluster, log: (line: string) => void): Promise<void> {
  await cluster.startMesh(3)
  await cluster.waitFor<{ members?: readonly { role: string }[] }>(0, ['mesh'], (info) => {
    const members = info.members ?? []
    return members.length === PEERS && members.filter((m) => m.role === 'voter').length === 3
  })
  log('mesh up: 3 voters, 5 executors')
}

async function chaosPhases(
  cluster: MeshCluster,
  runs: ContainerRuns,
  options: ChaosOptions,
  violations: string[],
  log: (line: string) => void,
): Promise<ChaosReport> {
  const startInfo = await cluster.rpc(CLIENT_PEERS[0], 'mesh.info', {})
  const funds = await Promise.all(
    CLIENT_PEERS.map((peer) => cluster.rpc(peer, 'account.balance', {})),
  )
  const budget = funds.reduce((sum, balance) => sum + balance.availableMc, 0) / JOB_DRAIN_MC
  const submitEveryMs =
    options.submitEveryMs ?? Math.max(SUBMIT_EVERY_MS_MIN, Math.ceil(options.durationMs / budget))
  const client = new ChaosClient({
    cluster,
    peers: CLIENT_PEERS,
    seed: options.seed,
    submitEveryMs,
    balanceEveryMs: BALANCE_EVERY_MS,
    runId: `chaos-${options.seed}`,
    onUnexpected: (what) => violations.push(what),
  })
  log(`client on peers ${CLIENT_PEERS.join(', ')}: a submission every ${submitEveryMs} ms`)
  client.start()
  const killer = new Killer({
    cluster,
    voters: VOTERS,
    observer: CLIENT_PEERS[0],
    random: new raft.SeededRandom(options.seed ^ 0x9e3779b9),
    log,
  })
  const maxTerm = await killer.run(options.durationMs, violations)
  log('chaos over: the client drains its retries, every peer comes back')
  await client.stop()
  await killer.settle(violations)

  const listed = await waitForFinalJobs(cluster, CLIENT_PEERS, FINAL_JOBS_TIMEOUT_MS)
  violations.push(...checkJobs(client.submissions, listed))
  const jobs = [...listed.values()].flat()
  violations.push(...(await checkLedger(cluster, jobs, startInfo.policy.joinGrantMc)))
  const replicas = await checkReplicas(cluster, REPLICAS_TIMEOUT_MS)
  violations.push(...replicas.violations)
  violations.push(...checkContainerRuns(runs))
  const endInfo = await cluster.rpc(CLIENT_PEERS[0], 'mesh.info', {})
  const twice = [...runs.jobsCompletedTwice()].map(([jobId, completed]) =>
    describeRuns(cluster, killer, jobId, completed),
  )
  return {
    seed: options.seed,
    durationMs: options.durationMs,
    root: cluster.root,
    submitEveryMs,
    counts: {
      client: client.counts,
      jobsByState: jobsByState(listed),
      kills: killer.kills,
      coordinatorKills: killer.coordinatorKills,
      restarts: killer.restarts,
      terms: Math.max(maxTerm, endInfo.term) - startInfo.term,
      containerRuns: runs.runs.size,
      jobsCompletedTwice: twice.length,
      jobsCompletedTwiceOnLiveExecutors: twice.filter((job) => job.live > 0).length,
    },
    agreedAt: replicas.agreedAt,
    completedTwice: twice.map((job) => job.line),
    violations,
  }
}

/** A kill this close around a run explains it: after its container exits an executor needs a
 * moment to report it, and a daemon killed just after it asked the engine to start one leaves
 * it starting as an orphan (the engine's event comes after the kill). Generous: the machine is
 * loaded. */
const KILL_SLACK_MS = 5_000

/** One line per job run to its end twice, each run marked with whether its executor was
 * killed around it (KILL_SLACK_MS), and how many runs are not explained by such a kill. */
function describeRuns(
  cluster: MeshCluster,
  killer: Killer,
  jobId: string,
  completed: readonly ContainerRun[],
): { line: string; live: number } {
  let live = 0
  const where = completed.map((run) => {
    const peer = cluster.indexOf(run.executor)
    const kills = peer === null ? [] : (killer.killedAt.get(peer) ?? [])
    const end = (run.diedAt ?? Date.now()) + KILL_SLACK_MS
    const killed = kills.some((at) => at >= run.startedAt - KILL_SLACK_MS && at <= end)
    if (!killed) live++
    return `peer ${peer} fence ${run.fence}${killed ? ' (its peer killed)' : ''}`
  })
  // One run's report is the one the job settled on: it needs no kill to explain it.
  return { line: `${jobId}: ${where.join('; ')}`, live: Math.max(0, live - 1) }
}
