// The figures of a training job's page, worked out from its TrainingView: each metric's
// points over the rounds, a value axis with round ticks, where each point sits in a chart,
// and each shard's bar within its round. Pure, so that the elements only draw.
import type { RoundView } from '../../protocol/index.ts'

export interface MetricPoint {
  readonly round: number
  readonly value: number
}

export interface MetricSeries {
  readonly name: string
  readonly points: readonly MetricPoint[]
}

/** The metrics the issue names come first, in this order; any others follow by name. */
const FIRST_METRICS = ['loss', 'accuracy']

/** Each metric that a round reported, with its value in every round that reported it. */
export function metricSeries(history: readonly RoundView[]): MetricSeries[] {
  const byName = new Map<string, MetricPoint[]>()
  for (const round of history) {
    for (const [name, value] of Object.entries(round.metrics)) {
      if (!Number.isFinite(value)) continue
      const points = byName.get(name) ?? []
      points.push({ round: round.index, value })
      byName.set(name, points)
    }
  }
  const rank = (name: string) => {
    const at = FIRST_METRICS.indexOf(name)
    return at < 0 ? FIRST_METRICS.length : at
  }
  return [...byName.keys()]
    .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => ({ name, points: byName.get(name)! }))
}

export interface ValueAxis {
  readonly min: number
  readonly max: number
  /** From `min` to `max` inclusive, a round step apart. */
  readonly ticks: readonly number[]
}

/** Ticks wanted on a value axis: enough to read a value off, few enough to label. */
const TICKS_WANTED = 5

/** An axis that spans `values` with round ticks (steps of 1, 2 or 5 times a power of ten). */
export function valueAxis(values: readonly number[]): ValueAxis {
  let low = Math.min(...values)
  let high = Math.max(...values)
  if (!Number.isFinite(low) || !Number.isFinite(high)) return { min: 0, max: 1, ticks: [0, 1] }
  if (low === high) {
    const pad = Math.abs(low) * 0.1 || 1
    low -= pad
    high += pad
  }
  const rough = (high - low) / TICKS_WANTED
  const power = 10 ** Math.floor(Math.log10(rough))
  const step = ([1, 2, 5, 10].find((factor) => factor * power >= rough) ?? 10) * power
  // Whole steps from zero, so that ticks read 0.5, 0.6 and not 0.52, 0.62.
  const first = Math.floor(low / step + 1e-9)
  const last = Math.ceil(high / step - 1e-9)
  const decimals = Math.max(0, -Math.floor(Math.log10(step)))
  const ticks: number[] = []
  for (let at = first; at <= last; at++) ticks.push(Number((at * step).toFixed(decimals)))
  return { min: ticks[0]!, max: ticks.at(-1)!, ticks }
}

/** A chart's size and the margins around its plot, in SVG user units. */
export interface ChartBox {
  readonly width: number
  readonly height: number
  readonly left: number
  readonly right: number
  readonly top: number
  readonly bottom: number
}

/** Where round `round` of `rounds` sits across the plot. */
export function roundX(round: number, rounds: number, box: ChartBox): number {
  const across = box.width - box.left - box.right
  return rounds <= 1 ? box.left + across / 2 : box.left + ((round - 1) / (rounds - 1)) * across
}

/** Where `value` sits up the plot. */
export function valueY(value: number, axis: ValueAxis, box: ChartBox): number {
  const down = box.height - box.top - box.bottom
  return box.top + (1 - (value - axis.min) / (axis.max - axis.min)) * down
}

export function plotPoints(
  points: readonly MetricPoint[],
  rounds: number,
  axis: ValueAxis,
  box: ChartBox,
): { x: number; y: number }[] {
  return points.map((point) => ({
    x: roundX(point.round, rounds, box),
    y: valueY(point.value, axis, box),
  }))
}

export interface ShardBar {
  readonly shard: number
  readonly job: string
  readonly state: RoundView['shards'][number]['state']
  readonly cut: boolean
  /** Fractions of the round's span; null for a shard that never started. */
  readonly start: number | null
  readonly end: number | null
  /** Started and not finished: its bar ends at the latest time the round knows. */
  readonly running: boolean
  readonly durationMs: number | null
}

export interface RoundTimings {
  /** What the bars span: opening to closing, else to the deadline, else to the latest time. */
  readonly spanMs: number
  /** Where the round's deadline falls as a fraction of the span, or null without one. */
  readonly deadline: number | null
  readonly bars: readonly ShardBar[]
}

/** Each shard's bar in one round, from its start to its end, measured from the opening. */
export function roundTimings(round: RoundView, roundTimeoutS: number | null): RoundTimings {
  const opened = round.openedAt
  const times = round.shards.flatMap((shard) => [
    shard.startedAt ?? opened,
    shard.finishedAt ?? opened,
  ])
  const latest = Math.max(opened, ...times)
  const deadlineMs = roundTimeoutS === null ? null : roundTimeoutS * 1000
  const spanMs = Math.max(
    1,
    round.closedAt !== null ? round.closedAt - opened : (deadlineMs ?? latest - opened),
  )
  const fraction = (at: number) => Math.min(1, Math.max(0, (at - opened) / spanMs))
  const bars = round.shards.map((shard): ShardBar => {
    const running = shard.startedAt !== null && shard.finishedAt === null && !shard.cut
    const ends = shard.finishedAt ?? (shard.startedAt === null ? null : latest)
    const endsAt = shard.cut && shard.finishedAt === null ? opened + spanMs : ends
    return {
      shard: shard.shard,
      job: shard.job,
      state: shard.state,
      cut: shard.cut,
      start: shard.startedAt === null ? null : fraction(shard.startedAt),
      end: shard.startedAt === null || endsAt === null ? null : fraction(endsAt),
      running,
      durationMs:
        shard.startedAt !== null && shard.finishedAt !== null && !shard.cut
          ? shard.finishedAt - shard.startedAt
          : null,
    }
  })
  return { spanMs, deadline: deadlineMs === null ? null : Math.min(1, deadlineMs / spanMs), bars }
}
