// ReadIndex (Raft thesis section 6.4): a read waits until a quorum confirms, by answering a
// heartbeat that carries the read's context, that this leader was still the leader when the
// read arrived. Only then may it be served at the commit index recorded on arrival.
import type { Message, NodeId } from './types.ts'

interface PendingRead {
  readonly index: number
  /** The request, from this peer or forwarded by a follower. */
  readonly request: Message
  readonly acks: Map<NodeId, boolean>
}

export interface ReleasedRead {
  readonly index: number
  readonly request: Message
}

/** Contexts are compared as strings; callers must make each read's context unique. */
export function contextKey(context: Uint8Array): string {
  let key = ''
  for (const byte of context) key += String.fromCharCode(byte)
  return key
}

export class ReadOnly {
  readonly #pending = new Map<string, PendingRead>()
  #queue: string[] = []
  /** Reads that arrived before the leader committed in its term, oldest first. */
  #postponed: Message[] = []
  readonly #pendingMax: number

  constructor(pendingMax: number) {
    this.#pendingMax = pendingMax
  }

  /** Queues a read at `index`. Returns false when it is a duplicate or the queue is full. */
  add(index: number, request: Message): boolean {
    const key = contextKey(request.context)
    if (this.#pending.has(key) || this.#queue.length >= this.#pendingMax) return false
    this.#pending.set(key, { index, request, acks: new Map() })
    this.#queue.push(key)
    return true
  }

  /** Records that `from` confirmed leadership for the read; returns its acks so far. */
  recordAck(from: NodeId, context: Uint8Array): ReadonlyMap<NodeId, boolean> | undefined {
    const pending = this.#pending.get(contextKey(context))
    if (pending === undefined) return undefined
    pending.acks.set(from, true)
    return pending.acks
  }

  /** Releases the read with `context` and every read queued before it: a quorum that
   * confirmed a later heartbeat also confirmed leadership for the earlier reads. */
  release(context: Uint8Array): ReleasedRead[] {
    const position = this.#queue.indexOf(contextKey(context))
    if (position < 0) return []
    const keys = this.#queue.slice(0, position + 1)
    this.#queue = this.#queue.slice(position + 1)
    const released: ReleasedRead[] = []
    for (const key of keys) {
      const pending = this.#pending.get(key)
      this.#pending.delete(key)
      if (pending !== undefined) released.push(pending)
    }
    return released
  }

  /** The context of the newest pending read, to piggyback on the next heartbeat. */
  lastContext(): Uint8Array | undefined {
    const key = this.#queue[this.#queue.length - 1]
    return key === undefined ? undefined : this.#pending.get(key)?.request.context
  }

  /** Holds a read until the leader commits in its term; false when the queue is full. */
  postpone(request: Message): boolean {
    if (this.#postponed.length >= this.#pendingMax) return false
    this.#postponed.push(request)
    return true
  }

  /** Hands back every postponed read, oldest first, and empties the queue. */
  takePostponed(): Message[] {
    const postponed = this.#postponed
    this.#postponed = []
    return postponed
  }

  reset(): void {
    this.#pending.clear()
    this.#queue = []
    this.#postponed = []
  }
}
