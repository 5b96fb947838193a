// A real Prometheus server (Debian's prometheus package, which scripts/setup.sh installs for
// promtool) scraping a real daemon on loopback: the scrape is up with no error, and what the
// daemon counted can be queried under the names the README gives, the label sets known up
// front at 0 and the totals stock Node.js dashboards chart among them.
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'

const hasPrometheus = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0
/** Prometheus starts, reads its config and makes its first scrapes within seconds; a loaded
 * machine may take several times that. */
const SCRAPED_TIMEOUT_MS = 60_000

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

interface Target {
  readonly health: string
  readonly lastError: string
  readonly scrapeUrl: string
}

describe.skipIf(!hasPrometheus)('a Prometheus server scraping the daemon', () => {
  let node: TestDaemon
  let dir: string
  let server: ChildProcess
  let api: string
  let output = ''

  const get = async <T>(path: string): Promise<T> => {
    const answer = (await (await fetch(`${api}${path}`)).json()) as { status: string; data: T }
    expect(answer.status).toBe('success')
    return answer.data
  }
  const query = async (expression: string) => {
    const data = await get<{ result: { metric: object; value: [number, string] }[] }>(
      `/api/v1/query?query=${encodeURIComponent(expression)}`,
    )
    return data.result.map((sample) => sample.value[1])
  }

  beforeAll(async () => {
    node = await startTestDaemon({ executor: false })
    await node.call('account.balance', {})
    await expect(node.call('job.get', { id: 'jnosuchjob1' })).rejects.toMatchObject({
      name: 'NOT_FOUND',
    })
    dir = await mkdtemp(join(tmpdir(), 'gridx-prometheus-'))
    const target = new URL(node.daemon.address.url).host
    const config = [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: gridx',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n')
    await writeFile(join(dir, 'prometheus.yml'), config)
    const port = await freePort()
    api = `http://127.0.0.1:${port}`
    server = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const deadline = Date.now() + SCRAPED_TIMEOUT_MS
    for (;;) {
      const targets = await get<{ activeTargets: Target[] }>('/api/v1/targets').catch(() => null)
      const scraped = targets?.activeTargets[0]
      if (scraped !== undefined && scraped.health !== 'unknown') break
      if (Date.now() > deadline) throw new Error(`no scrape in ${SCRAPED_TIMEOUT_MS} ms: ${output}`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }, SCRAPED_TIMEOUT_MS + 30_000)

  afterAll(async () => {
    if (server !== undefined && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve))
      server.kill('SIGTERM')
      await exited
    }
    await node?.destroy()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('should scrape the daemon with no error when Prometheus reads /metrics', async () => {
    const { activeTargets } = await get<{ activeTargets: Target[] }>('/api/v1/targets')
    expect(activeTargets).toHaveLength(1)
    expect(activeTargets[0]).toMatchObject({ health: 'up', lastError: '' })
    expect(activeTargets[0]?.scrapeUrl).toBe(`${node.daemon.address.url}/metrics`)
  })

  it('should answer queries on what the daemon counted when scraped', async () => {
    expect(await query('gridx_api_requests_total{method="job.get",outcome="error"}')).toEqual(['1'])
    expect(await query('gridx_api_errors_total{code="NOT_FOUND"}')).toEqual(['1'])
    // Known up front, so that the first of a kind shows in rate().
    expect(await query('gridx_api_errors_total{code="QUEUE_FULL"}')).toEqual(['0'])
    expect(await query('gridx_jobs{state="lost"}')).toEqual(['0'])
    expect(await query('gridx_settlements_total{outcome="voided"}')).toEqual(['0'])
    const le = 'gridx_api_request_duration_seconds_bucket{method="account.balance",le="+Inf"}'
    expect(await query(le)).toEqual(['1'])
    expect(await query('nodejs_active_handles_total')).toHaveLength(1)
    expect(await query('process_cpu_seconds_total')).toHaveLength(1)
  })
})
