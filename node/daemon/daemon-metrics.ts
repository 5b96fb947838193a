// The daemon's Prometheus registry: prom-client's process and Node.js metrics under their
// standard names (`process_*`, `nodejs_*`), so stock Node dashboards and alerts match them,
// with nothing `promtool check metrics` refuses.
import { Registry, collectDefaultMetrics } from 'prom-client'
import type { Metric, MetricObjectWithValues, MetricValue } from 'prom-client'

/** prom-client's gauges that end in `_total` (prometheus/client_js#283). Prometheus keeps that
 * suffix for counters, so promtool refuses a gauge of that name; stock Node.js dashboards
 * (Kiali's, Grafana's) chart them by it all the same. They are exposed as `untyped`, which
 * the linter lets end in `_total` and Prometheus stores as it does a gauge. */
const GAUGES_NAMED_AS_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const

type Scraped = MetricObjectWithValues<MetricValue<string>>

/** A registry with the default process metrics, for one daemon. */
export function createDaemonRegistry(): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  for (const name of GAUGES_NAMED_AS_COUNTERS) {
    const metric = registry.getSingleMetric(name) as Metric | undefined
    if (metric !== undefined) exposeUntyped(metric)
  }
  return registry
}

/** Scrapes `metric` as before, with `# TYPE <name> untyped`. */
function exposeUntyped(metric: Metric): void {
  const get = metric.get.bind(metric) as () => Promise<Scraped>
  const untyped = async (): Promise<Scraped> => {
    // The typings call the type an enum; the registry prints the string it holds as given.
    return { ...(await get()), type: 'untyped' as unknown as Scraped['type'] }
  }
  Object.assign(metric, { get: untyped })
}
