// One ordered queue for the writes to one storage (DESIGN section 3). A write is computed only
// when its turn comes, against the state every earlier write left, and its batch is issued
// only after the earlier batches have landed: two batches in flight at once may land in either
// order (classic-level runs them on libuv's thread pool), so none ever is.
//
// The queue is unbounded by itself because its callers bound it: a Raft driver awaits each
// Ready's save before it takes the next, so at most a save, a compaction and a close wait.
export class WriteQueue {
  #tail: Promise<void> = Promise.resolve()
  readonly #ordered: boolean

  /** `ordered: false` is a bug switch: each write runs at once, as if there were no queue. */
  constructor(options: { readonly ordered: boolean }) {
    this.#ordered = options.ordered
  }

  /**
   * Runs `write` once every write enqueued before it has settled, and settles as it does. A
   * failed write does not stop the ones after it: its error is its own caller's.
   */
  run<T>(write: () => Promise<T>): Promise<T> {
    if (!this.#ordered) return write()
    const result = this.#tail.then(write)
    // The tail only orders; `result` carries the outcome, rejection included, to the caller.
    this.#tail = result.then(settled, settled)
    return result
  }
}

function settled(): void {}
