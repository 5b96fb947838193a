// The gateway's Prometheus metrics, registered on the daemon's registry. Label values come
// from closed sets (the method table, the error table), so a client cannot grow cardinality.
import { Counter, Gauge } from 'prom-client'
import type { Registry } from 'prom-client'
import { isMethod } from '../../protocol/index.ts'
import type { ErrorName } from '../../protocol/index.ts'

export type RateLimitScope = 'token' | 'address'

export class GatewayMetrics {
  readonly #requests: Counter<'method' | 'outcome'>
  readonly #errors: Counter<'code'>
  readonly #rateLimited: Counter<'scope'>
  readonly #connections: Gauge

  constructor(registry: Registry) {
    // A restarted gateway on the same registry reuses its metrics instead of failing to
    // register the same name twice.
    this.#requests = reuse(registry, 'gridx_api_requests_total', () => {
      return new Counter({
        name: 'gridx_api_requests_total',
        help: 'API requests answered, by method and outcome',
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
    this.#connections = reuse(registry, 'gridx_api_websocket_connections', () => {
      return new Gauge({
        name: 'gridx_api_websocket_connections',
        help: 'Open API WebSocket connections',
        registers: [registry],
      })
    })
  }

  answered(method: string, error: ErrorName | undefined): void {
    const label = isMethod(method) ? method : 'unknown'
    this.#requests.inc({ method: label, outcome: error === undefined ? 'ok' : 'error' })
    if (error !== undefined) this.#errors.inc({ code: error })
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
}

function reuse<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create()
}
