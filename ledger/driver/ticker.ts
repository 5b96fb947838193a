// Logical time for the Raft core. The daemon ticks on a timer; tests tick by hand, so no test
// waits on a real clock for an election.

/** Calls `onTick` once per tick between start() and stop(). */
export interface Ticker {
  start(onTick: () => void): void
  stop(): void
}

export function intervalTicker(tickMs: number): Ticker {
  let timer: ReturnType<typeof setInterval> | undefined
  return {
    start(onTick) {
      timer = setInterval(onTick, tickMs)
      // A daemon with nothing else to do must still be able to exit.
      timer.unref()
    },
    stop() {
      clearInterval(timer)
      timer = undefined
    },
  }
}

/** A ticker the caller advances with tick(); for tests and the simulator. */
export class ManualTicker implements Ticker {
  #onTick: (() => void) | undefined

  start(onTick: () => void): void {
    this.#onTick = onTick
  }

  stop(): void {
    this.#onTick = undefined
  }

  tick(times = 1): void {
    for (let i = 0; i < times; i++) this.#onTick?.()
  }
}
