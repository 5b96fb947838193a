// The safety properties of the Raft paper (Figure 3) plus the application's, checked
// incrementally at every step. Logs are compared through chain hashes: two logs agree up to
// index i exactly when their chain hashes at i are equal.

export class Violation extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'Violation'
  }
}

/** Global knowledge across all nodes, used to check one node's step against the others. */
export class Checkers {
  /** Election safety: at most one leader per term. */
  readonly #leaderOfTerm = new Map<number, string>()
  /** Log matching: `${index}:${term}` to the chain hash of the log up to that entry. */
  readonly #entryHash = new Map<string, number>()
  /** Chain hash of the committed prefix at each index, as first reported by any node. */
  readonly #committedHash: number[] = []
  committedIndexMax = 0
  /** State machine safety: chain hash of the entry applied at each index, and the encoded
   * state after it (compared whole: equality of two strings is cheaper than hashing one). */
  readonly #appliedHash: number[] = []
  readonly #state: string[] = []

  fail(message: string): never {
    throw new Violation(message)
  }

  /** Election safety (5.2). */
  leaderElected(id: string, term: number): void {
    const existing = this.#leaderOfTerm.get(term)
    if (existing !== undefined && existing !== id) {
      this.fail(`election safety: ${existing} and ${id} both lead term ${term}`)
    }
    this.#leaderOfTerm.set(term, id)
  }

  /** Log matching (5.3): the same index and term means the same prefix. */
  entryPersisted(id: string, index: number, term: number, hash: number): void {
    const key = `${index}:${term}`
    const known = this.#entryHash.get(key)
    if (known === undefined) this.#entryHash.set(key, hash)
    else if (known !== hash) {
      this.fail(
        `log matching: ${id} holds a different prefix ending at index ${index} term ${term}`,
      )
    }
  }

  /** The hash any node reported for (index, term), if any. */
  knownHash(index: number, term: number): number | undefined {
    return this.#entryHash.get(`${index}:${term}`)
  }

  committedHashAt(index: number): number | undefined {
    return this.#committedHash[index]
  }

  /** A node moved its commit index: committed prefixes must agree everywhere. */
  committed(id: string, index: number, hash: number | undefined): void {
    if (hash === undefined) return
    const known = this.#committedHash[index]
    if (known === undefined) this.#committedHash[index] = hash
    else if (known !== hash) {
      this.fail(`committed entry changed: ${id} committed a different entry at ${index}`)
    }
    if (index > this.committedIndexMax) this.committedIndexMax = index
  }

  /** Leader completeness (5.4): a new leader holds every entry committed before it. */
  leaderHolds(id: string, term: number, hashAt: (index: number) => number | undefined): void {
    const index = this.committedIndexMax
    if (index === 0) return
    const hash = hashAt(index)
    if (hash === undefined || hash !== this.#committedHash[index]) {
      this.fail(`leader completeness: ${id}, leader of term ${term}, lacks committed ${index}`)
    }
  }

  /** State machine safety (5.4.3): the same entry and the same state at each index. */
  applied(id: string, index: number, hash: number | undefined, state: string | undefined): void {
    const known = this.#appliedHash[index]
    if (hash !== undefined) {
      if (known === undefined) this.#appliedHash[index] = hash
      else if (known !== hash) this.fail(`state machine safety: ${id} applied another ${index}`)
    }
    if (state === undefined) return
    const knownState = this.#state[index]
    if (knownState === undefined) this.#state[index] = state
    else if (knownState !== state) {
      this.fail(`state machine safety: ${id} has a different state after ${index}`)
    }
  }
}
