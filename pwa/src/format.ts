// How amounts, times and sizes read on screen. Amounts are millicredits on the wire.
import { MILLICREDITS_PER_CREDIT } from '../../protocol/index.ts'
import type { JobState } from '../../protocol/index.ts'

/** `1234` millicredits → `1.234 cr`; trailing zeros dropped (`1 cr`, `0.5 cr`). */
export function formatCredits(millicredits: number | null | undefined): string {
  if (millicredits === null || millicredits === undefined) return '—'
  const credits = millicredits / MILLICREDITS_PER_CREDIT
  const text = credits.toFixed(3).replace(/\.?0+$/, '')
  return `${text} cr`
}

export function formatDurationMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
  const minutes = Math.floor(ms / 60_000)
  const seconds = Math.round((ms % 60_000) / 1000)
  return `${minutes} min ${seconds} s`
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—'
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—'
  return new Date(ms).toLocaleString()
}

/** A peer id or account key, shortened for tables; the full text goes in a title. */
export function shortId(id: string | null | undefined): string {
  if (id === null || id === undefined) return '—'
  return id.length <= 16 ? id : `${id.slice(0, 8)}…${id.slice(-6)}`
}

export function stateLabel(state: JobState): string {
  return state.replace('_', ' ')
}
