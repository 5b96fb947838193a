// One warn line per refused peer and reason in an interval, the rest at debug: a peer that
// keeps retrying (a removed member's Raft link redials with backoff) must not flood the log,
// and one that is refused is still said once, with its PeerId.
import type { Logger } from 'pino'
import * as constants from './constants.ts'

/** The reason a peer's streams are refused once it is not (or no longer) admitted, shared by
 * a stream's first frame and its later ones so that both count as one refusal. */
export const NOT_ADMITTED = 'peer not admitted'

export interface RefusalLogInit {
  readonly logger: Logger
  readonly intervalMs?: number
  readonly peersMax?: number
  readonly now?: () => number
}

export class RefusalLog {
  readonly #init: RefusalLogInit
  /** `${peer} ${reason}` → when it was last logged at warn, oldest first. */
  readonly #warnedAt = new Map<string, number>()

  constructor(init: RefusalLogInit) {
    this.#init = init
  }

  /** Logs `msg` for a refusal of `peer`: at warn the first time in an interval, else as
   * `${msg} again` at debug. */
  refused(peer: string, reason: string, fields: Record<string, unknown>, msg: string): void {
    const key = `${peer} ${reason}`
    const now = (this.#init.now ?? Date.now)()
    const intervalMs = this.#init.intervalMs ?? constants.REFUSAL_LOG_INTERVAL_MS
    const last = this.#warnedAt.get(key)
    if (last !== undefined && now - last < intervalMs) {
      this.#init.logger.debug({ peer, reason, ...fields }, `${msg} again`)
      return
    }
    this.#warnedAt.delete(key)
    this.#warnedAt.set(key, now)
    const peersMax = this.#init.peersMax ?? constants.REFUSAL_LOG_PEERS_MAX
    for (const oldest of this.#warnedAt.keys()) {
      if (this.#warnedAt.size <= peersMax) break
      this.#warnedAt.delete(oldest)
    }
    this.#init.logger.warn({ peer, reason, ...fields }, msg)
  }
}
