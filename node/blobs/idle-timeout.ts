// One deadline per blob stream that each chunk moves on, instead of a new timer and a combined
// signal per chunk: AbortSignal.any() ties every signal it makes to its sources for as long as
// they live, so one per chunk would pile up on the service's own signal for a long transfer.
export class IdleTimeout {
  readonly #controller = new AbortController()
  readonly #timer: NodeJS.Timeout
  readonly #ms: number
  /** Aborts when `ms` pass without a touch(), or when any of `signals` aborts. */
  readonly signal: AbortSignal

  constructor(ms: number, signals: readonly AbortSignal[]) {
    this.#ms = ms
    this.#timer = setTimeout(() => this.#expire(), ms)
    this.#timer.unref()
    this.signal = AbortSignal.any([...signals, this.#controller.signal])
  }

  /** Moves the deadline to `ms` from now. */
  touch(): void {
    this.#timer.refresh()
  }

  clear(): void {
    clearTimeout(this.#timer)
  }

  #expire(): void {
    const error = new Error(`nothing moved on the blob stream for ${this.#ms} ms`)
    error.name = 'TimeoutError'
    this.#controller.abort(error)
  }
}
