// The daemon's registry on its own: prom-client's process and Node.js metrics under the names
// stock dashboards query, and a scrape that Prometheus's linter passes.
import { describe, expect, it } from 'vitest'
import { createDaemonRegistry } from '../../../node/daemon/daemon-metrics.ts'
import { promtoolCheck } from '../../fixtures/promtool.ts'

describe('createDaemonRegistry', () => {
  it('should keep the active handles and requests totals that stock dashboards chart', async () => {
    const text = await createDaemonRegistry().metrics()
    // Kiali's and Grafana's Node.js dashboards chart these two by these names.
    expect(text).toMatch(/^nodejs_active_handles_total \d+$/m)
    expect(text).toMatch(/^nodejs_active_requests_total \d+$/m)
    expect(text).toMatch(/^nodejs_active_resources_total \d+$/m)
    expect(text).toMatch(/^process_cpu_seconds_total \d/m)
    expect(text).not.toMatch(/gridx_process_|process_process_/)
  })

  it('should pass promtool check metrics when the totals are exposed', async () => {
    const verdict = await promtoolCheck(await createDaemonRegistry().metrics())
    expect(verdict.output).toBe('')
    expect(verdict.code).toBe(0)
  })
})
