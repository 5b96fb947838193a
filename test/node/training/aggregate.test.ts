// node/training/aggregate.py run as the executor runs a job (the real python image, no network,
// read-only root, inputs/ from a real blob store), on shard weights this test writes: each
// rule's output against the same rule computed here, a poisoned shard against the robust rules,
// and every input the script must refuse.
import { readFile } from 'node:fs/promises'
import type Docker from 'dockerode'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeWithDocker } from '../../fixtures/docker.ts'
import { type FileJobOutcome, type FileJobRunner, fileJobRunner } from '../../fixtures/file-jobs.ts'
import { decodeNpz, encodeNpz, npArray } from '../../fixtures/npz.ts'
import {
  fedAvg,
  mapWeights,
  maxDistance,
  median,
  randomWeights,
  seededRandom,
  type ShardWeights,
  trimmedMean,
  type Weights,
} from './aggregate-math.ts'

const AGGREGATE_CODE = await readFile(
  new URL('../../../node/training/aggregate.py', import.meta.url),
  'utf8',
)
/** float64 throughout: only the order of additions differs from the sums done here. */
const TOLERANCE = 1e-12

function shardFiles(shards: readonly ShardWeights[]): Record<string, Buffer> {
  const files: Record<string, Buffer> = {}
  for (const shard of shards) {
    files[`${shard.index}/weights.npz`] = encodeNpz(shard.weights)
    files[`${shard.index}/samples.json`] = Buffer.from(JSON.stringify({ samples: shard.samples }))
  }
  return files
}

function expectClose(actual: Weights, expected: Weights): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort())
  for (const [name, array] of Object.entries(expected)) {
    expect(actual[name]!.shape).toEqual(array.shape)
    expect(actual[name]!.descr).toBe(array.descr)
  }
  expect(maxDistance(actual, expected)).toBeLessThan(TOLERANCE)
}

function globalWeights(outcome: FileJobOutcome): Weights {
  expect(outcome.state, outcome.result.stderrTail).toBe('succeeded')
  return decodeNpz(outcome.files.get('global/weights.npz')!)
}

function expectRefused(outcome: FileJobOutcome, message: RegExp): void {
  expect(outcome.state).toBe('failed')
  expect(outcome.result.exitCode).toBe(2)
  expect(outcome.result.stderrTail).toMatch(message)
  expect([...outcome.files.keys()]).toEqual([])
}

