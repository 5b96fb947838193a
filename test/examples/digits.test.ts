// examples/digits run as jobs in the real images, the way the executor runs them: make-data.py
// writes the split, one shard's training (numpy and torch) writes what the aggregate combines,
// central.py reaches a sensible accuracy, and evaluate.py and this test agree on it.
import { readFile } from 'node:fs/promises'
import type Docker from 'dockerode'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { splitCsv } from '../../node/shards/index.ts'
import type { Runtime } from '../../protocol/index.ts'
import { describeWithDocker } from '../fixtures/docker.ts'
import { type FileJobOutcome, type FileJobRunner, fileJobRunner } from '../fixtures/file-jobs.ts'
import { decodeNpz } from '../fixtures/npz.ts'
import { metricsOf, parseDigitsCsv, softmaxAccuracy } from './digits-model.ts'

const example = (name: string) =>
  readFile(new URL(`../../examples/digits/${name}`, import.meta.url), 'utf8')
const [MAKE_DATA, TRAIN_NUMPY, TRAIN_TORCH, CENTRAL, EVALUATE] = (await Promise.all(
  ['make-data.py', 'train_numpy.py', 'train_torch.py', 'central.py', 'evaluate.py'].map(example),
)) as [string, string, string, string, string]
const DIGITS = 1797
const TEST_ROWS = 450

function succeeded(outcome: FileJobOutcome): FileJobOutcome {
  expect(outcome.state, outcome.result.stderrTail).toBe('succeeded')
  return outcome
}

/** make-data.py's two files, made once (by the first suite that needs them). */
let data: { train: Buffer; test: Buffer }
/** The first of four shards of train.csv, cut as a sharded job cuts it. */
let firstShard: Buffer

async function makeData(runner: FileJobRunner) {
  const outcome = succeeded(await runner.run({ runtime: 'python', code: MAKE_DATA }))
  data = { train: outcome.files.get('train.csv')!, test: outcome.files.get('test.csv')! }
  firstShard = Buffer.from(splitCsv(data.train, 4)[0]!)
  return outcome
}

describeWithDocker(
  'the digits example in the python runtime',
  (docker: Docker) => {
    let runner: FileJobRunner

    beforeAll(async () => {
      runner = await fileJobRunner(docker, 'digits')
      await makeData(runner)
    })

    afterAll(async () => {
      await runner.stop()
    })

    it('should write the same stratified split of all the digits when make-data runs', async () => {
      const again = succeeded(await runner.run({ runtime: 'python', code: MAKE_DATA }))
      expect([...again.files.keys()].sort()).toEqual(['test.csv', 'train.csv'])
      expect(again.files.get('train.csv')!.equals(data.train)).toBe(true)
      expect(again.files.get('test.csv')!.equals(data.test)).toBe(true)
      const train = parseDigitsCsv(data.train.toString('utf8'))
      const test = parseDigitsCsv(data.test.toString('utf8'))
      expect(train.labels.length + test.labels.length).toBe(DIGITS)
      expect(test.labels.length).toBe(TEST_ROWS)
      expect(train.features[0]).toHaveLength(64)
      expect(data.test.toString('utf8').split('\n')[0]).toMatch(/^p0,p1,.*,p63,label$/)
      // Stratified: each digit has about a quarter of its images in the test split.
      for (let digit = 0; digit < 10; digit++) {
        const inTest = test.labels.filter((label) => label === digit).length
        expect(inTest).toBeGreaterThanOrEqual(43)
        expect(inTest).toBeLessThanOrEqual(47)
      }
    })

    describe.concurrent('one shard and the central baseline', () => {
      it('should train one shard and write weights, samples and metrics in round 1', async () => {
        const shard = await trainNumpy(runner, { shard: firstShard }, '1')
        const rows = parseDigitsCsv(firstShard.toString('utf8')).labels.length
        expect(JSON.parse(shard.files.get('samples.json')!.toString('utf8'))).toEqual({
          samples: rows,
        })
        const model = decodeNpz(shard.files.get('weights.npz')!)
        expect(model.weight!.shape).toEqual([64, 10])
        expect(model.bias!.shape).toEqual([10])
        const metrics = metricsOf(shard.result.stdoutTail)
        const accuracy = softmaxAccuracy(model, parseDigitsCsv(data.test.toString('utf8')))
        expect(metrics.accuracy).toBeCloseTo(accuracy, 5)
        expect(accuracy).toBeGreaterThan(0.8)
        expect(metrics.loss).toBeGreaterThan(0)
      })

      it('should start from the global model when a later round gives one', async () => {
        const first = await trainNumpy(runner, { shard: firstShard }, '1')
        const global = first.files.get('weights.npz')!
        const [second, again] = await Promise.all([
          trainNumpy(runner, { shard: firstShard, 'global/weights.npz': global }, '2'),
          trainNumpy(runner, { shard: firstShard }, '1'),
        ])
        expect(metricsOf(second.result.stdoutTail).loss).toBeLessThan(
          metricsOf(first.result.stdoutTail).loss!,
        )
        // Seeded: the same round and shard trains the same model.
        expect(again.files.get('weights.npz')!.equals(global)).toBe(true)
      })

      it('should reach a sensible accuracy when central trains on all the data', async () => {
        const central = succeeded(
          await runner.run(
            { runtime: 'python', code: CENTRAL },
            {
              'train.csv': data.train,
              'train_numpy.py': Buffer.from(TRAIN_NUMPY),
            },
          ),
        )
        const weights = central.files.get('weights.npz')!
        const accuracy = softmaxAccuracy(decodeNpz(weights), parseDigitsCsv(data.test.toString()))
        expect(metricsOf(central.result.stdoutTail).accuracy).toBeCloseTo(accuracy, 5)
        expect(accuracy).toBeGreaterThan(0.93)
        const evaluation = await evaluate(runner, 'python', { 'weights.npz': weights })
        expect(evaluation.accuracy).toBeCloseTo(accuracy, 10)
        expect(evaluation.model).toBe('weights.npz')
      })

      it('should say what is missing when central runs without train_numpy.py', async () => {
        const outcome = await runner.run(
          { runtime: 'python', code: CENTRAL },
          {
            'train.csv': data.train,
          },
        )
        expect(outcome.state).toBe('failed')
        expect(outcome.result.stderrTail).toMatch(/add --input train_numpy.py/)
      })
    })
  },
  ['python'],
)

