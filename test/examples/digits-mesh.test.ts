// The digits example as a user runs it (examples/digits/README.md), on a mesh of three real
// `gridx start` processes on loopback, each an executor on the real engine: make-data, the
// central baseline, then `gridx train` of train_numpy.py, 5 rounds on 4 shards. Every round's
// aggregate is checked against the samples-weighted mean of that round's shard outputs,
// computed here; the global model's test accuracy, computed here too, rises and ends within 2
// points of central's. Then train_torch.py runs 3 rounds on the python-torch image.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_POLICY, paramsSchemas, type ParentView } from '../../protocol/index.ts'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'
import { dockerProbe } from '../fixtures/docker.ts'
import { hasEngine } from '../fixtures/engine.ts'
import { decodeNpz, type NpArray } from '../fixtures/npz.ts'
import { fedAvg, maxDistance, type ShardWeights } from '../node/training/aggregate-math.ts'
import { metricsOf, parseDigitsCsv, softmaxAccuracy, type DigitsRows } from './digits-model.ts'

const EXAMPLE = new URL('../../examples/digits/', import.meta.url).pathname
const TRAINING_DONE_TIMEOUT_MS = 900_000
const JOB_DONE_TIMEOUT_MS = 180_000
const ROUNDS = 5
const SHARDS = 4
/** float64 in the aggregate and here; only the order of the additions differs. */
const TOLERANCE = 1e-9
/** The bound: the federated model ends within 2 points of the central one. */
const CENTRAL_GAP_MAX = 0.02
const hasTorch = !dockerProbe.missingRuntimes.includes('python-torch')
/** Training jobs are served by the API (a checkout from before them has no `gridx train`). */
const hasTraining = 'job.submit-training' in paramsSchemas

/** The grant the example's README names for the torch run, whose escrow is more than a new
 * peer's 100 credits: the mesh's creator sets it. */
const grant = (index: number) => (index === 0 ? ['--join-grant', '1000'] : [])
/** The limits examples/digits/README.md gives each run. */
const NUMPY_LIMITS = ['--cpus', '0.25', '--memory', '256', '--timeout', '30']
const TORCH_LIMITS = ['--cpus', '0.5', '--memory', '512', '--timeout', '45']

type Model = Record<string, NpArray>

