// node/training/aggregate.py on torch state_dicts, in the real python-torch image: shard
// weights this test makes are turned into .pt files by a job, aggregated, and the result turned
// back into an .npz by another job, to be checked against the rules computed here.
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
  seededRandom,
  type ShardWeights,
  type Weights,
} from './aggregate-math.ts'

const AGGREGATE_CODE = await readFile(
  new URL('../../../node/training/aggregate.py', import.meta.url),
  'utf8',
)
/** float32 tensors: the aggregate is computed in float64 and rounded once to float32. */
const TOLERANCE = 1e-6

/** Each inputs/<shard>/weights.npz saved as outputs/<shard>/weights.pt, a torch state_dict. */
const TO_PT = `
import collections, os, numpy, torch
for shard in os.listdir("inputs"):
    with numpy.load(f"inputs/{shard}/weights.npz") as arrays:
        state = collections.OrderedDict((k, torch.from_numpy(arrays[k])) for k in arrays.files)
    os.makedirs(f"outputs/{shard}")
    torch.save(state, f"outputs/{shard}/weights.pt")
`
/** inputs/weights.pt back into outputs/weights.npz, checking it is a state_dict of tensors. */
const TO_NPZ = `
import numpy, torch
state = torch.load("inputs/weights.pt", weights_only=True)
assert all(torch.is_tensor(value) for value in state.values())
numpy.savez("outputs/weights.npz", **{name: value.numpy() for name, value in state.items()})
`

function torchWeights(random: () => number, steps: number): Weights {
  const values = (count: number) => Array.from({ length: count }, () => random() * 2 - 1)
  return {
    'layer.weight': npArray([4, 3], values(12), '<f4'),
    'layer.bias': npArray([4], values(4), '<f4'),
    // A counter such as BatchNorm's num_batches_tracked: an integer tensor.
    'norm.steps': npArray([], [steps], '<i8'),
  }
}

describeWithDocker(
  'the training aggregate on torch state_dicts',
  (docker: Docker) => {
    let runner: FileJobRunner
    const random = seededRandom(1013)
    const shards: ShardWeights[] = [90, 110, 75, 150].map((samples, index) => ({
      index,
      samples,
      weights: torchWeights(random, 10 * (index + 1)),
    }))

    beforeAll(async () => {
      runner = await fileJobRunner(docker, 'aggregate-torch')
    })

    afterAll(async () => {
      await runner.stop()
    })

    const torchJob = (code: string, inputs: Record<string, Buffer>, env = {}) =>
      runner.run({ runtime: 'python-torch', code, env, memoryMb: 1024 }, inputs)

    function succeeded(outcome: FileJobOutcome): FileJobOutcome {
      expect(outcome.state, outcome.result.stderrTail).toBe('succeeded')
      return outcome
    }

    /** The .pt shard inputs of the aggregate for `these` shards. */
    async function ptInputs(these: readonly ShardWeights[]): Promise<Record<string, Buffer>> {
      const npz = Object.fromEntries(
        these.map((shard) => [`${shard.index}/weights.npz`, encodeNpz(shard.weights)]),
      )
      const converted = succeeded(await torchJob(TO_PT, npz))
      const inputs: Record<string, Buffer> = {}
      for (const shard of these) {
        inputs[`${shard.index}/weights.pt`] = converted.files.get(`${shard.index}/weights.pt`)!
        inputs[`${shard.index}/samples.json`] = Buffer.from(`{"samples": ${shard.samples}}`)
      }
      return inputs
    }

    async function aggregated(inputs: Record<string, Buffer>, rule: string): Promise<Weights> {
      const outcome = succeeded(await torchJob(AGGREGATE_CODE, inputs, { GRIDX_AGGREGATE: rule }))
      expect([...outcome.files.keys()].sort()).toEqual(['aggregate.json', 'global/weights.pt'])
      const back = succeeded(
        await torchJob(TO_NPZ, { 'weights.pt': outcome.files.get('global/weights.pt')! }),
      )
      return decodeNpz(back.files.get('weights.npz')!)
    }

    describe.concurrent('each rule', () => {
      it('should weight each state_dict by its samples and keep names and dtypes', async () => {
        const result = await aggregated(await ptInputs(shards), 'fedavg')
        const expected = fedAvg(shards)
        expect(result['layer.weight']!.descr).toBe('<f4')
        expect(result['norm.steps']!.descr).toBe('<i8')
        const floats = ['layer.weight', 'layer.bias']
        const pick = (weights: Weights) =>
          Object.fromEntries(floats.map((name) => [name, weights[name]!]))
        expect(maxDistance(pick(result), pick(expected))).toBeLessThan(TOLERANCE)
        // (10*90 + 20*110 + 30*75 + 40*150) / 425 = 26.94..., rounded to the nearest count.
        expect(result['norm.steps']!.data[0]).toBe(Math.round(expected['norm.steps']!.data[0]!))
        expect(result['norm.steps']!.data[0]).toBe(27)
      })

      it('should resist a poisoned state_dict with the median while fedavg is wrecked', async () => {
        const poisoned = shards.map((shard) =>
          shard.index === 1
            ? { ...shard, weights: mapWeights(shard.weights, (v) => v * 1000) }
            : shard,
        )
        const inputs = await ptInputs(poisoned)
        const [robust, plain] = await Promise.all([
          aggregated(inputs, 'median'),
          aggregated(inputs, 'fedavg'),
        ])
        const floats = (weights: Weights) => ({ 'layer.weight': weights['layer.weight']! })
        expect(maxDistance(floats(robust), floats(median(poisoned)))).toBeLessThan(TOLERANCE)
        // The median of four, one of them poisoned, lies between two honest values: it moves by
        // at most the honest shards' spread, 2 here (values in [-1, 1)).
        expect(maxDistance(floats(robust), floats(median(shards)))).toBeLessThan(2)
        expect(maxDistance(floats(plain), floats(fedAvg(shards)))).toBeGreaterThan(10)
      })
    })

    it('should refuse a .pt that holds more than tensors', async () => {
      const made = succeeded(
        await torchJob(
          `
import collections, os, torch
os.makedirs("outputs/0")
torch.save(collections.Counter(a=1), "outputs/0/weights.pt")
`,
          {},
        ),
      )
      const outcome = await torchJob(AGGREGATE_CODE, {
        '0/weights.pt': made.files.get('0/weights.pt')!,
        '0/samples.json': Buffer.from('{"samples": 3}'),
      })
      expect(outcome.state).toBe('failed')
      expect(outcome.result.exitCode).toBe(2)
      expect(outcome.result.stderrTail).toMatch(/is not a torch state_dict of tensors/)
    })
  },
  ['python-torch'],
)