describeWithDocker(
  'the digits example in the python-torch runtime',
  (docker: Docker) => {
    let runner: FileJobRunner

    beforeAll(async () => {
      runner = await fileJobRunner(docker, 'digits-torch')
      if (data === undefined) await makeData(runner)
    })

    afterAll(async () => {
      await runner.stop()
    })

    it('should train one shard of the MLP and evaluate its state_dict', async () => {
      const spec = { runtime: 'python-torch' as const, code: TRAIN_TORCH, memoryMb: 1024 }
      const shard = succeeded(
        await runner.run(
          { ...spec, env: { GRIDX_ROUND: '1', GRIDX_SHARD: '0' } },
          {
            shard: firstShard,
          },
        ),
      )
      const rows = parseDigitsCsv(firstShard.toString('utf8')).labels.length
      expect(JSON.parse(shard.files.get('samples.json')!.toString('utf8'))).toEqual({
        samples: rows,
      })
      const metrics = metricsOf(shard.result.stdoutTail)
      expect(metrics.accuracy).toBeGreaterThan(0.8)
      const evaluation = await evaluate(runner, 'python-torch', {
        'global/weights.pt': shard.files.get('weights.pt')!,
      })
      expect(evaluation.model).toBe('weights.pt')
      expect(evaluation.accuracy).toBeCloseTo(metrics.accuracy!, 5)
    })
  },
  ['python', 'python-torch'],
)

function trainNumpy(runner: FileJobRunner, inputs: Record<string, Buffer>, round: string) {
  const env = { GRIDX_ROUND: round, GRIDX_SHARD: '0', GRIDX_ROUNDS: '5', GRIDX_SHARDS: '4' }
  return runner.run({ runtime: 'python', code: TRAIN_NUMPY, env }, inputs).then(succeeded)
}

async function evaluate(runner: FileJobRunner, runtime: Runtime, model: Record<string, Buffer>) {
  const outcome = succeeded(
    await runner.run(
      { runtime, code: EVALUATE, memoryMb: 1024 },
      {
        ...model,
        'test.csv': data.test,
      },
    ),
  )
  return JSON.parse(outcome.files.get('evaluation.json')!.toString('utf8')) as {
    model: string
    rows: number
    accuracy: number
  }
}
