// The daemon's Prometheus registry: prom-client's process and Node.js metrics under their
// standard names (`process_*`, `nodejs_*`), so stock Node dashboards and alerts match them,
// with nothing `promtool check metrics` refuses.
import { Registry, collectDefaultMetrics } from 'prom-client'

/** prom-client's gauges that end in `_total` (prometheus/client_js#283): Prometheus keeps that
 * suffix for counters, so promtool refuses them. Their per-type gauges of the same name
 * without the suffix stay and carry the same count: `sum(nodejs_active_handles)`. */
const GAUGES_NAMED_AS_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const

/** A registry with the default process metrics, for one daemon. */
export function createDaemonRegistry(): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  for (const name of GAUGES_NAMED_AS_COUNTERS) registry.removeSingleMetric(name)
  return registry
}
