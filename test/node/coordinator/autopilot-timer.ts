// A clock and an interval timer that autopilot tests drive by hand: no real time passes.
import type { IntervalTimer } from '../../../node/coordinator/autopilot.ts'

export class ManualClock {
  nowMs = 0

  now(): number {
    return this.nowMs
  }
}

export class ManualTimer implements IntervalTimer {
  readonly #runs = new Map<() => void, number>()

  every(intervalMs: number, run: () => void): () => void {
    const wrapper = (): void => run()
    this.#runs.set(wrapper, intervalMs)
    return () => this.#runs.delete(wrapper)
  }

  /** How many callbacks are scheduled. */
  get scheduled(): number {
    return this.#runs.size
  }

  /** Runs every scheduled callback once, as one interval passing would. */
  fire(): void {
    for (const run of [...this.#runs.keys()]) run()
  }
}
