// A training job's submission (protocol/training.ts): what it is refused for, what it
// escrows, and the parent it creates with its first round open (training.ts runs the rounds).
import {
  JOB_ENV_MAX,
  ROUND_TIMEOUT_S_MAX,
  ROUND_TIMEOUT_S_MIN,
  SHARD_RETRIES_MAX,
  TRAINING_ENV,
  TRAINING_ROUNDS_MAX,
} from '../../protocol/index.ts'
import type { JobSpec } from '../../protocol/index.ts'
import { maxPriceOf } from './jobs.ts'
import { createParent } from './parent-record.ts'
import { checkNewParent, reserve } from './parents.ts'
import { fail, ok } from './result.ts'
import { openRound, shardEnv } from './training.ts'
import type { ApplyResult, Command, State, Training } from './types.ts'

type CommandOf<T extends Command['type']> = Extract<Command, { type: T }>

/** What a training job escrows in all: every round's shards, each run 1 + SHARD_RETRIES_MAX
 * times, and every round's aggregate. */
export function trainingMaxPriceMc(state: State, spec: JobSpec, shards: number, rounds: number) {
  return maxPriceOf(state, spec) * rounds * (shards * (1 + SHARD_RETRIES_MAX) + 1)
}

/** What a training job's submission would do, without doing it (see checkSubmit). */
export function checkSubmitTraining(
  state: State,
  command: CommandOf<'training.submit'>,
): ApplyResult | null {
  const shards = command.shards.length
  const { rounds, minShards, roundTimeoutS } = command
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > TRAINING_ROUNDS_MAX) {
    return fail('INVALID_PARAMS', `a training job has 1 to ${TRAINING_ROUNDS_MAX} rounds`)
  }
  if (!Number.isInteger(minShards) || minShards < 1 || minShards > shards) {
    return fail('INVALID_PARAMS', `minShards is 1 to the ${shards} shards, not ${minShards}`)
  }
  if (
    roundTimeoutS !== null &&
    (!Number.isInteger(roundTimeoutS) ||
      roundTimeoutS < ROUND_TIMEOUT_S_MIN ||
      roundTimeoutS > ROUND_TIMEOUT_S_MAX)
  ) {
    return fail(
      'INVALID_PARAMS',
      `a round's timeout is ${ROUND_TIMEOUT_S_MIN} to ${ROUND_TIMEOUT_S_MAX} seconds`,
    )
  }
  if (command.samples !== null && command.samples.length !== shards) {
    return fail('INVALID_PARAMS', 'samples must count the rows of every shard')
  }
  const env = { ...command.spec.env, ...shardEnv(1, rounds, 0, shards) }
  if (Object.keys(env).length > JOB_ENV_MAX) {
    return fail(
      'INVALID_PARAMS',
      `a train job's environment takes ${Object.keys(TRAINING_ENV).length} variables of ` +
        `its own; at most ${JOB_ENV_MAX} in all`,
      { field: 'spec.env' },
    )
  }
  const required = trainingMaxPriceMc(state, command.spec, shards, rounds)
  return checkNewParent(state, command, required)
}

export function submitTraining(state: State, command: CommandOf<'training.submit'>): ApplyResult {
  const checked = checkSubmitTraining(state, command)
  if (checked !== null) return checked
  const shards = command.shards.length
  const maxPriceMc = trainingMaxPriceMc(state, command.spec, shards, command.rounds)
  const training: Training = {
    rounds: command.rounds,
    minShards: command.minShards,
    roundTimeoutS: command.roundTimeoutS,
    aggregate: command.aggregate,
    samples: command.samples === null ? null : [...command.samples],
    history: [],
  }
  const parent = createParent(state, command, {
    reduceCode: command.aggregateCode,
    hasReduce: true,
    maxPriceMc,
    training,
  })
  reserve(state, parent, maxPriceMc)
  openRound(state, parent, [])
  return ok({ parentId: parent.id, created: true })
}
