// Rate limits at the door: one bucket per remote address, checked before the token so that
// guessing tokens costs the guesser its own budget, and one bucket per token, checked after.
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

  /** Before authentication: one request from `address`. */
  address(address: string): GridxError | undefined {
    if (this.#byAddress.take(address)) return undefined
    this.#metrics.rateLimited('address')
    return new GridxError('RATE_LIMITED', 'too many requests from this address', {
      scope: 'address',
    })
  }

  /** After authentication: one request under the daemon's token. */
  token(): GridxError | undefined {
    if (this.#byToken.take(TOKEN_KEY)) return undefined
    this.#metrics.rateLimited('token')
    return new GridxError('RATE_LIMITED', 'too many requests for this token', { scope: 'token' })
  }

  /** Both checks for an already authenticated message (WebSocket frames). */
  both(address: string): GridxError | undefined {
    return this.address(address) ?? this.token()
  }
}
