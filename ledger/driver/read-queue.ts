// Linearizable reads (ReadIndex, Raft thesis section 6.4): each read gets a unique context,
// the core answers it with the leader's commit index once a quorum confirmed leadership, and
// the read is served once this peer has applied that index.
import type { RawNode, ReadState } from '../raft/index.ts'
import { WaiterTable } from './waiters.ts'
import type { PendingRead } from './waiters.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class ReadQueue {
  readonly #prefix: string
  readonly #reads = new WaiterTable<void, PendingRead>()
  #made = 0

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
      (resolve, reject) => ({ context, index: null, sentAtTick: null, resolve, reject }),
      { timeoutMs, signal, onSettle: () => undefined },
    )
  }

  /** Hands the core the reads not yet sent (or due to be sent again). */
  handOver(node: RawNode, tick: number): void {
    for (const read of this.#reads.values()) {
      if (read.sentAtTick !== null || read.index !== null) continue
      node.readIndex(read.context)
      read.sentAtTick = tick
    }
  }

  /** Records the read indexes a Ready carried. */
  confirmed(states: readonly ReadState[]): void {
    for (const state of states) {
      const read = this.#reads.get(decoder.decode(state.context))
      if (read !== undefined) read.index = state.index
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
  }
}
