// `gridx start --allow-origin`: the origins a browser may use the API from, as a user sets them.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_PATH } from '../../protocol/index.ts'
import { runGridx, startGridxDaemon } from '../../scripts/lib/gridx-process.ts'
import type { StartedDaemon } from '../../scripts/lib/gridx-process.ts'

const noDocker = (dataDir: string) => ({ DOCKER_HOST: `unix://${join(dataDir, 'none.sock')}` })

describe('gridx start --allow-origin', () => {
  let dataDir: string
  let daemon: StartedDaemon
  let token: string
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gridx-origins-'))
    const extra = ['--allow-origin', 'https://a.example', '--allow-origin', 'http://b.example:8080']
    daemon = await startGridxDaemon(dataDir, [...extra, '--no-executor'], {
      env: noDocker(dataDir),
    })
    token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  })
  afterAll(async () => {
    daemon?.child.kill('SIGTERM')
    await daemon?.exited
    await rm(dataDir, { recursive: true, force: true })
  })

  const post = (origin: string) =>
    fetch(daemon.apiUrl + API_PATH, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, origin, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'account.balance' }),
    })

  it('should accept each allowed origin and the daemon’s own, and refuse others', async () => {
    expect((await post('https://a.example')).status).toBe(200)
    expect((await post('http://b.example:8080')).status).toBe(200)
    expect((await post(daemon.apiUrl)).status).toBe(200)
    expect((await post('https://c.example')).status).toBe(403)
    expect((await post('http://b.example')).status).toBe(403)
  })

  it('should refuse to start with an --allow-origin that is not an origin', async () => {
    const other = await mkdtemp(join(tmpdir(), 'gridx-origins-bad-'))
    try {
      const result = await runGridx(
        ['start', '--data-dir', other, '--api-port', '0', '--p2p-port', '0'].concat([
          '--allow-origin',
          'https://a.example/app',
        ]),
        { env: noDocker(other) },
      )
      expect(result.code).not.toBe(0)
      expect(result.stderr).toContain('--allow-origin: "https://a.example/app" is not an origin')
    } finally {
      await rm(other, { recursive: true, force: true })
    }
  })
})
