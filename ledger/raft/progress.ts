// The leader's view of one follower (etcd's tracker.Progress). In `probe` the leader sends one
// append at a time until it finds where the logs match; in `replicate` it streams appends,
// bounded by the inflight window; in `snapshot` it waits for a snapshot to land.
import { Inflights } from './inflights.ts'

export type ProgressState = 'probe' | 'replicate' | 'snapshot'

export class Progress {
  /** The highest index known to match the leader's log. */
  match = 0
  /** The next index to send. */
  next: number
  state: ProgressState = 'probe'
  /** In `snapshot`: the index of the snapshot sent. */
  pendingSnapshot = 0
  /** Heard from within the last election timeout (CheckQuorum). */
  recentActive = true
  /** In `probe`: an append is out; wait for its answer or the next heartbeat. */
  probeSent = false
  isLearner: boolean
  readonly inflights: Inflights

  constructor(next: number, isLearner: boolean, messagesMax: number, bytesMax: number) {
    this.next = next
    this.isLearner = isLearner
    this.inflights = new Inflights(messagesMax, bytesMax)
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      // Its log now ends at the snapshot, or the snapshot failed and match still holds.
      this.next = Math.max(this.match + 1, this.pendingSnapshot + 1)
    } else {
      this.next = this.match + 1
    }
    this.#reset('probe')
  }

  becomeReplicate(): void {
    this.next = this.match + 1
    this.#reset('replicate')
  }

  becomeSnapshot(index: number): void {
    this.#reset('snapshot')
    this.pendingSnapshot = index
  }

  #reset(state: ProgressState): void {
    this.state = state
    this.probeSent = false
    this.pendingSnapshot = 0
    this.inflights.reset()
  }

  /** An acknowledgement up to `index`. Returns false when it tells nothing new. */
  maybeUpdate(index: number): boolean {
    let updated = false
    if (this.match < index) {
      this.match = index
      updated = true
      this.probeSent = false
    }
    this.next = Math.max(this.next, index + 1)
    return updated
  }

  /**
   * A rejection of the append after `rejected`; `matchHint` is the follower's guess of the last
   * index that may match. Returns false for a stale rejection that must be ignored.
   */
  maybeDecreaseTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false
      this.next = this.match + 1
      return true
    }
    if (this.next - 1 !== rejected) return false
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1)
    this.probeSent = false
    return true
  }

  /** Records an append of entries up to `lastIndex` (0 entries: a bare probe). */
  sentEntries(count: number, lastIndex: number, bytes: number): void {
    if (this.state === 'replicate' && count > 0) {
      this.next = lastIndex + 1
      this.inflights.add(lastIndex, bytes)
    } else if (this.state === 'probe') {
      this.probeSent = true
    }
  }

  isPaused(): boolean {
    if (this.state === 'probe') return this.probeSent
    if (this.state === 'replicate') return this.inflights.full()
    return true
  }
}
