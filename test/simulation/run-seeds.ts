// Runs a range of seeds and summarizes: violations with their seeds, liveness percentiles.
import type { TestingKnobs } from '../../ledger/raft/index.ts'
import { runSimulation } from './simulation.ts'
import type { SimulationResult } from './simulation.ts'
import type { SimulationOptions } from './profile.ts'

export interface SeedRunOptions {
  readonly first: number
  readonly count: number
  readonly chaosTicks?: number
  readonly testingKnobs?: TestingKnobs
  readonly storageKnobs?: SimulationOptions['storageKnobs']
  readonly replicaKnobs?: SimulationOptions['replicaKnobs']
  /** Stop at the first violation (for the bug-switch tests). */
  readonly stopAtViolation?: boolean
  readonly onResult?: (result: SimulationResult) => void
}

export interface SeedRunSummary {
  readonly seeds: number
  readonly violations: { seed: number; violation: string }[]
  readonly electionTicksAfterHeal: { p50: number; p99: number; max: number }
  readonly acknowledged: number
  readonly messages: number
}

export async function runSeeds(options: SeedRunOptions): Promise<SeedRunSummary> {
  const violations: { seed: number; violation: string }[] = []
  const elections: number[] = []
  let acknowledged = 0
  let messages = 0
  let seeds = 0
  for (let seed = options.first; seed < options.first + options.count; seed++) {
    const result = await runSimulation({
      seed,
      chaosTicks: options.chaosTicks,
      testingKnobs: options.testingKnobs,
      storageKnobs: options.storageKnobs,
      replicaKnobs: options.replicaKnobs,
    })
    seeds++
    options.onResult?.(result)
    acknowledged += result.acknowledged
    messages += result.messages
    if (result.electionTicksAfterHeal !== undefined) elections.push(result.electionTicksAfterHeal)
    if (result.violation !== undefined) {
      violations.push({ seed, violation: result.violation })
      if (options.stopAtViolation === true) break
    }
  }
  elections.sort((a, b) => a - b)
  return {
    seeds,
    violations,
    electionTicksAfterHeal: {
      p50: percentile(elections, 0.5),
      p99: percentile(elections, 0.99),
      max: elections[elections.length - 1] ?? 0,
    },
    acknowledged,
    messages,
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number
}
