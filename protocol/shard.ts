// Sharded jobs (DESIGN section 6): a dataset split by rows into N shards, a map job per shard
// and an optional reduce over their outputs, under one parent job. Browser-safe (zod only).
import { z } from 'zod'
import type { JobFile } from './blob.ts'
import { idempotencyIdSchema, jobSpecSchema } from './job.ts'
import type { JobState } from './job.ts'
import type { TrainingView } from './training.ts'
import { CODE_BYTES_MAX, SHARDS_MAX } from './limits.ts'
import { utf8Bytes } from './bytes.ts'

/** The name of a map job's shard under `inputs/`: a file for a CSV, a directory of files for
 * a dataset of several files. */
export const SHARD_INPUT_NAME = 'shard'

/** `job.submit-sharded`: the map job's spec, whose inputs are the dataset (one CSV, or the
 * files of a directory), and the reduce's code, which runs on the map's runtime and resources
 * with every map job's outputs under `inputs/<shard index>/`. */
export const shardedSubmitSchema = z
  .object({
    idempotencyId: idempotencyIdSchema,
    spec: jobSpecSchema,
    shards: z.number().int().min(1).max(SHARDS_MAX),
    reduceCode: z
      .string()
      .refine((code) => utf8Bytes(code) <= CODE_BYTES_MAX, {
        message: `reduce code exceeds ${CODE_BYTES_MAX} bytes`,
      })
      .optional(),
  })
  .strict()

export const PARENT_STATES = ['running', 'succeeded', 'failed', 'cancelled'] as const
export type ParentState = (typeof PARENT_STATES)[number]

/** One shard of a parent as the API shows it. */
export interface ShardView {
  readonly index: number
  readonly inputs: readonly JobFile[]
  /** Its map jobs, the first run first; a retry adds one. */
  readonly jobs: readonly string[]
  /** The state of its latest map job. */
  readonly state: JobState
}

/** A parent job as the API shows it. Amounts are millicredits. */
export interface ParentView {
  readonly id: string
  readonly submitter: string
  readonly state: ParentState
  readonly shards: readonly ShardView[]
  /** The reduce job once every map succeeded; null before, and when there is none. */
  readonly reduce: string | null
  readonly hasReduce: boolean
  /** Shards whose map job succeeded. */
  readonly shardsDone: number
  /** Sum of the settled prices of every child, retries included. */
  readonly costMc: number
  /** What the parent escrowed in all: every map, the reduce and every retry it may need. */
  readonly maxPriceMc: number
  readonly createdAt: number
  readonly finishedAt: number | null
  readonly reason: string | null
  /** Present on a training job (`job.submit-training`): its rounds, metrics and model. */
  readonly training?: TrainingView
}
