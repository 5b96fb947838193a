import { describe, expect, it } from 'vitest'
import { runSimulation } from './simulation.ts'

describe('runSimulation', () => {
  it('should produce the same run when replayed from the same seed', async () => {
    const first = await runSimulation({ seed: 42 })
    const second = await runSimulation({ seed: 42 })
    expect(second).toEqual(first)
    expect(first.violation).toBeUndefined()
    expect(first.acknowledged).toBeGreaterThan(0)
  })

  it('should produce different runs when seeds differ', async () => {
    expect(await runSimulation({ seed: 1 })).not.toEqual(await runSimulation({ seed: 2 }))
  })
})

describe('runSimulation liveness regressions', () => {
  // Seeds that once broke liveness, each with what broke it.
  it.each([
    [85159, 'delays of up to four ticks after healing let two candidates split every round'],
    [49544, 'six voters drawing from ten timeouts tied and split eight rounds in a row'],
  ])('should elect a leader after healing in seed %i (%s)', async (seed) => {
    const result = await runSimulation({ seed })
    expect(result.violation).toBeUndefined()
    expect(result.electionTicksAfterHeal).toBeDefined()
  })
})
