// A stand-in for the ledger state machine (ledger/state is written in parallel): accounts and
// transfers with the same invariant. Accounts sum to zero; none is negative but the mint. It
// does NOT deduplicate transfer ids, so a transfer applied twice shows up as a violation.
import { hashText } from './hash.ts'

export const MINT = 'mint'
export const ACCOUNTS = [MINT, 'alice', 'bob', 'carol', 'dave'] as const

export interface Transfer {
  readonly id: string
  readonly from: string
  readonly to: string
  readonly amount: number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeTransfer(transfer: Transfer): Uint8Array {
  return encoder.encode(JSON.stringify(transfer))
}

export function decodeTransfer(data: Uint8Array): Transfer {
  return JSON.parse(decoder.decode(data)) as Transfer
}

export class Bank {
  readonly balances = new Map<string, number>()
  readonly applied = new Set<string>()

  constructor() {
    for (const account of ACCOUNTS) this.balances.set(account, 0)
  }

  /** Applies a transfer; returns a violation message if it was applied before. */
  apply(transfer: Transfer): string | undefined {
    if (this.applied.has(transfer.id)) return `transfer ${transfer.id} applied twice`
    this.applied.add(transfer.id)
    const from = this.balances.get(transfer.from) ?? 0
    // Insufficient funds is a normal outcome: the transfer is recorded, nothing moves.
    if (transfer.from !== MINT && from < transfer.amount) return undefined
    this.balances.set(transfer.from, from - transfer.amount)
    this.balances.set(transfer.to, (this.balances.get(transfer.to) ?? 0) + transfer.amount)
    return undefined
  }

  /** The credit invariant, or a message saying how it broke. */
  invariantViolation(): string | undefined {
    let sum = 0
    for (const [account, balance] of this.balances) {
      sum += balance
      if (account !== MINT && balance < 0) return `account ${account} is negative: ${balance}`
    }
    return sum === 0 ? undefined : `accounts sum to ${sum}, not zero`
  }

  stateHash(): number {
    return hashText(JSON.stringify([...this.balances]) + `|${this.applied.size}`)
  }

  encode(): Uint8Array {
    return encoder.encode(
      JSON.stringify({ balances: [...this.balances], applied: [...this.applied] }),
    )
  }

  static decode(data: Uint8Array): Bank {
    const bank = new Bank()
    if (data.byteLength === 0) return bank
    const value = JSON.parse(decoder.decode(data)) as {
      balances: [string, number][]
      applied: string[]
    }
    for (const [account, balance] of value.balances) bank.balances.set(account, balance)
    for (const id of value.applied) bank.applied.add(id)
    return bank
  }
}
