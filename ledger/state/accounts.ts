// Accounts and double-entry transfers. Every credit comes from `mint`; every transfer debits one
// account and credits another by the same amount, so the balances always sum to zero.
import { DEFAULT_POLICY, SYSTEM_ACCOUNTS } from '../../protocol/index.ts'
import { assert } from './assert.ts'
import type { Account, State, Transfer } from './types.ts'

export function createState(): State {
  const state: State = {
    policy: DEFAULT_POLICY,
    mesh: null,
    peers: new Map(),
    accounts: new Map(),
    transfers: [],
    transferIds: new Map(),
    jobs: new Map(),
    parents: new Map(),
    jobOrder: [],
    unfinished: new Set(),
    changedJobs: new Set(),
    submissions: new Map(),
    queue: [],
    executors: new Map(),
    sessions: new Map(),
    appliedIndex: 0,
    logTime: 0,
  }
  for (const name of Object.values(SYSTEM_ACCOUNTS)) ensureAccount(state, name)
  return state
}

const SYSTEM_ACCOUNT_NAMES: readonly string[] = Object.values(SYSTEM_ACCOUNTS)

/** The mesh's own accounts: they neither submit jobs nor own executors. */
export function isSystemAccount(name: string): boolean {
  return SYSTEM_ACCOUNT_NAMES.includes(name)
}

export function ensureAccount(state: State, name: string): Account {
  let account = state.accounts.get(name)
  if (account === undefined) {
    account = { balanceMc: 0, escrowedMc: 0, transfers: [] }
    state.accounts.set(name, account)
  }
  return account
}

/** A transfer to post; the ledger stamps when (`at`) and where in the log (`index`). */
export type TransferRequest = Omit<Transfer, 'at' | 'index'>

/** Posts a transfer. Callers check funds first: a debit that would take an account other than
 * the mint below zero is a bug in the caller, and crashes. Zero amounts post nothing. */
export function postTransfer(state: State, request: TransferRequest): void {
  assert(Number.isSafeInteger(request.amountMc), `transfer ${request.id}: amount not an integer`)
  assert(request.amountMc >= 0, `transfer ${request.id}: negative amount`)
  assert(request.debit !== request.credit, `transfer ${request.id}: debit equals credit`)
  assert(!state.transferIds.has(request.id), `transfer ${request.id}: id reused`)
  if (request.amountMc === 0) return
  const debit = ensureAccount(state, request.debit)
  const credit = ensureAccount(state, request.credit)
  assert(
    request.debit === SYSTEM_ACCOUNTS.mint || debit.balanceMc >= request.amountMc,
    `transfer ${request.id}: ${request.debit} would go below zero`,
  )
  const position = state.transfers.length
  state.transfers.push({ ...request, at: state.logTime, index: state.appliedIndex })
  state.transferIds.set(request.id, position)
  debit.balanceMc -= request.amountMc
  credit.balanceMc += request.amountMc
  debit.transfers.push(position)
  credit.transfers.push(position)
}

/** Opens an account and grants it the policy's join grant from the mint, once. */
export function openAccount(state: State, name: string): { created: boolean } {
  const grantId = `grant:${name}`
  if (state.transferIds.has(grantId) || state.accounts.has(name)) {
    return { created: false }
  }
  ensureAccount(state, name)
  postTransfer(state, {
    id: grantId,
    debit: SYSTEM_ACCOUNTS.mint,
    credit: name,
    amountMc: state.policy.joinGrantMc,
    kind: 'grant',
    jobId: null,
  })
  return { created: true }
}
