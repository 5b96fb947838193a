import { describe, expect, it } from 'vitest'
import { runSimulation } from './simulation.ts'

describe('runSimulation', () => {
  it('should produce the same run when replayed from the same seed', () => {
    const first = runSimulation({ seed: 42 })
    const second = runSimulation({ seed: 42 })
    expect(second).toEqual(first)
    expect(first.violation).toBeUndefined()
    expect(first.acknowledged).toBeGreaterThan(0)
  })

  it('should produce different runs when seeds differ', () => {
    expect(runSimulation({ seed: 1 })).not.toEqual(runSimulation({ seed: 2 }))
  })
})
