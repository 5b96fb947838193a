export { apply, activeJobs, skipEntry } from './apply.ts'
export type { SessionRefusal } from './proposals.ts'
export { createState, openAccount } from './accounts.ts'
export { InvariantError, assert } from './assert.ts'
export { ledgerViolations } from './invariants.ts'
export { checkCancel, checkSubmit, escrowExpiresAt, maxPriceOf } from './jobs.ts'
export { checkSubmitParent, childrenOf, parentMaxPriceMc } from './parents.ts'
export { listParents, parentView } from './parent-view.ts'
export { roundDeadline } from './training.ts'
export { checkSubmitTraining, trainingMaxPriceMc } from './training-submit.ts'
export { decodeState, encodeState, restoreState, snapshotState, stateHash } from './snapshot.ts'
export type { StateSnapshot, StoredSession } from './snapshot.ts'
export {
  balanceView,
  historyView,
  jobsByState,
  jobView,
  listJobs,
  unfinishedJobs,
} from './views.ts'
export type * from './types.ts'
