// The figures of mesh-throughput (bench-mesh-throughput.ts): the coordinator's job counts
// sampled through the window, rates from them, and what a settled job costs in log entries and
// in CPU, which unlike the rates do not depend much on what else the machine runs.
import type { RpcClient } from '../protocol/index.ts'
import type { JobState } from '../protocol/index.ts'
import type { MeshCluster } from './lib/mesh-cluster.ts'
import { processCpuMs } from './lib/process-cpu.ts'

const FINAL: readonly JobState[] = ['succeeded', 'failed', 'timed_out', 'cancelled']
const SETTLED: readonly JobState[] = ['succeeded', 'failed', 'timed_out']

export interface Counts {
  readonly atMs: number
  readonly escrowed: number
  readonly placed: number
  readonly finished: number
  readonly settled: number
  /** The coordinator's applied index: log entries of every kind. */
  readonly appliedIndex: number
}

export async function counts(client: RpcClient): Promise<Counts> {
  const { jobsByState, appliedIndex } = await client.call('mesh.info', {})
  const sum = (states: readonly JobState[]) =>
    states.reduce((total, state) => total + (jobsByState[state] ?? 0), 0)
  const all = Object.values(jobsByState).reduce((total, count) => total + count, 0)
  return {
    atMs: performance.now(),
    escrowed: all,
    placed: all - (jobsByState.queued ?? 0),
    finished: sum(FINAL),
    settled: sum(SETTLED),
    appliedIndex,
  }
}

/** CPU milliseconds each peer's process has used, by index; null where /proc cannot say. */
export async function cpuOf(cluster: MeshCluster): Promise<(number | null)[]> {
  return Promise.all(
    cluster.peers.map((peer) => {
      const pid = peer.daemon?.child.pid
      return pid === undefined ? null : processCpuMs(pid)
    }),
  )
}

/** CPU each peer used over a stretch of time, by index (null where unknown). */
export interface CpuWindow {
  readonly ms: readonly (number | null)[]
  readonly seconds: number
}

export function cpuWindow(
  start: readonly (number | null)[],
  end: readonly (number | null)[],
  seconds: number,
): CpuWindow {
  const ms = end.map((at, index) => {
    const from = start[index]
    return at === null || from === null || from === undefined ? null : at - from
  })
  return { ms, seconds }
}

const round = (value: number, places: number) => Math.round(value * 10 ** places) / 10 ** places

/** What a settled job costs: log entries, and CPU milliseconds of the voters (coordinator or
 * not) and of the executor peers over the window; `marginal` leaves out what the peers spend
 * idle (heartbeats, ticks: measured before the load), which a loaded machine spreads over fewer
 * jobs. */
export function perJob(
  samples: readonly Counts[],
  load: CpuWindow,
  idle: CpuWindow,
  voters: number,
): object {
  const first = samples[0] as Counts
  const last = samples.at(-1) as Counts
  const settled = Math.max(1, last.settled - first.settled)
  const sum = (window: CpuWindow, indexes: number[]) => {
    const used = indexes.map((index) => window.ms[index])
    if (used.length === 0 || used.some((ms) => ms === null || ms === undefined)) return null
    return used.reduce((total: number, ms) => total + (ms as number), 0)
  }
  const perSettled = (indexes: number[]) => {
    const total = sum(load, indexes)
    return total === null ? null : round(total / settled, 3)
  }
  const all = load.ms.map((_, index) => index)
  const loadMs = sum(load, all)
  const idleMs = sum(idle, all)
  return {
    entriesPerSettledJob: round((last.appliedIndex - first.appliedIndex) / settled, 2),
    cpuMsPerSettledJob: {
      all: perSettled(all),
      voters: perSettled(all.filter((index) => index < voters)),
      executorPeers: perSettled(all.filter((index) => index >= voters)),
      eachPeer: load.ms.map((ms) => (ms === null ? null : round(ms / settled, 3))),
      marginal:
        loadMs === null || idleMs === null
          ? null
          : round((loadMs - (idleMs / idle.seconds) * load.seconds) / settled, 3),
    },
    idleCpuMsPerSecond: idle.ms.map((ms) => (ms === null ? null : Math.round(ms / idle.seconds))),
  }
}

export function summarize(
  samples: readonly Counts[],
  client: { sent: number; acknowledged: number; refusals: Record<string, number> },
): object {
  const first = samples[0] as Counts
  const last = samples.at(-1) as Counts
  const seconds = (last.atMs - first.atMs) / 1000
  const rate = (key: Exclude<keyof Counts, 'atMs'>) =>
    Math.round((last[key] - first[key]) / seconds)
  const series = samples.slice(1).map((sample, at) => {
    const before = samples[at] as Counts
    const elapsed = (sample.atMs - before.atMs) / 1000
    return Math.round((sample.settled - before.settled) / elapsed)
  })
  return {
    windowSeconds: Math.round(seconds * 100) / 100,
    perSecond: {
      submitted: Math.round(client.sent / seconds),
      escrowed: rate('escrowed'),
      placed: rate('placed'),
      finished: rate('finished'),
      settled: rate('settled'),
    },
    acknowledgedPerSecond: Math.round(client.acknowledged / seconds),
    settledEachSecond: series,
    refusals: client.refusals,
    totals: { start: first, end: last },
  }
}
