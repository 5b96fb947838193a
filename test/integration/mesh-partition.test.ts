// A partition of a running mesh (issue 9, "Proof"): three in-process daemons, each a voter on
// real libp2p on loopback and real LevelDB, each with the Docker executor (and noop). The
// coordinator is cut off from the majority while its executor runs a job: it stops being the
// coordinator, what its executor reports after the cut changes nothing the majority commits,
// the majority elects a coordinator and goes on committing, and once healed the old one
// catches up and every replica holds the same state at the same applied index.
import { afterEach, describe, expect, it } from 'vitest'
import { encodeState, ledgerViolations } from '../../ledger/index.ts'
import { DockerExecutor, withNoopRuntime } from '../../node/executor/index.ts'
import { MeshPartition } from '../../node/mesh/index.ts'
import type { MeshInfo } from '../../protocol/index.ts'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'

/** Bound on each wait: a loaded 2-core machine shared by several test runs. */
const WAIT_MS = 60_000
/** The job straddles the cut: it runs on for this long once the coordinator is cut off. */
const JOB_SLEEP_S = 6

const daemons: TestDaemon[] = []
afterEach(async () => {
  for (const daemon of daemons.splice(0).reverse()) await daemon.destroy()
})

interface Peer {
  readonly node: TestDaemon
  readonly partition: MeshPartition
  readonly id: string
}

/** Docker with the noop runtime beside it, so that the test can tell runs apart. */
function executor(peerId: string): { runner: ReturnType<typeof withNoopRuntime> } {
  return { runner: withNoopRuntime(new DockerExecutor({ executorId: peerId })) }
}

function p2pAddress(daemon: TestDaemon): string {
  const tcp = daemon.daemon.p2pAddresses.find((address) => !address.includes('/ws'))
  const match = /\/ip4\/([^/]+)\/tcp\/(\d+)/.exec(tcp ?? '')
  if (match === null) throw new Error(`no TCP address in ${daemon.daemon.p2pAddresses.join(' ')}`)
  return `${match[1]}:${match[2]}`
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what}: not so within ${WAIT_MS} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function start(
  options: Parameters<typeof startTestDaemon>[0],
  partition = new MeshPartition(),
): Promise<Peer> {
  const node = await startTestDaemon({ ...options, partition })
  daemons.push(node)
  return { node, partition, id: node.daemon.peerId }
}

type Runner = ReturnType<typeof withNoopRuntime>

/** A founder and two voter-token joiners; `runner` is the founder's executor. */
async function threeVoters(): Promise<{ a: Peer; b: Peer; c: Peer; runner: Runner }> {
  let runner: Runner | undefined
  const a = await start({ createExecutor: (peerId) => (runner = executor(peerId).runner) })
  const joiner = async () => {
    const { token } = await a.node.call('mesh.token', { role: 'voter' })
    const createExecutor = (peerId: string) => executor(peerId).runner
    return start({ createExecutor, join: { address: p2pAddress(a.node), token } })
  }
  const b = await joiner()
  const c = await joiner()
  // The autopilot promotes each voter-token learner once it has been stable for a while.
  await until('three voters', async () => {
    const info = await a.node.call('mesh.info', {})
    const voters = info.members?.filter((member) => member.role === 'voter') ?? []
    return voters.length === 3 && info.coordinator === a.id ? info : undefined
  })
  return { a, b, c, runner: runner as Runner }
}

/** Cuts `side` off from `others`, at both ends, as a broken switch would. */
async function cut(side: Peer, others: readonly Peer[]): Promise<void> {
  await Promise.all([
    side.partition.cut(others.map((peer) => peer.id)),
    ...others.map((peer) => peer.partition.cut([side.id])),
  ])
}

function heal(peers: readonly Peer[]): void {
  for (const peer of peers) peer.partition.heal()
}

const info = (peer: Peer): Promise<MeshInfo> => peer.node.call('mesh.info', {})