describe.skipIf(!hasEngine || !hasTraining)('the digits example on a mesh', () => {
  let cluster: MeshCluster
  let work: string
  let test: DigitsRows
  let trainCsv: string

  /** Runs `gridx ARGS --json` on peer 0 and parses what it printed. */
  async function gridx<T>(args: readonly string[]): Promise<T> {
    const result = await cluster.cli(0, args)
    expect(result.code, `gridx ${args.join(' ')}: ${result.stderr}`).toBe(0)
    return JSON.parse(result.stdout) as T
  }

  /** Submits a job, waits for its end, and fetches its outputs into `dir`. */
  async function job(args: readonly string[], dir: string): Promise<string> {
    const { id } = (await gridx<{ job: { id: string } }>(['submit', ...args])).job
    const done = await cluster.waitFor<{ state: string; result: { stdoutTail: string } | null }>(
      0,
      ['status', id],
      (view) => !['queued', 'assigned', 'running'].includes(view.state),
      JOB_DONE_TIMEOUT_MS,
    )
    expect(done.state).toBe('succeeded')
    await gridx(['get', id, '-o', dir])
    return done.result!.stdoutTail
  }

  /** The outputs of one job of a training (a shard or an aggregate), fetched into `dir`. */
  async function outputsOf(jobId: string, dir: string): Promise<string> {
    await gridx(['get', jobId, '-o', dir])
    return dir
  }

  async function train(args: readonly string[]): Promise<ParentView> {
    const submitted = await gridx<{ parent: ParentView }>(['train', ...args])
    const parent = await cluster.waitFor<ParentView>(
      0,
      ['status', submitted.parent.id],
      (view) => view.state !== 'running',
      TRAINING_DONE_TIMEOUT_MS,
    )
    expect(parent.state, parent.reason ?? '').toBe('succeeded')
    return parent
  }

  beforeAll(async () => {
    cluster = await MeshCluster.create({ peers: 3, executors: true, peerArgs: grant })
    await cluster.startMesh(3)
    work = await mkdtemp(join(tmpdir(), 'gridx-digits-'))
    await job([join(EXAMPLE, 'make-data.py')], join(work, 'data'))
    trainCsv = join(work, 'data', 'train.csv')
    test = parseDigitsCsv(await readFile(join(work, 'data', 'test.csv'), 'utf8'))
  }, 300_000)

  afterAll(async () => {
    await cluster?.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
    await rm(work, { recursive: true, force: true })
  })

  it('should average each round by samples and end within 2 points of central', async () => {
    const centralOut = await job(
      [
        join(EXAMPLE, 'central.py'),
        '--input',
        trainCsv,
        '--input',
        join(EXAMPLE, 'train_numpy.py'),
      ],
      join(work, 'central'),
    )
    const centralModel = decodeNpz(await readFile(join(work, 'central', 'weights.npz')))
    const central = softmaxAccuracy(centralModel, test)
    expect(metricsOf(centralOut).accuracy).toBeCloseTo(central, 5)

    const parent = await train([
      join(EXAMPLE, 'train_numpy.py'),
      ...['--input', trainCsv, '--rounds', String(ROUNDS), '--shards', String(SHARDS)],
      ...NUMPY_LIMITS,
    ])
    // The README's claim: a new peer's grant covers the whole run's escrow at these limits.
    expect(parent.maxPriceMc).toBeLessThanOrEqual(DEFAULT_POLICY.joinGrantMc)
    const history = parent.training!.history
    expect(history.map((round) => round.state)).toEqual(Array(ROUNDS).fill('done'))
    const accuracies: number[] = []
    for (const round of history) {
      const shards: ShardWeights[] = []
      for (const shard of round.shards) {
        expect(shard.state).toBe('succeeded')
        const dir = await outputsOf(shard.job, join(work, `r${round.index}`, `s${shard.shard}`))
        const samples = JSON.parse(await readFile(join(dir, 'samples.json'), 'utf8')) as {
          samples: number
        }
        const weights: Model = decodeNpz(await readFile(join(dir, 'weights.npz')))
        shards.push({ index: shard.shard, samples: samples.samples, weights })
      }
      const dir = await outputsOf(round.aggregateJob!, join(work, `r${round.index}`, 'aggregate'))
      const global = decodeNpz(await readFile(join(dir, 'global', 'weights.npz')))
      expect(maxDistance(global, fedAvg(shards))).toBeLessThan(TOLERANCE)
      expect(shards.reduce((sum, shard) => sum + shard.samples, 0)).toBe(
        parseDigitsCsv(await readFile(trainCsv, 'utf8')).labels.length,
      )
      accuracies.push(softmaxAccuracy(global, test))
      expect(round.metrics.accuracy).toBeGreaterThan(0)
    }
    // The final model is the last round's aggregate, and gridx get fetches it.
    await gridx(['get', parent.id, '-o', join(work, 'model')])
    const model = decodeNpz(await readFile(join(work, 'model', 'weights.npz')))
    expect(softmaxAccuracy(model, test)).toBe(accuracies.at(-1))
    console.info(
      `digits on a 3-peer mesh: accuracy per round ${accuracies.map((a) => a.toFixed(4))}, ` +
        `central ${central.toFixed(4)}`,
    )
    expect(accuracies.at(-1)!).toBeGreaterThan(accuracies[0]!)
    expect(Math.abs(accuracies.at(-1)! - central)).toBeLessThanOrEqual(CENTRAL_GAP_MAX)
  }, 1_200_000)

  it.skipIf(!hasTorch)(
    'should train the torch MLP for 3 rounds on the torch image',
    async () => {
      const parent = await train([
        join(EXAMPLE, 'train_torch.py'),
        ...['--input', trainCsv, '--rounds', '3', '--shards', String(SHARDS)],
        ...['--runtime', 'python-torch', ...TORCH_LIMITS],
      ])
      const history = parent.training!.history
      expect(history.map((round) => round.state)).toEqual(['done', 'done', 'done'])
      expect(history.map((round) => round.global?.map((file) => file.name))).toEqual(
        Array(3).fill(['global/weights.pt']),
      )
      await gridx(['get', parent.id, '-o', join(work, 'torch-model')])
      const out = await job(
        [
          join(EXAMPLE, 'evaluate.py'),
          ...['--runtime', 'python-torch', '--memory', '1024'],
          ...['--input', join(work, 'torch-model', 'weights.pt')],
          ...['--input', join(work, 'data', 'test.csv')],
        ],
        join(work, 'torch-evaluation'),
      )
      const accuracy = metricsOf(out).accuracy!
      const perRound = history.map((round) => round.metrics.accuracy!)
      console.info(
        `torch MLP on a 3-peer mesh: shards' accuracy per round ${perRound}, ` +
          `final model ${accuracy}`,
      )
      expect(perRound.at(-1)!).toBeGreaterThan(perRound[0]!)
      expect(accuracy).toBeGreaterThan(0.9)
    },
    1_200_000,
  )
})
