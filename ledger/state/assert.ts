/** Thrown when an invariant the code relies on is broken: a bug, never an expected failure.
 * Crashing is safer than carrying on with a ledger that no longer adds up. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'InvariantError'
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message)
}
