// Rate limits at the door, in two separate kinds of bucket. A request that carries the
// daemon's token spends only that token's bucket; one without it, or with a wrong one, spends
// only its remote address's bucket. So a tokenless flood, or a token guesser, from the same
// address as the owner (every loopback process shares 127.0.0.1) never spends the owner's
// budget, and guessing costs the guesser its own.
import { GridxError } from '../../protocol/index.ts'
import type { GatewayLimits } from './constants.ts'
import type { GatewayMetrics } from './gateway-metrics.ts'
import { RateLimiter } from './rate-limiter.ts'

/** The single daemon token's bucket key: one token per daemon (DESIGN section 7). A second
 * token would get its own key here. */
const TOKEN_KEY = 'daemon'

export class Admission {
  readonly #byAddress: RateLimiter
  readonly #byToken: RateLimiter
  readonly #metrics: GatewayMetrics

  constructor(limits: GatewayLimits, now: () => number, metrics: GatewayMetrics) {
    this.#byAddress = new RateLimiter({
      perS: limits.addressPerS,
      burst: limits.addressBurst,
      bucketsMax: limits.rateBucketsMax,
      now,
    })
    this.#byToken = new RateLimiter({
      perS: limits.tokenPerS,
      burst: limits.tokenBurst,
      bucketsMax: limits.rateBucketsMax,
      now,
    })
    this.#metrics = metrics
  }

  /**
   * One request. `authenticated` says whether it carried the daemon's token: if so it spends
   * the token's bucket, else `address`'s. Returns the refusal, if any: RATE_LIMITED past a
   * bucket, else UNAUTHORIZED for a request without the token.
   */
  admit(address: string, authenticated: boolean): GridxError | undefined {
    if (authenticated) return this.token()
    if (!this.#byAddress.take(address)) {
      this.#metrics.rateLimited('address')
      return new GridxError('RATE_LIMITED', 'too many requests from this address', {
        scope: 'address',
      })
    }
    return new GridxError('UNAUTHORIZED', 'unauthorized')
  }

  /** One request under the daemon's token (also each frame of an authenticated WebSocket). */
  token(): GridxError | undefined {
    if (this.#byToken.take(TOKEN_KEY)) return undefined
    this.#metrics.rateLimited('token')
    return new GridxError('RATE_LIMITED', 'too many requests for this token', { scope: 'token' })
  }
}
