// What a client proposal carries in a Raft entry: a unique id and the log time of its first
// attempt, which a retry reuses (the ledger takes each id effect once, ledger/state), the log
// time this attempt was stamped with, and the ledger command. Every replica decodes the same
// bytes into the same ledger Entry.
import type { Command } from '../../ledger/state/index.ts'

export interface Proposal {
  readonly id: string
  /** Log time of the first attempt: the ledger's dedup window counts from it. */
  readonly proposedAt: number
  /** Stamped by the proposing leader from the simulated clock; apply never reads a clock. */
  readonly logTime: number
  readonly command: Command
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeProposal(proposal: Proposal): Uint8Array {
  return encoder.encode(JSON.stringify(proposal))
}

export function decodeProposal(data: Uint8Array): Proposal {
  return JSON.parse(decoder.decode(data)) as Proposal
}
