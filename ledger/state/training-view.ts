// A training job's rounds in the shape the API returns (protocol/training.ts): each round's
// shards with their timings, its aggregate, its global model and its metrics. The metrics are
// read here from the shard jobs' stdout tails, which the log holds already: nothing is
// proposed for them, and no file a job wrote is opened.
import {
  GLOBAL_DIR,
  TRAINING_METRIC_NAME_BYTES_MAX,
  TRAINING_METRICS_MAX,
} from '../../protocol/index.ts'
import type { JobFile, JobResult, RoundView, TrainingView } from '../../protocol/index.ts'
import type { Job, Parent, State, Training, TrainingRound } from './types.ts'

/** A metric's name: lower-case letters and `_`, as the contract says; `__proto__` is refused
 * because a name becomes a key of the metrics object every client parses. */
const METRIC_NAME = /^[a-z_]+$/

export function trainingView(state: State, parent: Parent, training: Training): TrainingView {
  const history = training.history.map((round) => roundView(state, training, round))
  const last = history.at(-1)
  return {
    rounds: training.rounds,
    minShards: training.minShards,
    roundTimeoutS: training.roundTimeoutS,
    aggregate: training.aggregate,
    round: training.history.length,
    history,
    model: parent.state === 'succeeded' ? (last?.global ?? null) : null,
  }
}

function roundView(state: State, training: Training, round: TrainingRound): RoundView {
  const latest = round.jobs.map((runs) => state.jobs.get(runs.at(-1) as string) as Job)
  const aggregate = round.aggregate === null ? undefined : state.jobs.get(round.aggregate)
  return {
    index: round.index,
    state: round.state,
    openedAt: round.openedAt,
    closedAt: round.closedAt,
    shards: latest.map((job, shard) => ({
      shard,
      job: job.id,
      state: job.state,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
      cut: round.cut.includes(shard),
    })),
    aggregateJob: round.aggregate,
    global: aggregate?.state === 'succeeded' ? globalFiles(aggregate) : null,
    metrics: metricsOfRound(state, training, round),
  }
}

/** The round's metrics: each name's samples-weighted mean over its succeeded shards. */
export function metricsOfRound(
  state: State,
  training: Training,
  round: TrainingRound,
): Record<string, number> {
  const latest = round.jobs.map((runs) => state.jobs.get(runs.at(-1) as string) as Job)
  return roundMetrics(latest, training.samples)
}

function globalFiles(aggregate: Job): JobFile[] {
  return (aggregate.result?.outputs ?? []).filter((file) => file.name.startsWith(`${GLOBAL_DIR}/`))
}

/** Each name's samples-weighted mean over the succeeded shards of each one's last line of it;
 * shards whose samples are unknown weigh the same. */
function roundMetrics(
  latest: readonly Job[],
  samples: readonly number[] | null,
): Record<string, number> {
  const sums = new Map<string, { weighted: number; weight: number }>()
  for (const [shard, job] of latest.entries()) {
    if (job.state !== 'succeeded') continue
    const weight = samples?.[shard] ?? 1
    for (const [name, value] of metricsOf(job)) {
      if (!sums.has(name) && sums.size >= TRAINING_METRICS_MAX) continue
      const sum = sums.get(name) ?? { weighted: 0, weight: 0 }
      sum.weighted += weight * value
      sum.weight += weight
      sums.set(name, sum)
    }
  }
  const out: Record<string, number> = {}
  for (const [name, sum] of sums) {
    if (sum.weight > 0) out[name] = sum.weighted / sum.weight
  }
  return out
}

/** A finished job's result never changes, so its metrics are read from its tail once: a view
 * of a long training would otherwise parse every round's tails again on every read. Weak, so
 * the cache holds nothing the state no longer does. */
const parsedResults = new WeakMap<JobResult, Map<string, number>>()

function metricsOf(job: Job): Map<string, number> {
  if (job.result === null) return new Map()
  let metrics = parsedResults.get(job.result)
  if (metrics === undefined) {
    metrics = lastMetrics(job.result.stdoutTail)
    parsedResults.set(job.result, metrics)
  }
  return metrics
}

/** The last value of each metric a shard printed, one `{"metric", "value"}` object a line;
 * any other line is ignored. */
export function lastMetrics(stdout: string): Map<string, number> {
  const found = new Map<string, number>()
  for (const line of stdout.split('\n')) {
    const metric = parseMetric(line.trim())
    if (metric === null) continue
    found.delete(metric.name)
    found.set(metric.name, metric.value)
  }
  return found
}

function parseMetric(line: string): { name: string; value: number } | null {
  if (!line.startsWith('{') || !line.endsWith('}')) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    // Not JSON: a line the script printed for a person.
    return null
  }
  const { metric, value } = parsed as { metric?: unknown; value?: unknown }
  if (typeof metric !== 'string' || typeof value !== 'number' || !Number.isFinite(value)) {
    return null
  }
  if (metric.length > TRAINING_METRIC_NAME_BYTES_MAX || !METRIC_NAME.test(metric)) return null
  return metric === '__proto__' ? null : { name: metric, value }
}
