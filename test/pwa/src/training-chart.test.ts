import { describe, expect, it } from 'vitest'
import type { RoundShardView, RoundView } from '../../../protocol/index.ts'
import {
  metricSeries,
  plotPoints,
  roundTimings,
  valueAxis,
} from '../../../pwa/src/training-chart.ts'

function shard(index: number, startedAt: number | null, finishedAt: number | null, cut = false) {
  const state = cut ? 'cancelled' : finishedAt === null ? 'running' : 'succeeded'
  return { shard: index, job: `jp${index}`, state, startedAt, finishedAt, cut } as RoundShardView
}

function round(index: number, metrics: Record<string, number>, extra: Partial<RoundView> = {}) {
  return {
    index,
    state: 'done',
    openedAt: 1_000,
    closedAt: 5_000,
    shards: [],
    aggregateJob: `a${index}`,
    global: null,
    metrics,
    ...extra,
  } as RoundView
}

describe('training chart', () => {
  it('should give each metric its points by round, loss and accuracy first', () => {
    const history = [
      round(1, { accuracy: 0.5, loss: 2, f1: 0.4 }),
      round(2, { accuracy: 0.7, loss: 1.2 }),
      round(3, {}, { state: 'running', closedAt: null }),
    ]
    expect(metricSeries(history)).toEqual([
      {
        name: 'loss',
        points: [
          { round: 1, value: 2 },
          { round: 2, value: 1.2 },
        ],
      },
      {
        name: 'accuracy',
        points: [
          { round: 1, value: 0.5 },
          { round: 2, value: 0.7 },
        ],
      },
      { name: 'f1', points: [{ round: 1, value: 0.4 }] },
    ])
  })

  it('should span the values with round ticks, and pad a range of one value', () => {
    const axis = valueAxis([0.52, 0.91, 0.87])
    expect(axis.min).toBeLessThanOrEqual(0.52)
    expect(axis.max).toBeGreaterThanOrEqual(0.91)
    expect(axis.ticks[0]).toBe(axis.min)
    expect(axis.ticks.at(-1)).toBe(axis.max)
    expect(axis.ticks).toEqual([0.5, 0.6, 0.7, 0.8, 0.9, 1])
    const flat = valueAxis([3, 3])
    expect(flat.min).toBeLessThan(3)
    expect(flat.max).toBeGreaterThan(3)
  })

  it('should place round 1 at the left, the last round at the right and the top value high', () => {
    const box = { width: 300, height: 200, left: 40, right: 10, top: 10, bottom: 30 }
    const axis = { min: 0, max: 1, ticks: [0, 0.5, 1] }
    const points = [
      { round: 1, value: 0 },
      { round: 5, value: 1 },
    ]
    expect(plotPoints(points, 5, axis, box)).toEqual([
      { x: 40, y: 170 },
      { x: 290, y: 10 },
    ])
    // One round: its point in the middle.
    expect(plotPoints([{ round: 1, value: 0.5 }], 1, axis, box)).toEqual([{ x: 165, y: 90 }])
  })

  it('should draw each shard from its start to its end within the round, cut ones marked', () => {
    const timed = round(
      1,
      {},
      {
        openedAt: 10_000,
        closedAt: 20_000,
        shards: [shard(0, 10_000, 15_000), shard(1, 12_000, 20_000), shard(2, 11_000, null, true)],
      },
    )
    const { spanMs, deadline, bars } = roundTimings(timed, null)
    expect(spanMs).toBe(10_000)
    expect(deadline).toBeNull()
    expect(bars.map(({ start, end, cut }) => ({ start, end, cut }))).toEqual([
      { start: 0, end: 0.5, cut: false },
      { start: 0.2, end: 1, cut: false },
      { start: 0.1, end: 1, cut: true },
    ])
    expect(bars.map((bar) => bar.durationMs)).toEqual([5_000, 8_000, null])
  })

  it('should span an open round to its deadline and a running shard to the latest time', () => {
    const open = round(
      2,
      {},
      {
        state: 'running',
        openedAt: 0,
        closedAt: null,
        shards: [shard(0, 1_000, 3_000), shard(1, 2_000, null), shard(2, null, null)],
      },
    )
    const { spanMs, deadline, bars } = roundTimings(open, 10)
    expect(spanMs).toBe(10_000)
    expect(deadline).toBe(1)
    expect(bars[1]).toMatchObject({ start: 0.2, end: 0.3, running: true })
    expect(bars[2]).toMatchObject({ start: null, end: null, running: false })
  })
})
