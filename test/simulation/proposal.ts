// What a client proposal carries in a Raft entry: a unique id (so the simulator can check that
// every acknowledged proposal is applied exactly once), the log time the proposer stamped, and
// the ledger command. Every replica decodes the same bytes into the same ledger Entry.
import type { Command } from '../../ledger/state/index.ts'

export interface Proposal {
  readonly id: string
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
