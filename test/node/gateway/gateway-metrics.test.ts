// The gateway's metrics on their own (the in-memory backend, no Docker): what promtool says of
// them, the label sets that start at 0, and under which method a refused request is counted.
import { Registry } from 'prom-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ERROR_CODES, paramsSchemas, PROPOSAL_TIMEOUT_MS_DEFAULT } from '../../../protocol/index.ts'
import { GatewayMetrics } from '../../../node/gateway/gateway-metrics.ts'
import { promtoolCheck } from '../../fixtures/promtool.ts'
import { startGateway, TestSocket } from './fixtures/start-gateway.ts'
import type { TestGateway } from './fixtures/start-gateway.ts'

const request = (id: number, method: string, params?: unknown) => ({
  jsonrpc: '2.0',
  id,
  method,
  ...(params === undefined ? {} : { params }),
})

describe('gateway metrics', () => {
  let api: TestGateway
  const scrape = async () => (await fetch(`${api.address.url}/metrics`)).text()
  beforeEach(async () => {
    api = await startGateway({ now: () => 0, limits: { tokenBurst: 6, tokenPerS: 1 } })
  })
  afterEach(() => api.stop())

  it('should start every method, error code and rate limit scope at 0', async () => {
    const text = await scrape()
    for (const method of Object.keys(paramsSchemas)) {
      for (const outcome of ['ok', 'error']) {
        expect(text).toContain(
          `gridx_api_requests_total{method="${method}",outcome="${outcome}"} 0`,
        )
      }
      expect(text).toContain(`gridx_api_request_duration_seconds_count{method="${method}"} 0`)
    }
    expect(text).toContain('gridx_api_requests_total{method="unknown",outcome="error"} 0')
    for (const code of Object.keys(ERROR_CODES)) {
      expect(text).toContain(`gridx_api_errors_total{code="${code}"} 0`)
    }
    expect(text).toContain('gridx_api_rate_limited_total{scope="token"} 0')
    expect(text).toContain('gridx_api_rate_limited_total{scope="address"} 0')
  })

  it('should count a request that fails validation under its method', async () => {
    await api.post(request(1, 'job.get', { id: 3 }))
    const socket = await TestSocket.open(api.wsUrl)
    await socket.request(request(2, 'job.get'))
    await socket.request({ jsonrpc: '1.0', id: 3, method: 'job.get', params: {} })
    await socket.request(request(4, 'job.nope'))
    socket.close()
    const text = await scrape()
    expect(text).toContain('gridx_api_requests_total{method="job.get",outcome="error"} 3')
    expect(text).toContain('gridx_api_errors_total{code="INVALID_PARAMS"} 2')
    expect(text).toContain('gridx_api_errors_total{code="INVALID_REQUEST"} 1')
    expect(text).toContain('gridx_api_requests_total{method="unknown",outcome="error"} 1')
    // Durations are kept for the methods of the table only: a client cannot add a series.
    expect(text).toContain('gridx_api_request_duration_seconds_count{method="job.get"} 3')
    expect(text).not.toContain('job.nope')
  })

  it('should pass promtool check metrics after answered and refused requests', async () => {
    const batch = [request(1, 'account.balance'), request(2, 'job.get', {}), 7]
    await api.post(batch)
    await api.post({ jsonrpc: '2.0', method: 'job.submit', params: {} })
    await api.post('{')
    await api.post(request(3, 'mesh.info'))
    await api.post(request(4, 'account.balance'), 'wrong')
    // The six tokens are spent by now: this batch is refused member by member.
    await api.post([request(5, 'account.balance'), request(6, 'account.balance')])
    const text = await scrape()
    expect(text).toMatch(/^gridx_api_rate_limited_total\{scope="token"\} [1-9]/m)
    const verdict = await promtoolCheck(text)
    expect(verdict.output).toBe('')
    expect(verdict.code).toBe(0)
  })
})

describe('gateway request durations', () => {
  it('should put a call that waited out its proposal in a bucket below +Inf', async () => {
    const registry = new Registry()
    const metrics = new GatewayMetrics(registry)
    // A submission whose proposal timed out answers moments past the timeout.
    metrics.answered('job.submit', 'UNAVAILABLE', PROPOSAL_TIMEOUT_MS_DEFAULT / 1000 + 0.2)
    const text = await registry.metrics()
    const pattern =
      /^gridx_api_request_duration_seconds_bucket\{le="([\d.]+)",method="job.submit"\} (\d+)$/gm
    const buckets = [...text.matchAll(pattern)].map(([, le, count]) => [Number(le), Number(count)])
    expect(buckets.length).toBeGreaterThan(5)
    expect(buckets.at(-1)?.[1]).toBe(1)
  })
})