describeWithDocker(
  'the training aggregate in the python runtime',
  (docker: Docker) => {
    let runner: FileJobRunner
    const random = seededRandom(10)
    const shards: ShardWeights[] = [120, 80, 200, 47].map((samples, index) => ({
      index,
      samples,
      weights: randomWeights(random),
    }))

    beforeAll(async () => {
      runner = await fileJobRunner(docker, 'aggregate')
    })

    afterAll(async () => {
      await runner.stop()
    })

    const aggregate = (inputs: Record<string, Buffer>, env: Record<string, string> = {}) =>
      runner.run({ runtime: 'python', code: AGGREGATE_CODE, env, memoryMb: 256 }, inputs)

    describe.concurrent('each rule', () => {
      it('should weight each shard by its samples when the rule is fedavg', async () => {
        const outcome = await aggregate(shardFiles(shards), {
          GRIDX_AGGREGATE: 'fedavg',
          GRIDX_ROUND: '3',
        })
        expectClose(globalWeights(outcome), fedAvg(shards))
        const summary = JSON.parse(outcome.files.get('aggregate.json')!.toString('utf8'))
        expect(summary).toEqual({ rule: 'fedavg', round: 3, shards: [0, 1, 2, 3], samples: 447 })
      })

      it('should keep the round metrics it is given as outputs/metrics.json', async () => {
        const metrics = { accuracy: 0.9311, loss: 0.25 }
        const outcome = await aggregate(shardFiles(shards), {
          GRIDX_ROUND: '2',
          GRIDX_ROUND_METRICS: JSON.stringify(metrics),
        })
        expect(outcome.state, outcome.result.stderrTail).toBe('succeeded')
        const kept = JSON.parse(outcome.files.get('metrics.json')!.toString('utf8'))
        expect(kept).toEqual({ round: 2, metrics })
      })

      it('should write no metrics.json when no round metrics are given', async () => {
        const outcome = await aggregate(shardFiles(shards))
        expect(outcome.files.has('metrics.json')).toBe(false)
      })

      it('should average by samples when no rule is named', async () => {
        const outcome = await aggregate(shardFiles(shards))
        expectClose(globalWeights(outcome), fedAvg(shards))
      })

      it('should take the coordinate-wise median when the rule is median', async () => {
        const outcome = await aggregate(shardFiles(shards), { GRIDX_AGGREGATE: 'median' })
        const expected = median(shards)
        expectClose(globalWeights(outcome), expected)
        // Four shards: the mean of the middle two, which no shard's own value equals.
        expect(maxDistance(expected, fedAvg(shards))).toBeGreaterThan(0.01)
      })

      it('should drop floor(trim * k) values each side when the rule is trimmed-mean', async () => {
        const five = [...shards, { index: 7, samples: 10, weights: randomWeights(random) }]
        const outcome = await aggregate(shardFiles(five), {
          GRIDX_AGGREGATE: 'trimmed-mean',
          GRIDX_TRIM_FRACTION: '0.25',
          GRIDX_ROUND: '1',
        })
        expectClose(globalWeights(outcome), trimmedMean(five, 0.25))
        const summary = JSON.parse(outcome.files.get('aggregate.json')!.toString('utf8'))
        expect(summary).toEqual({
          rule: 'trimmed-mean',
          round: 1,
          shards: [0, 1, 2, 3, 7],
          samples: 457,
        })
      })

      it('should trim a fifth each side when no trim fraction is given', async () => {
        const five = [...shards, { index: 4, samples: 10, weights: randomWeights(random) }]
        const outcome = await aggregate(shardFiles(five), { GRIDX_AGGREGATE: 'trimmed-mean' })
        const expected = trimmedMean(five, 0.2)
        expectClose(globalWeights(outcome), expected)
        expect(maxDistance(expected, trimmedMean(five, 0))).toBeGreaterThan(0.01)
      })

      it('should keep float32 and the shards that made the round when some were cut', async () => {
        const narrow = shards
          .filter((shard) => shard.index !== 1)
          .map((shard) => ({
            ...shard,
            weights: { layer: npArray([2, 2], [shard.index, 1, 2, 3], '<f4') },
          }))
        const outcome = await aggregate(shardFiles(narrow))
        const result = globalWeights(outcome)
        expect(result.layer!.descr).toBe('<f4')
        // (0*120 + 2*200 + 3*47) / 367 in float32.
        expect(result.layer!.data[0]).toBeCloseTo(541 / 367, 6)
        const summary = JSON.parse(outcome.files.get('aggregate.json')!.toString('utf8'))
        expect(summary.shards).toEqual([0, 2, 3])
      })
    })

    describe.concurrent('a poisoned shard (its weights x 1000)', () => {
      // Honest shards: one true model plus noise of at most NOISE per coordinate; the true
      // values are 0.5 to 1.5 away from zero, so x1000 moves a value by at least 499.
      const NOISE = 0.01
      const noise = seededRandom(77)
      const truth = mapWeights(randomWeights(noise, 0.5, 1.5), (value) =>
        noise() < 0.5 ? -value : value,
      )
      const honest: ShardWeights[] = [100, 100, 100, 100].map((samples, index) => ({
        index,
        samples,
        weights: mapWeights(truth, (value) => value + (noise() * 2 - 1) * NOISE),
      }))
      const poisoned = honest.map((shard) =>
        shard.index === 2
          ? { ...shard, weights: mapWeights(shard.weights, (v) => v * 1000) }
          : shard,
      )
      // Stated bound: with one of four shards poisoned, a robust rule's value per coordinate
      // stays between the honest shards' values, all within NOISE of the truth; so it moves
      // from the clean aggregate by at most 2 * NOISE.
      const BOUND = 2 * NOISE

      it.each([
        ['median', {}],
        ['trimmed-mean', { GRIDX_TRIM_FRACTION: '0.25' }],
      ])('should move %s by less than the bound while fedavg is wrecked', async (rule, env) => {
        const ruleEnv = { GRIDX_AGGREGATE: rule, ...env }
        const [clean, attacked, plain] = await Promise.all([
          aggregate(shardFiles(honest), ruleEnv),
          aggregate(shardFiles(poisoned), ruleEnv),
          aggregate(shardFiles(poisoned), { GRIDX_AGGREGATE: 'fedavg' }),
        ])
        const moved = maxDistance(globalWeights(attacked), globalWeights(clean))
        expect(moved).toBeLessThan(BOUND)
        expect(maxDistance(globalWeights(attacked), truth)).toBeLessThan(2 * NOISE)
        // FedAvg with a quarter of the samples poisoned: at least 999 * 0.5 / 4 off.
        const wrecked = maxDistance(globalWeights(plain), truth)
        expect(wrecked).toBeGreaterThan(100)
        expectClose(globalWeights(plain), fedAvg(poisoned))
      })
    })

    describe.concurrent('inputs it refuses', () => {
      it('should refuse when no shard inputs are given', async () => {
        expectRefused(await aggregate({}), /no shard inputs/)
      })

      it('should refuse when array names differ between shards', async () => {
        const files = shardFiles(shards.slice(0, 2))
        files['1/weights.npz'] = encodeNpz({
          weight: shards[1]!.weights.weight!,
          other: npArray([1], [1]),
        })
        expectRefused(await aggregate(files), /shard 1's array names differ from shard 0's/)
      })

      it('should refuse when an array has another shape in one shard', async () => {
        const files = shardFiles(shards.slice(0, 3))
        files['2/weights.npz'] = encodeNpz({
          weight: npArray([4, 3], shards[2]!.weights.weight!.data),
          bias: shards[2]!.weights.bias!,
        })
        expectRefused(await aggregate(files), /'weight' has shape \(4, 3\) in shard 2 but \(3, 4\)/)
      })

      it('should refuse when the shards mix .npz and .pt weights', async () => {
        const files = shardFiles(shards.slice(0, 1))
        files['1/weights.pt'] = Buffer.from('not read: the mix is refused first')
        files['1/samples.json'] = Buffer.from('{"samples": 5}')
        expectRefused(await aggregate(files), /mix weights.npz and weights.pt/)
      })

      it('should refuse when a shard has no samples.json or a bad count', async () => {
        const missing = shardFiles(shards.slice(0, 2))
        delete missing['1/samples.json']
        const zero = shardFiles(shards.slice(0, 2))
        zero['0/samples.json'] = Buffer.from('{"samples": 0}')
        const [first, second] = await Promise.all([aggregate(missing), aggregate(zero)])
        expectRefused(first, /shard 1 has no samples.json/)
        expectRefused(second, /shard 0's samples.json must be/)
      })

      it('should refuse .pt weights when the runtime has no torch', async () => {
        const files = {
          '0/weights.pt': Buffer.from('x'),
          '0/samples.json': Buffer.from('{"samples": 1}'),
        }
        expectRefused(
          await aggregate(files),
          /needs torch: run training on the python-torch runtime/,
        )
      })

      it('should refuse an unknown rule and a trim fraction of a half', async () => {
        const [rule, trim] = await Promise.all([
          aggregate(shardFiles(shards), { GRIDX_AGGREGATE: 'mean' }),
          aggregate(shardFiles(shards), {
            GRIDX_AGGREGATE: 'trimmed-mean',
            GRIDX_TRIM_FRACTION: '0.5',
          }),
        ])
        expectRefused(rule, /GRIDX_AGGREGATE='mean' is not one of fedavg, median, trimmed-mean/)
        expectRefused(trim, /GRIDX_TRIM_FRACTION=0.5 is outside \[0, 0.5\)/)
      })

      it('should refuse round metrics that are not names to numbers', async () => {
        const outcome = await aggregate(shardFiles(shards), {
          GRIDX_ROUND_METRICS: '{"accuracy": "high"}',
        })
        expectRefused(outcome, /GRIDX_ROUND_METRICS is not an object of metric names to numbers/)
      })

      it('should refuse non-finite weights', async () => {
        const files = shardFiles(shards.slice(0, 2))
        files['1/weights.npz'] = encodeNpz({
          ...shards[1]!.weights,
          bias: npArray([4], [1, NaN, 0, 0]),
        })
        expectRefused(await aggregate(files), /'bias' of shard 1 holds NaN or infinite values/)
      })
    })
  },
  ['python'],
)
