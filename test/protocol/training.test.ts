import { describe, expect, it } from 'vitest'
import {
  ROUND_TIMEOUT_S_MAX,
  SHARDS_MAX,
  TRAINING_ROUNDS_MAX,
  trainingSubmitSchema,
} from '../../protocol/index.ts'

const base = {
  idempotencyId: 'train-1',
  spec: { runtime: 'python', code: 'print(1)' },
  shards: 4,
  rounds: 3,
}

describe('trainingSubmitSchema', () => {
  it('should accept a submission when only the required fields are given', () => {
    const parsed = trainingSubmitSchema.parse(base)
    expect(parsed.minShards).toBeUndefined()
    expect(parsed.aggregate).toBeUndefined()
  })

  it('should refuse minShards when it exceeds shards', () => {
    const parsed = trainingSubmitSchema.safeParse({ ...base, minShards: 5 })
    expect(parsed.success).toBe(false)
    expect(parsed.error?.issues[0]?.path).toEqual(['minShards'])
  })

  it('should refuse rounds, shards and round timeouts when they are past their bounds', () => {
    for (const over of [
      { rounds: TRAINING_ROUNDS_MAX + 1 },
      { rounds: 0 },
      { shards: SHARDS_MAX + 1 },
      { roundTimeoutS: ROUND_TIMEOUT_S_MAX + 1 },
      { roundTimeoutS: 0 },
      { rounds: 1.5 },
    ]) {
      expect(trainingSubmitSchema.safeParse({ ...base, ...over }).success).toBe(false)
    }
    expect(trainingSubmitSchema.safeParse({ ...base, rounds: TRAINING_ROUNDS_MAX }).success).toBe(
      true,
    )
  })

  it('should refuse an aggregate rule or a field when it is not in the contract', () => {
    expect(trainingSubmitSchema.safeParse({ ...base, aggregate: 'mean' }).success).toBe(false)
    expect(trainingSubmitSchema.safeParse({ ...base, reduceCode: 'x' }).success).toBe(false)
    expect(trainingSubmitSchema.safeParse({ ...base, aggregate: 'trimmed-mean' }).success).toBe(
      true,
    )
  })
})
