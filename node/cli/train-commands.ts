// gridx train: a training job (protocol/training.ts), its progress while followed, and its
// rounds in gridx status. Its model is fetched by gridx get (file-commands.ts).
import { Command, Option } from 'commander'
import { randomUUID } from 'node:crypto'
import {
  AGGREGATE_RULES,
  CONTAINER_RUNTIMES,
  PARENT_REFRESH_MS,
  ROUND_TIMEOUT_S_MAX,
  ROUND_TIMEOUT_S_MIN,
  SHARDS_MAX,
  TRAINING_ROUNDS_MAX,
} from '../../protocol/index.ts'
import type { AggregateRule, ParentView, TrainingView } from '../../protocol/index.ts'
import { call, target } from './api.ts'
import { CliError } from './connect.ts'
import type { ApiTarget } from './connect.ts'
import type { CliContext } from './context.ts'
import { submitInputs } from './file-commands.ts'
import { table } from './format.ts'
import { buildSpec, collect, print, runtimeOf } from './job-commands.ts'
import type { SubmitOptions } from './job-commands.ts'
import { parentSummary } from './shard-commands.ts'

type Decorate = (command: Command) => Command

interface TrainOptions extends SubmitOptions {
  readonly rounds: string
  readonly minShards?: string
  readonly roundTimeout?: string
  readonly aggregate?: AggregateRule
}

function whole(value: string | undefined, flag: string, min: number, max: number) {
  if (value === undefined) return undefined
  const count = Number(value)
  if (!Number.isInteger(count) || count < min || count > max) {
    throw new CliError(`${flag} takes a whole number from ${min} to ${max}, not "${value}"`)
  }
  return count
}

/** The submission's counts, checked before anything is read or sent. */
function counts(options: TrainOptions) {
  const shards = whole(options.shards, '--shards', 1, SHARDS_MAX) as number
  const minShards = whole(options.minShards, '--min-shards', 1, SHARDS_MAX)
  if (minShards !== undefined && minShards > shards) {
    throw new CliError(`--min-shards cannot exceed --shards (${shards})`)
  }
  const roundTimeoutS = whole(
    options.roundTimeout,
    '--round-timeout',
    ROUND_TIMEOUT_S_MIN,
    ROUND_TIMEOUT_S_MAX,
  )
  const rounds = whole(options.rounds, '--rounds', 1, TRAINING_ROUNDS_MAX) as number
  return {
    shards,
    rounds,
    ...(minShards !== undefined ? { minShards } : {}),
    ...(roundTimeoutS !== undefined ? { roundTimeoutS } : {}),
    ...(options.aggregate !== undefined ? { aggregate: options.aggregate } : {}),
  }
}

export function trainCommand(context: CliContext, decorate: Decorate): Command {
  return decorate(new Command('train'))
    .description('train a model on the mesh: the script runs on every shard, round after round')
    .argument('[file]', 'the train script')
    .option('-c, --code <code>', 'the code itself')
    .requiredOption('--rounds <n>', 'rounds of training')
    .requiredOption('--shards <n>', 'shards the --input dataset is split into by rows')
    .option('--min-shards <n>', 'shards a round needs by its deadline (default: all)')
    .option('--round-timeout <s>', 'a round closes this long after it opened, without stragglers')
    .addOption(
      new Option('--aggregate <rule>', 'how the shards’ weights combine (default fedavg)').choices(
        AGGREGATE_RULES,
      ),
    )
    .addOption(
      new Option('--runtime <runtime>', 'the image the script runs on')
        .choices(CONTAINER_RUNTIMES)
        .argParser(runtimeOf),
    )
    .option('--input <path>', 'the dataset: a CSV, a .npy or a directory', collect, [])
    .option('--cpus <n>', 'CPUs reserved for each job')
    .option('--memory <mb>', 'memory limit of each job in MB')
    .option('--timeout <s>', 'wall-clock limit of each job in seconds')
    .option('--pids <n>', 'process limit')
    .option('--env <name=value>', 'environment variable (repeatable)', collect, [])
    .option('--arg <value>', 'argument passed to the script (repeatable, in order)', collect, [])
    .option('--disk <mb>', 'disk quota of what each job writes under outputs/, in MB')
    .option('--idempotency-id <id>', 'resubmitting with the same id creates nothing new')
    .option('-f, --follow', 'show the rounds as they go; exit 0 once the model is trained')
    .action(async (file: string | undefined, options: TrainOptions) => {
      const params = counts(options)
      if (options.input.length === 0) {
        throw new CliError('gridx train splits the dataset --input names: give one')
      }
      const spec = await buildSpec(context, file, options)
      const api = await target(context, options)
      spec.inputs = await submitInputs(context, api, options.input, options.json ?? false)
      const idempotencyId = options.idempotencyId ?? randomUUID()
      const submitted = await call(api, 'job.submit-training', { idempotencyId, spec, ...params })
      if (!options.follow) {
        return print(context, options.json, submitted, parentSummary(submitted.parent))
      }
      if (!options.json) context.stderr.write(`submitted ${submitted.parent.id}\n`)
      const final = await followTraining(context, api, submitted.parent.id, options.json ?? false)
      context.setExitCode(final.state === 'succeeded' ? 0 : 1)
      if (options.json) return print(context, true, final, '')
      if (final.state !== 'succeeded') {
        context.stderr.write(`training ${final.id} ${final.state}: ${final.reason ?? ''}\n`)
      } else {
        context.stdout.write(`${final.id} succeeded: gridx get ${final.id} -o DIR for the model\n`)
      }
    })
}

