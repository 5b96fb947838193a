// The simulated network: every message gets a random delay (so messages reorder), may be lost
// or duplicated, and is dropped on delivery when a partition cuts its link or its target is
// down. All randomness comes from the run's seeded generator.
import type { Message } from '../../ledger/raft/index.ts'
import type { SeededRandom } from '../../ledger/raft/index.ts'

export interface NetworkFaults {
  /** Probability that a message is lost. */
  loss: number
  /** Probability that a message is delivered twice. */
  duplication: number
  /** Delivery happens 1 to this many ticks after sending. */
  delayTicksMax: number
  /** Probability that a message is held far longer: a retransmission after a stalled link, a
   * queue behind a paused process; it arrives when its sender's world has moved on. */
  longDelay: number
  /** A long-held message arrives up to this many ticks late. */
  longDelayTicksMax: number
}

export type PartitionKind = 'symmetric' | 'asymmetric' | 'bridge' | 'isolate'

export class Network {
  readonly #random: SeededRandom
  readonly #inFlight = new Map<number, Message[]>()
  /** Directed links that drop messages: `${from}>${to}`. */
  readonly #cut = new Set<string>()
  faults: NetworkFaults
  partition: PartitionKind | undefined = undefined
  sent = 0
  delivered = 0

  constructor(random: SeededRandom, faults: NetworkFaults) {
    this.#random = random
    this.faults = faults
  }

  send(message: Message, now: number): void {
    this.sent++
    this.#schedule(message, now)
    if (this.#random.chance(this.faults.duplication)) this.#schedule(message, now)
  }

  #schedule(message: Message, now: number): void {
    const { delayTicksMax, longDelay, longDelayTicksMax } = this.faults
    const long = longDelay > 0 && this.#random.chance(longDelay)
    const at = now + 1 + this.#random.nextInt(long ? longDelayTicksMax : delayTicksMax)
    const bucket = this.#inFlight.get(at)
    if (bucket === undefined) this.#inFlight.set(at, [message])
    else bucket.push(message)
  }

  /** Messages due at `now`, shuffled; the caller drops those `lost` says are lost. */
  due(now: number): Message[] {
    const bucket = this.#inFlight.get(now) ?? []
    this.#inFlight.delete(now)
    return shuffle(this.#random, bucket)
  }

  /** Whether a message due now is lost: cut by a partition, or dropped at random. Decided
   * on delivery, so the sender of a snapshot can be told (its transport would know). */
  lost(message: Message): boolean {
    return this.#cut.has(`${message.from}>${message.to}`) || this.#random.chance(this.faults.loss)
  }

  /**
   * Splits `nodes` in two. Symmetric: no traffic between the sides. Asymmetric: the first side
   * cannot reach the second, but hears from it. Bridge: one node still talks to both sides.
   * Isolate: the first node (the caller puts a leader there) is alone.
   */
  split(kind: PartitionKind, nodes: readonly string[]): void {
    this.#cut.clear()
    this.partition = kind
    if (kind === 'isolate') {
      const [alone, ...rest] = nodes
      if (alone !== undefined) this.#cutBetween([alone], rest, true)
      return
    }
    const ids = shuffle(this.#random, nodes)
    if (kind === 'bridge' && ids.length >= 3) ids.pop()
    const size = 1 + this.#random.nextInt(Math.max(1, ids.length - 1))
    this.#cutBetween(ids.slice(0, size), ids.slice(size), kind !== 'asymmetric')
  }

  #cutBetween(left: readonly string[], right: readonly string[], bothWays: boolean): void {
    for (const a of left) {
      for (const b of right) {
        this.#cut.add(`${a}>${b}`)
        if (bothWays) this.#cut.add(`${b}>${a}`)
      }
    }
  }

  heal(): void {
    this.#cut.clear()
    this.partition = undefined
  }

  /** Drops everything in flight (used when a run ends). */
  clear(): void {
    this.#inFlight.clear()
  }
}

/** A Fisher-Yates shuffle into a new array. */
export function shuffle<T>(random: SeededRandom, items: readonly T[]): T[] {
  const result = [...items]
  for (let i = result.length - 1; i > 0; i--) {
    const j = random.nextInt(i + 1)
    const swap = result[i] as T
    result[i] = result[j] as T
    result[j] = swap
  }
  return result
}
