// Typed errors of the consensus core. Expected failures (a proposal that cannot be accepted
// now, a storage read below the compaction point) are errors a caller handles; a broken
// invariant is an assertion and stops the process, because continuing could lose data.

/** A config that cannot run: the message names the field and the rule. */
export class RaftConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RaftConfigError'
  }
}

/** The proposal was not appended: no leader, a transfer in progress, a pending conf change. */
export class ProposalDroppedError extends Error {
  constructor(reason: string) {
    super(`proposal dropped: ${reason}`)
    this.name = 'ProposalDroppedError'
  }
}

/** The requested index is below the storage's first index: it was compacted into a snapshot. */
export class CompactedError extends Error {
  constructor(index: number) {
    super(`index ${index} is compacted`)
    this.name = 'CompactedError'
  }
}

/** The requested index is above the storage's last index. */
export class UnavailableError extends Error {
  constructor(index: number) {
    super(`index ${index} is not yet available`)
    this.name = 'UnavailableError'
  }
}

/** A broken invariant of the core: a bug, or storage that lost what it promised to keep. */
export class RaftInvariantError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RaftInvariantError'
  }
}

/** Stops on a broken invariant (TigerBeetle style): never run on with a corrupt log. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new RaftInvariantError(message)
}
