// Flow control: the appends sent to one follower and not yet acknowledged. A leader stops
// sending to a follower whose window is full, so a slow follower cannot make the leader buffer
// without bound.

interface Inflight {
  readonly index: number
  readonly bytes: number
}

export class Inflights {
  readonly #messagesMax: number
  readonly #bytesMax: number
  #queue: Inflight[] = []
  #head = 0
  #bytes = 0

  /** `bytesMax` of 0 bounds by message count alone. */
  constructor(messagesMax: number, bytesMax: number) {
    this.#messagesMax = messagesMax
    this.#bytesMax = bytesMax
  }

  get count(): number {
    return this.#queue.length - this.#head
  }

  get bytes(): number {
    return this.#bytes
  }

  /** Records an append whose last entry is `index`. Indexes must grow. */
  add(index: number, bytes: number): void {
    this.#queue.push({ index, bytes })
    this.#bytes += bytes
  }

  /** Frees every append whose last index is at or below `index` (they were acknowledged). */
  freeLE(index: number): void {
    while (this.#head < this.#queue.length) {
      const first = this.#queue[this.#head] as Inflight
      if (first.index > index) break
      this.#bytes -= first.bytes
      this.#head++
    }
    // Compact now and then so the array does not grow with every append ever sent.
    if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
  }

  /** Frees the oldest append, as if acknowledged: a heartbeat's answer proves the follower
   * is alive, so an append stuck in a full window was most likely lost. */
  freeFirstOne(): void {
    const first = this.#queue[this.#head]
    if (first !== undefined) this.freeLE(first.index)
  }

  full(): boolean {
    return this.count >= this.#messagesMax || (this.#bytesMax > 0 && this.#bytes >= this.#bytesMax)
  }

  reset(): void {
    this.#queue = []
    this.#head = 0
    this.#bytes = 0
  }
}
