// What callers of the driver wait on: proposals (matched by id when applied, wherever they
// were proposed) and reads (matched by their ReadIndex context). Each has a timeout and an
// optional signal; the driver sends each again every election timeout until it is answered.
import type { ApplyResult, ProposalId } from '../state/index.ts'
import { NoLeaderError, ProposalAbortedError } from './errors.ts'
import { proposalKey } from './entry-codec.ts'

interface Waiter<T> {
  /** Tick at which it was last handed to the core; null: hand it over on the next turn. */
  sentAtTick: number | null
  readonly resolve: (value: T) => void
  readonly reject: (error: unknown) => void
}

export interface PendingProposal extends Waiter<ApplyResult> {
  readonly proposal: ProposalId
  readonly data: Uint8Array
}

export interface PendingRead extends Waiter<void> {
  readonly context: Uint8Array
  /** The read index the leader confirmed; null until it did. */
  index: number | null
}

/** Waiters of one kind, by key; each settles once, then leaves the table. */
export class WaiterTable<T, W extends Waiter<T>> {
  readonly #waiting = new Map<string, W>()

  get size(): number {
    return this.#waiting.size
  }

  values(): IterableIterator<W> {
    return this.#waiting.values()
  }

  get(key: string): W | undefined {
    return this.#waiting.get(key)
  }

  /** Adds a waiter built from `make`, and settles it with a typed error at `timeoutMs` or when
   * `signal` fires. `onSettle` runs once, however it settles. */
  add(
    key: string,
    make: (resolve: (value: T) => void, reject: (error: unknown) => void) => W,
    options: { timeoutMs: number; signal: AbortSignal | undefined; onSettle: () => void },
  ): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>()
    const started = Date.now()
    const settle = (): void => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      this.#waiting.delete(key)
      options.onSettle()
    }
    const onAbort = (): void => {
      settle()
      reject(new ProposalAbortedError(options.signal?.reason))
    }
    const timer = setTimeout(() => {
      settle()
      reject(new NoLeaderError(Date.now() - started))
    }, options.timeoutMs)
    const waiter = make(
      (value) => (settle(), resolve(value)),
      (error) => (settle(), reject(error)),
    )
    this.#waiting.set(key, waiter)
    if (options.signal?.aborted === true) onAbort()
    else options.signal?.addEventListener('abort', onAbort, { once: true })
    return promise
  }

  /** Settles every waiter with `error` (the driver stopped). */
  rejectAll(error: unknown): void {
    for (const waiter of [...this.#waiting.values()]) waiter.reject(error)
  }

  /** Marks for sending again those handed over at or before `tick` (all when undefined). */
  resend(tick?: number): void {
    for (const waiter of this.#waiting.values()) {
      if (waiter.sentAtTick !== null && (tick === undefined || waiter.sentAtTick <= tick)) {
        waiter.sentAtTick = null
      }
    }
  }
}

export function pendingKey(proposal: ProposalId): string {
  return proposalKey(proposal)
}