/** Where a training job is, in a line: its round, and its shards done or its aggregate. */
export function trainingProgress(parent: ParentView): string {
  const training = parent.training
  if (parent.state !== 'running' || training === undefined) return parent.state
  const round = training.history.at(-1)
  const at = `round ${training.round}/${training.rounds}`
  if (round === undefined) return at
  if (round.state === 'aggregating') return `${at}: aggregating`
  const done = round.shards.filter((shard) => shard.state === 'succeeded').length
  return `${at}: ${done}/${round.shards.length} shards done`
}

/** Looks at the job every PARENT_REFRESH_MS until it ends, writing its progress on stderr
 * each time it changes; the end of the process (Ctrl-C) stops it. */
async function followTraining(
  context: CliContext,
  api: ApiTarget,
  id: string,
  json: boolean,
): Promise<ParentView> {
  let shown = ''
  for (;;) {
    const parent = await call(api, 'job.parent', { id })
    const line = trainingProgress(parent)
    if (line !== shown && !json) context.stderr.write(`${line}\n`)
    shown = line
    if (parent.state !== 'running') return parent
    await new Promise((resolve) => setTimeout(resolve, PARENT_REFRESH_MS))
  }
}

function seconds(from: number | null, to: number | null): string {
  return from === null || to === null ? '-' : ((to - from) / 1000).toFixed(1)
}

/** The rounds of a training job as gridx status shows them. */
export function trainingDetails(training: TrainingView): string {
  const { rounds, round, aggregate, minShards, roundTimeoutS } = training
  const shards = training.history[0]?.shards.length ?? 0
  const deadline = roundTimeoutS === null ? 'no round timeout' : `${roundTimeoutS} s a round`
  const head =
    `rounds    ${round}/${rounds}, ${aggregate}, at least ${minShards} of ${shards} shards, ` +
    deadline
  const rows = training.history.map((one) => {
    const done = one.shards.filter((shard) => shard.state === 'succeeded').length
    const metrics = Object.entries(one.metrics)
      .map(([name, value]) => `${name}=${Number(value.toPrecision(4))}`)
      .join(' ')
    return [
      String(one.index),
      one.state,
      `${done}/${one.shards.length}`,
      String(one.shards.filter((shard) => shard.cut).length),
      seconds(one.openedAt, one.closedAt),
      one.aggregateJob ?? '-',
      metrics === '' ? '-' : metrics,
    ]
  })
  const model =
    training.model === null ? '' : `\nmodel     ${training.model.map((f) => f.name).join(', ')}`
  // The aggregate job holds the round's model and metrics.json: `gridx get` it.
  const header = ['ROUND', 'STATE', 'SHARDS', 'CUT', 'SECONDS', 'AGGREGATE', 'METRICS']
  return `${head}${model}\n\n${table([header, ...rows])}`
}
