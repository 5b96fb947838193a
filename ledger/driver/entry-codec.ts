// A ledger entry's bytes inside a Raft entry. The Raft index is the ledger's index, so it is
// not stored; the rest is JSON, which the ledger's own types already are.
import type { Command, Entry, ProposalId } from '../state/index.ts'

/** What one Raft entry carries: the proposer's stamp of log time, the id, the command. */
export interface EntryPayload {
  readonly logTime: number
  readonly proposal: ProposalId
  readonly command: Command
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodePayload(payload: EntryPayload): Uint8Array {
  return encoder.encode(JSON.stringify(payload))
}

export function decodeEntry(index: number, data: Uint8Array): Entry {
  const payload = JSON.parse(decoder.decode(data)) as EntryPayload
  return { index, logTime: payload.logTime, proposal: payload.proposal, command: payload.command }
}

/** The key a proposal is matched to its caller by. */
export function proposalKey(proposal: ProposalId): string {
  return `${proposal.session}#${proposal.sequence}`
}
