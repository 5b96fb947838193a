// The gateway's Prometheus metrics, registered on the daemon's registry. Label values come
// from closed sets (the method table, the error table), so a client cannot grow cardinality,
// and every one of them starts at 0, so that the first of a kind shows in rate().
import { Counter, Gauge, Histogram } from 'prom-client'
import type { Registry } from 'prom-client'
import { ERROR_CODES, isMethod, paramsSchemas } from '../../protocol/index.ts'
import type { ErrorName, Method } from '../../protocol/index.ts'

export type RateLimitScope = 'token' | 'address'

const METHODS = Object.keys(paramsSchemas) as Method[]
const RATE_LIMIT_SCOPES: readonly RateLimitScope[] = ['token', 'address']
/** The method label of a request whose method is not in the table (or not known yet). */
const UNKNOWN_METHOD = 'unknown'

/** Seconds to answer one call: a read answers in well under a millisecond, a submission waits
 * for its log entry to commit (milliseconds on one machine, more across a mesh), a proposal
 * that never commits fails after PROPOSAL_TIMEOUT_MS_DEFAULT (10 s, so it lands in 15), and
 * past a client's 30 s call nobody waits for the answer. */
const REQUEST_DURATION_BUCKETS_S = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30,
]

export class GatewayMetrics {
  readonly #requests: Counter<'method' | 'outcome'>
  readonly #errors: Counter<'code'>
  readonly #rateLimited: Counter<'scope'>
  readonly #duration: Histogram<'method'>
  readonly #connections: Gauge

  constructor(registry: Registry) {
    // A restarted gateway on the same registry reuses its metrics instead of failing to
    // register the same name twice.
    this.#requests = reuse(registry, 'gridx_api_requests_total', () => {
      return new Counter({
        name: 'gridx_api_requests_total',
        help: 'API requests handled (notifications too), by method and outcome',
        labelNames: ['method', 'outcome'],
        registers: [registry],
      })
    })
    this.#errors = reuse(registry, 'gridx_api_errors_total', () => {
      return new Counter({
        name: 'gridx_api_errors_total',
        help: 'API errors answered, by error code name',
        labelNames: ['code'],
        registers: [registry],
      })
    })
    this.#rateLimited = reuse(registry, 'gridx_api_rate_limited_total', () => {
      return new Counter({
        name: 'gridx_api_rate_limited_total',
        help: 'API requests refused by a rate limit, by the bucket that refused',
        labelNames: ['scope'],
        registers: [registry],
      })
    })
    this.#duration = reuse(registry, 'gridx_api_request_duration_seconds', () => {
      return new Histogram({
        name: 'gridx_api_request_duration_seconds',
        help: 'Time from reading an API request of a known method to its answer, by method',
        labelNames: ['method'],
        buckets: REQUEST_DURATION_BUCKETS_S,
        registers: [registry],
      })
    })
    this.#connections = reuse(registry, 'gridx_api_websocket_connections', () => {
      return new Gauge({
        name: 'gridx_api_websocket_connections',
        help: 'Open API WebSocket connections',
        registers: [registry],
      })
    })
    this.#zero()
  }

  /** One request handled, `method` as the client named it; `durationS` from reading it to its
   * answer, for a method in the table. */
  answered(method: string, error: ErrorName | undefined, durationS?: number): void {
    const known = isMethod(method)
    const label = known ? method : UNKNOWN_METHOD
    this.#requests.inc({ method: label, outcome: error === undefined ? 'ok' : 'error' })
    if (error !== undefined) this.#errors.inc({ code: error })
    if (known && durationS !== undefined) this.#duration.observe({ method }, durationS)
  }

  rateLimited(scope: RateLimitScope): void {
    this.#rateLimited.inc({ scope })
  }

  connectionOpened(): void {
    this.#connections.inc()
  }

  connectionClosed(): void {
    this.#connections.dec()
  }

  #zero(): void {
    for (const method of METHODS) {
      for (const outcome of ['ok', 'error']) this.#requests.inc({ method, outcome }, 0)
      this.#duration.zero({ method })
    }
    this.#requests.inc({ method: UNKNOWN_METHOD, outcome: 'error' }, 0)
    for (const code of Object.keys(ERROR_CODES)) this.#errors.inc({ code }, 0)
    for (const scope of RATE_LIMIT_SCOPES) this.#rateLimited.inc({ scope }, 0)
  }
}

function reuse<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create()
}
