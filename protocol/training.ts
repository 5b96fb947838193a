// Training jobs (issue 10, DESIGN section 6): a parent that runs its train script on every
// shard, round after round, and aggregates the shards' weights inside the sandbox after each
// round (Federated Averaging or a robust rule). Browser-safe (zod only).
import { z } from 'zod'
import type { JobFile } from './blob.ts'
import { idempotencyIdSchema, jobSpecSchema } from './job.ts'
import type { JobState } from './job.ts'
import {
  ROUND_TIMEOUT_S_MAX,
  ROUND_TIMEOUT_S_MIN,
  SHARDS_MAX,
  TRAINING_ROUNDS_MAX,
} from './limits.ts'

/** How the aggregate job combines the shards' weights: `fedavg` is the samples-weighted mean
 * (Flower's FedAvg); `median` and `trimmed-mean` work coordinate by coordinate, so one
 * poisoned shard cannot drag them far. */
export const AGGREGATE_RULES = ['fedavg', 'median', 'trimmed-mean'] as const
export type AggregateRule = (typeof AGGREGATE_RULES)[number]

/** Where a round's aggregate writes the global model under `outputs/`, and where the next
 * round's shards find it under `inputs/`. */
export const GLOBAL_DIR = 'global'

/** The environment the daemon gives a training job's children (the contract of issue 10): a
 * train job learns its round and shard, the aggregate its rule, trim and round. */
export const TRAINING_ENV = {
  round: 'GRIDX_ROUND',
  rounds: 'GRIDX_ROUNDS',
  shard: 'GRIDX_SHARD',
  shards: 'GRIDX_SHARDS',
  aggregate: 'GRIDX_AGGREGATE',
  trimFraction: 'GRIDX_TRIM_FRACTION',
  /** The aggregate's: the round's metrics as the view shows them (a JSON object of name to
   * value), which it writes to `outputs/metrics.json`, so each round's metrics are an
   * artifact beside its global model. At most TRAINING_METRICS_MAX names: within an
   * environment value's bound. */
  roundMetrics: 'GRIDX_ROUND_METRICS',
} as const

/** The share of shards `trimmed-mean` drops at each end of every coordinate: 0.2 of 5 or more
 * shards drops at least one either side, so one poisoned shard is always dropped. */
export const TRIM_FRACTION_DEFAULT = 0.2

/** `job.submit-training`: the train job's spec, whose inputs are the dataset split into
 * `shards` as for `job.submit-sharded`; `rounds` rounds of it. A round closes when every shard
 * is in, or at its deadline (`roundTimeoutS` after it opened) with at least `minShards` in
 * (default: all of them); without `roundTimeoutS` a round waits for every shard. */
export const trainingSubmitSchema = z
  .object({
    idempotencyId: idempotencyIdSchema,
    spec: jobSpecSchema,
    shards: z.number().int().min(1).max(SHARDS_MAX),
    rounds: z.number().int().min(1).max(TRAINING_ROUNDS_MAX),
    minShards: z.number().int().min(1).max(SHARDS_MAX).optional(),
    roundTimeoutS: z.number().int().min(ROUND_TIMEOUT_S_MIN).max(ROUND_TIMEOUT_S_MAX).optional(),
    aggregate: z.enum(AGGREGATE_RULES).optional(),
  })
  .strict()
  .refine((params) => params.minShards === undefined || params.minShards <= params.shards, {
    message: 'minShards cannot exceed shards',
    path: ['minShards'],
  })

export type TrainingSubmitInput = z.input<typeof trainingSubmitSchema>

export const ROUND_STATES = ['running', 'aggregating', 'done', 'failed'] as const
export type RoundState = (typeof ROUND_STATES)[number]

/** One shard's job in one round. Times are log times (ms). */
export interface RoundShardView {
  readonly shard: number
  /** The shard's latest job in this round (a retry replaces a failed run). */
  readonly job: string
  readonly state: JobState
  readonly startedAt: number | null
  readonly finishedAt: number | null
  /** True when the round closed at its deadline without it: cancelled and not paid. */
  readonly cut: boolean
}

/** One round of a training job. */
export interface RoundView {
  /** 1-based. */
  readonly index: number
  readonly state: RoundState
  /** Log times (ms). */
  readonly openedAt: number
  readonly closedAt: number | null
  readonly shards: readonly RoundShardView[]
  readonly aggregateJob: string | null
  /** This round's aggregate outputs under `global/`, once it succeeded. */
  readonly global: readonly JobFile[] | null
  /** Each metric name: the samples-weighted mean over the round's succeeded shards of each
   * shard's last line of that name. */
  readonly metrics: Readonly<Record<string, number>>
}

/** `ParentView.training`: present on a training job only. */
export interface TrainingView {
  readonly rounds: number
  readonly minShards: number
  readonly roundTimeoutS: number | null
  readonly aggregate: AggregateRule
  /** The round open now (1-based), `rounds` when done. */
  readonly round: number
  /** One per round opened, oldest first. */
  readonly history: readonly RoundView[]
  /** The final global model (the last round's `global/` outputs), once succeeded. */
  readonly model: readonly JobFile[] | null
}
