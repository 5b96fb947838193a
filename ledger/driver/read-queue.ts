// Linearizable reads (ReadIndex, Raft thesis section 6.4). The reads waiting when a turn hands
// them over share one ReadIndex context, as etcd's server batches them: the index the leader
// confirms for it is at least its commit when the last of them arrived, so it serves every
// one, and a burst of reads costs one round of heartbeats instead of one round each. A read
// is served once this peer has applied its batch's index.
import type { RawNode, ReadState } from '../raft/index.ts'
import { WaiterTable } from './waiters.ts'
import type { PendingRead } from './waiters.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

interface BatchedRead extends PendingRead {
  readonly key: string
  /** The context of the batch it was last handed over in; null before its first. */
  batch: string | null
}

export class ReadQueue {
  readonly #prefix: string
  readonly #reads = new WaiterTable<void, BatchedRead>()
  /** Batches handed over and not yet confirmed, by context, with the reads they carry. */
  readonly #batches = new Map<string, BatchedRead[]>()
  #made = 0
  #batchesMade = 0

  /** `prefix` makes contexts unique across peers and starts (the driver's session prefix). */
  constructor(prefix: string) {
    this.#prefix = prefix
  }

  /** Resolves once the read may be served; fails at `timeoutMs` or on `signal`. */
  add(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    const key = `${this.#prefix}/read/${++this.#made}`
    const context = encoder.encode(key)
    return this.#reads.add(
      key,
      (resolve, reject) => ({
        key,
        context,
        index: null,
        sentAtTick: null,
        batch: null,
        resolve,
        reject,
      }),
      { timeoutMs, signal, onSettle: () => undefined },
    )
  }

  /** Hands the core the reads not yet sent (or due to be sent again), as one batch. */
  handOver(node: RawNode, tick: number): void {
    const unsent = [...this.#reads.values()].filter(
      (read) => read.sentAtTick === null && read.index === null,
    )
    if (unsent.length === 0) return
    this.#prune()
    const batch = `${this.#prefix}/reads/${++this.#batchesMade}`
    node.readIndex(encoder.encode(batch))
    for (const read of unsent) {
      read.sentAtTick = tick
      read.batch = batch
    }
    this.#batches.set(batch, unsent)
  }

  /** Records the read indexes a Ready carried, for every read of each confirmed batch. */
  confirmed(states: readonly ReadState[]): void {
    for (const state of states) {
      const batch = decoder.decode(state.context)
      for (const read of this.#batches.get(batch) ?? []) {
        if (read.batch === batch && read.index === null) read.index = state.index
      }
      this.#batches.delete(batch)
    }
  }

  /** Serves every confirmed read whose index this peer has applied. */
  serve(applied: number): void {
    for (const read of [...this.#reads.values()]) {
      if (read.index !== null && read.index <= applied) read.resolve()
    }
  }

  /** Marks unconfirmed reads handed over at or before `tick` (all when undefined) for sending
   * again: the leader they went to may be gone. */
  resend(tick?: number): void {
    this.#reads.resend(tick)
  }

  rejectAll(error: unknown): void {
    this.#reads.rejectAll(error)
    this.#batches.clear()
  }

  /** Forgets batches none of whose reads still wait on them (settled, or sent again in a later
   * batch), so that batches a dead leader never answered do not pile up. */
  #prune(): void {
    for (const [batch, reads] of this.#batches) {
      const waiting = reads.some(
        (read) => read.batch === batch && read.sentAtTick !== null && this.#reads.get(read.key),
      )
      if (!waiting) this.#batches.delete(batch)
    }
  }
}
