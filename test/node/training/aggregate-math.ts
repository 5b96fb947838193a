// The aggregation rules of the training contract computed here, coordinate by coordinate in
// plain TypeScript, so a test checks node/training/aggregate.py against numbers numpy never
// touched. Also shard weights made from a seed, so every run checks the same values.
import { npArray, type NpArray } from '../../fixtures/npz.ts'

export type Weights = Record<string, NpArray>

export interface ShardWeights {
  readonly index: number
  readonly weights: Weights
  readonly samples: number
}

/** mulberry32: a small seeded generator, enough for test data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A model with a weight matrix and a bias vector, each value in [low, high). */
export function randomWeights(random: () => number, low = -1, high = 1): Weights {
  const values = (count: number) =>
    Array.from({ length: count }, () => low + random() * (high - low))
  return { weight: npArray([3, 4], values(12)), bias: npArray([4], values(4)) }
}

export function mapWeights(weights: Weights, change: (value: number) => number): Weights {
  return Object.fromEntries(
    Object.entries(weights).map(([name, array]) => [
      name,
      { ...array, data: array.data.map((value) => change(value)) },
    ]),
  )
}

/** Applies `rule` to the k values each coordinate takes across the shards. */
function perCoordinate(
  shards: readonly ShardWeights[],
  rule: (values: number[], samples: number[]) => number,
): Weights {
  const first = shards[0]!.weights
  const samples = shards.map((shard) => shard.samples)
  return Object.fromEntries(
    Object.entries(first).map(([name, array]) => {
      const data = array.data.map((_, at) =>
        rule(
          shards.map((shard) => shard.weights[name]!.data[at]!),
          samples,
        ),
      )
      return [name, { ...array, data }]
    }),
  )
}

export function fedAvg(shards: readonly ShardWeights[]): Weights {
  return perCoordinate(shards, (values, samples) => {
    const total = samples.reduce((sum, count) => sum + count, 0)
    return values.reduce((sum, value, at) => sum + value * samples[at]!, 0) / total
  })
}

export function median(shards: readonly ShardWeights[]): Weights {
  return perCoordinate(shards, (values) => {
    const sorted = [...values].sort((a, b) => a - b)
    const middle = Math.floor(sorted.length / 2)
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
  })
}

export function trimmedMean(shards: readonly ShardWeights[], trim: number): Weights {
  return perCoordinate(shards, (values) => {
    const cut = Math.floor(trim * values.length)
    const kept = [...values].sort((a, b) => a - b).slice(cut, values.length - cut)
    return kept.reduce((sum, value) => sum + value, 0) / kept.length
  })
}

/** The largest absolute difference between two models' coordinates. */
export function maxDistance(a: Weights, b: Weights): number {
  let largest = 0
  for (const [name, array] of Object.entries(a)) {
    array.data.forEach((value, at) => {
      largest = Math.max(largest, Math.abs(value - b[name]!.data[at]!))
    })
  }
  return largest
}
