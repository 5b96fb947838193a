// Summaries of timing samples, shared by the benchmarks.

/** The sample at `fraction` (0.5 for the median) of the sorted samples, nearest-rank. */
export function percentile(sorted: readonly number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)
  return sorted[Math.max(0, index)] as number
}

const round = (value: number): number => Math.round(value * 10) / 10

/** p50, p90, min, max and mean of samples in milliseconds, to a tenth. */
export function summary(samples: readonly number[]) {
  const sorted = [...samples].sort((a, b) => a - b)
  return {
    p50Ms: round(percentile(sorted, 0.5)),
    p90Ms: round(percentile(sorted, 0.9)),
    minMs: round(sorted[0] as number),
    maxMs: round(sorted.at(-1) as number),
    meanMs: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    runs: sorted.length,
  }
}
