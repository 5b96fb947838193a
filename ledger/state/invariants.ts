// The ledger's invariants, checked by tests after every step and by the replica on restore.
import { isFinalJobState, SYSTEM_ACCOUNTS } from '../../protocol/index.ts'
import type { State } from './types.ts'

/** Returns every broken invariant, in words; empty when the ledger adds up. */
export function ledgerViolations(state: State): string[] {
  const violations: string[] = []
  let sum = 0
  for (const [name, account] of state.accounts) {
    sum += account.balanceMc
    if (name !== SYSTEM_ACCOUNTS.mint && account.balanceMc < 0) {
      violations.push(`${name} is below zero: ${account.balanceMc}`)
    }
  }
  if (sum !== 0) violations.push(`accounts sum to ${sum}, not zero`)

  const heldBySubmitter = new Map<string, number>()
  let held = 0
  for (const job of state.jobs.values()) {
    if (!job.escrowHeld) continue
    held += job.maxPriceMc
    heldBySubmitter.set(job.submitter, (heldBySubmitter.get(job.submitter) ?? 0) + job.maxPriceMc)
  }
  // A sharded job's reservation (parents.ts) is escrowed for children not yet created.
  for (const parent of state.parents.values()) {
    held += parent.reservedMc
    const mine = heldBySubmitter.get(parent.submitter) ?? 0
    heldBySubmitter.set(parent.submitter, mine + parent.reservedMc)
  }
  const escrow = state.accounts.get(SYSTEM_ACCOUNTS.escrow)?.balanceMc ?? 0
  if (escrow !== held) violations.push(`escrow holds ${escrow} but open jobs reserve ${held}`)
  for (const [name, account] of state.accounts) {
    const expected = heldBySubmitter.get(name) ?? 0
    if (account.escrowedMc !== expected) {
      violations.push(`${name} shows ${account.escrowedMc} escrowed, jobs hold ${expected}`)
    }
  }
  let open = 0
  for (const job of state.jobs.values()) {
    if (isFinalJobState(job.state)) continue
    open++
    if (!state.unfinished.has(job.id)) violations.push(`open job ${job.id} missing from the index`)
  }
  if (open !== state.unfinished.size) {
    violations.push(`${state.unfinished.size} jobs indexed as open, ${open} are`)
  }
  return violations
}
