// A training job on a mesh of real `gridx start` processes on loopback, executors on the real
// engine: 3 shards, 2 rounds, the shipped aggregate.py averaging their one-weight models. In
// round 1 shard 2 sleeps past --round-timeout: it is cut off (cancelled, its container killed,
// not paid) and the round closes with the two others; round 2's shards start from round 1's
// global model; `gridx get` fetches the final one; and the submitter's balance is its grant
// less what its children were charged, every escrow released.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_POLICY } from '../../protocol/index.ts'
import type { JobView, ParentView } from '../../protocol/index.ts'
import { hasEngine } from '../fixtures/engine.ts'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'

const run = promisify(execFile)
const TRAINING_DONE_TIMEOUT_MS = 300_000
const TRAIN_PY = new URL('../fixtures/training/train-mean.py', import.meta.url).pathname
const ROUND_TIMEOUT_S = 45
const SHARDS = 3
const STRAGGLER = 2

/** The containers of `jobId` running on this host's engine. */
async function containersOf(jobId: string): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-q', '--filter', `label=gridx.job=${jobId}`])
  return stdout.split('\n').filter((id) => id !== '')
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length

describe.skipIf(!hasEngine)('a training job on a mesh', () => {
  let cluster: MeshCluster
  let work: string

  beforeAll(async () => {
    // Peer 0 runs no executor: its owner submits and is paid nothing, so its balance shows
    // exactly what the training cost.
    cluster = await MeshCluster.create({ peers: 3, executors: (index) => index !== 0 })
    await cluster.startMesh(1)
    work = await mkdtemp(join(tmpdir(), 'gridx-training-'))
  }, 180_000)

  afterAll(async () => {
    await cluster?.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
    await rm(work, { recursive: true, force: true })
  })

  it('should cut the straggler unpaid, carry each global model on and balance out', async () => {
    const ys = Array.from({ length: 30 }, (_, at) => (at * 7) % 11)
    const csv = `x,y\n${ys.map((y, at) => `${at},${y}`).join('\n')}\n`
    await writeFile(join(work, 'data.csv'), csv)
    const shardYs = [ys.slice(0, 10), ys.slice(10, 20), ys.slice(20, 30)]
    // Round 1 without the straggler: the samples-weighted mean of shards 0 and 1 (10 rows each).
    const global1 = (mean(shardYs[0]!) + mean(shardYs[1]!)) / 2
    const global2 = global1 + mean(ys)

    const submitted = await cluster.cli(0, [
      'train',
      TRAIN_PY,
      ...['--input', join(work, 'data.csv'), '--rounds', '2', '--shards', String(SHARDS)],
      ...['--min-shards', '2', '--round-timeout', String(ROUND_TIMEOUT_S)],
      ...['--cpus', '0.3', '--memory', '128', '--timeout', '90', '--env', 'STRAGGLER=1'],
    ])
    expect(submitted.code, submitted.stderr).toBe(0)
    const { id } = (JSON.parse(submitted.stdout) as { parent: ParentView }).parent

    const parent = await cluster.waitFor<ParentView>(
      0,
      ['status', id],
      (view) => view.state !== 'running',
      TRAINING_DONE_TIMEOUT_MS,
    )
    expect(parent.state, parent.reason ?? '').toBe('succeeded')
    const training = parent.training!
    const [first, second] = training.history
    expect(training.history.map((round) => round.state)).toEqual(['done', 'done'])

    // Round 1 closed at its deadline: the straggler cut, the others in.
    expect(first!.shards.map((shard) => shard.cut)).toEqual([false, false, true])
    expect(first!.closedAt! - first!.openedAt).toBeGreaterThanOrEqual(ROUND_TIMEOUT_S * 1000)
    expect(first!.metrics.received).toBe(0)
    const straggler = first!.shards[STRAGGLER]!
    expect((await containersOf(straggler.job)).length).toBe(0)

    // Round 2 started from round 1's global model, and all its shards made it.
    expect(second!.shards.every((shard) => !shard.cut && shard.state === 'succeeded')).toBe(true)
    expect(second!.metrics.received).toBeCloseTo(global1, 9)

    // gridx get fetches the final model, which the test reads with numpy on this host.
    const got = await cluster.cli(0, ['get', id, '-o', join(work, 'model')])
    expect(got.code, got.stderr).toBe(0)
    expect(training.model?.map((file) => file.name)).toEqual(['global/weights.npz'])
    const read = await run('python3', [
      '-c',
      'import sys, numpy; print(float(numpy.load(sys.argv[1])["w"][0]))',
      join(work, 'model', 'weights.npz'),
    ])
    expect(Number(read.stdout)).toBeCloseTo(global2, 9)

    // Credits: each child settled on its own; the cut straggler charged nothing; the parent's
    // reservation refunded: the submitter holds its grant less the children's prices.
    const ids = [
      ...parent.shards.flatMap((shard) => shard.jobs),
      ...training.history.map((round) => round.aggregateJob!),
    ]
    const children = await Promise.all(
      ids.map(async (jobId) => cluster.rpc(0, 'job.get', { id: jobId }) as Promise<JobView>),
    )
    const cut = children.find((job) => job.id === straggler.job)!
    expect(cut).toMatchObject({ state: 'cancelled', priceMc: 0, executorPaidMc: 0 })
    const charged = children.reduce((sum, job) => sum + (job.priceMc ?? 0), 0)
    expect(charged).toBe(parent.costMc)
    const balance = await cluster.rpc(0, 'account.balance', {})
    expect(balance.escrowedMc).toBe(0)
    expect(balance.balanceMc).toBe(DEFAULT_POLICY.joinGrantMc - charged)
    const state = await cluster.rpc(0, 'mesh.state', {})
    expect(state.ledgerViolations).toEqual([])
  }, 420_000)

  it('should follow a training to its end and exit 0 when --follow is given', async () => {
    await writeFile(join(work, 'small.csv'), 'x,y\n0,1\n1,3\n2,5\n3,7\n')
    const followed = await cluster.cli(0, [
      'train',
      TRAIN_PY,
      ...['--input', join(work, 'small.csv'), '--rounds', '1', '--shards', '2'],
      ...['--aggregate', 'median', '--cpus', '0.3', '--memory', '128', '--timeout', '60'],
      '--follow',
    ])
    expect(followed.code, followed.stderr).toBe(0)
    const parent = JSON.parse(followed.stdout) as ParentView
    expect(parent).toMatchObject({ state: 'succeeded', training: { aggregate: 'median' } })
    // Shard 0 has y 1 and 3 (mean 2, loss 1), shard 1 has 5 and 7 (mean 6, loss 1).
    expect(parent.training?.history[0]?.metrics).toEqual({ received: 0, loss: 1 })
  }, 300_000)
})
