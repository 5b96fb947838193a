import { describe, expect, it } from 'vitest'
import { SeededRandom, message } from '../../ledger/raft/index.ts'
import { Network } from './network.ts'

const TICKS = 1000

/** Sends `count` heartbeats at tick 0 and returns the tick each one arrives at. */
function arrivals(network: Network, count: number): number[] {
  for (let i = 0; i < count; i++) network.send(message('heartbeat', 'n2', 'n1', {}), 0)
  const ticks: number[] = []
  for (let now = 0; now <= TICKS; now++) {
    for (let i = network.due(now).length; i > 0; i--) ticks.push(now)
  }
  return ticks
}

describe('Network', () => {
  it('should deliver within delayTicksMax when no message is delayed long', () => {
    const faults = { loss: 0, duplication: 0, delayTicksMax: 3, longDelay: 0, longDelayTicksMax: 0 }
    const ticks = arrivals(new Network(new SeededRandom(1), faults), 500)
    expect(ticks).toHaveLength(500)
    expect(Math.max(...ticks)).toBeLessThanOrEqual(3)
  })

  it('should hold a share of messages up to longDelayTicksMax when longDelay is set', () => {
    const faults = {
      loss: 0,
      duplication: 0,
      delayTicksMax: 3,
      longDelay: 0.05,
      longDelayTicksMax: 200,
    }
    const ticks = arrivals(new Network(new SeededRandom(1), faults), 2000)
    expect(ticks).toHaveLength(2000)
    const late = ticks.filter((tick) => tick > 3)
    expect(late.length).toBeGreaterThan(50)
    expect(late.length).toBeLessThan(200)
    expect(Math.max(...late)).toBeLessThanOrEqual(203)
    expect(Math.max(...late)).toBeGreaterThan(100)
  })
})
