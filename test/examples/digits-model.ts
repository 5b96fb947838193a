// The digits example's softmax regression evaluated here, in TypeScript, so a test checks the
// accuracy a job printed (and a federated model's) with arithmetic no job did.
import type { NpArray } from '../fixtures/npz.ts'

/** make-data.py's pixel scale: values 0 to 16. */
const PIXEL_MAX = 16

export interface DigitsRows {
  readonly features: readonly Float64Array[]
  readonly labels: readonly number[]
}

/** A CSV of make-data.py: a header, then 64 pixels and the label on each row. */
export function parseDigitsCsv(text: string): DigitsRows {
  const lines = text.trim().split('\n').slice(1)
  const features: Float64Array[] = []
  const labels: number[] = []
  for (const line of lines) {
    const values = line.split(',').map(Number)
    labels.push(values.pop()!)
    features.push(Float64Array.from(values, (value) => value / PIXEL_MAX))
  }
  return { features, labels }
}

/** The share of rows whose largest logit x @ weight + bias is their label. */
export function softmaxAccuracy(
  model: Readonly<Record<string, NpArray>>,
  rows: DigitsRows,
): number {
  const { weight, bias } = model
  if (weight === undefined || bias === undefined) throw new Error('not a weight/bias model')
  const [inputs, classes] = weight.shape as [number, number]
  let right = 0
  rows.features.forEach((x, row) => {
    let best = -Infinity
    let predicted = -1
    for (let digit = 0; digit < classes; digit++) {
      let logit = bias.data[digit]!
      for (let pixel = 0; pixel < inputs; pixel++) {
        logit += x[pixel]! * weight.data[pixel * classes + digit]!
      }
      if (logit > best) [best, predicted] = [logit, digit]
    }
    if (predicted === rows.labels[row]) right += 1
  })
  return right / rows.labels.length
}

/** The value of each `{"metric": NAME, "value": V}` line, the last one of each name. */
export function metricsOf(stdout: string): Record<string, number> {
  const metrics: Record<string, number> = {}
  for (const line of stdout.split('\n')) {
    try {
      const parsed = JSON.parse(line) as { metric?: unknown; value?: unknown }
      if (typeof parsed.metric === 'string' && typeof parsed.value === 'number') {
        metrics[parsed.metric] = parsed.value
      }
    } catch {
      // Not a metric line: the contract says such lines are ignored.
    }
  }
  return metrics
}