describe('a partitioned mesh', () => {
  it('should fence out the cut coordinator and agree again when the cut heals', async () => {
    const { a, b, c, runner } = await threeVoters()
    const code = `sleep ${JOB_SLEEP_S}; echo ran`
    // Executors tie on free CPUs; the coordinator's own, added first, takes the job.
    const { job } = await a.node.call('job.submit', {
      idempotencyId: 'straddles-the-cut',
      spec: { runtime: 'bash', code, timeoutS: 120 },
    })
    const running = await until('the job running on the coordinator', async () => {
      const now = await a.node.call('job.get', { id: job.id })
      return now.state === 'running' ? now : undefined
    })
    expect(running.executor).toBe(a.id)

    const cutAtMs = Date.now()
    await cut(a, [b, c])
    // With its connections closed no acknowledgement reaches it: it commits nothing more.
    const commitAtCut = (await info(a)).commitIndex
    const steppedDown = await until('the cut coordinator stepping down', async () => {
      const now = await info(a)
      return now.coordinator !== a.id ? now : undefined
    })
    const stepDownMs = Date.now() - cutAtMs
    // A write on the cut-off peer waits for a coordinator, bounded, and is refused.
    const refused = a.node.call('mesh.token', { role: 'executor', rotate: true }).then(
      () => 'acknowledged',
      (error: unknown) => String(error),
    )

    const elected = await until('a coordinator in the majority', async () => {
      const now = await info(b)
      return now.coordinator === b.id || now.coordinator === c.id ? now : undefined
    })
    const electedMs = Date.now() - cutAtMs
    expect(await refused).toMatch(/UNAVAILABLE|coordinator/)
    // A client on the majority goes on writing: a job runs and settles there.
    const { job: noop } = await b.node.call('job.submit', {
      idempotencyId: 'majority-writes',
      spec: { runtime: 'noop', code: 'x' },
    })
    expect((await b.node.waitForJob(noop.id, WAIT_MS)).state).toBe('succeeded')
    // The new coordinator declares the cut-off executor's job lost and runs it again (the job
    // is A's owner's, so the majority's replicas are read directly).
    const retried = await until('the retry settling in the majority', async () => {
      const now = b.node.daemon.ledgerState().jobs.get(job.id)
      return now?.state === 'succeeded' ? { ...now } : undefined
    })
    expect(retried.attempts).toBe(2)
    expect([b.id, c.id]).toContain(retried.executor)
    // The cut-off run ends too; whatever it reports, the majority's job stays the retry's.
    await until('the cut-off run ending', async () =>
      runner.status().load.runningJobs === 0 ? true : undefined,
    )
    expect(steppedDown.commitIndex).toBe(commitAtCut)
    expect((await info(a)).commitIndex).toBe(commitAtCut)

    const majorityIndex = b.node.daemon.ledgerState().appliedIndex

    heal([a, b, c])
    const replicas = [a, b, c]
    // Same encoded state means same applied index too: it is part of the state.
    const agreed = await until('every replica at one index with one state', async () => {
      const states = replicas.map((peer) => peer.node.daemon.ledgerState())
      const encoded = states.map((state) => encodeState(state))
      const caughtUp = (states[0]?.appliedIndex ?? 0) >= majorityIndex
      return caughtUp && encoded.every((text) => text === encoded[0]) ? states[0] : undefined
    })
    // And through the API: each replica reports the same hash at the same applied index.
    const views = await until('one state hash on every replica', async () => {
      const now = await Promise.all(replicas.map((peer) => peer.node.call('mesh.state', {})))
      const same = now.every((view) => view.stateHash === now[0]?.stateHash)
      return same ? now : undefined
    })
    expect(new Set(views.map((view) => view.appliedIndex)).size).toBe(1)
    expect(views.flatMap((view) => view.ledgerViolations)).toEqual([])
    const final = agreed.jobs.get(job.id)
    expect(final).toMatchObject({ state: 'succeeded', attempts: 2, executor: retried.executor })
    expect(final?.events.map((event) => event.state)).toEqual([
      'queued',
      'assigned',
      'running',
      'lost',
      'queued',
      'assigned',
      'running',
      'succeeded',
    ])
    expect(ledgerViolations(agreed)).toEqual([])
    expect((await info(a)).coordinator).toBe(elected.coordinator)
    console.info(
      JSON.stringify({ figure: 'partition', stepDownMs, electedMs, refused: await refused }),
    )
  }, 240_000)
})
