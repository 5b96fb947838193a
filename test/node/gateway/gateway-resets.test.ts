// Connections reset (TCP RST) at every stage of an exchange. The gateway runs in this
// process, so an error without a handler is an uncaught exception here and fails the run.
import { mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openRaw, upgradeRequest } from './fixtures/raw-socket.ts'
import { RESET_STAGES, resetThenProbe } from './fixtures/reset-stages.ts'
import { startGateway, TOKEN } from './fixtures/start-gateway.ts'
import type { TestGateway } from './fixtures/start-gateway.ts'

describe('gateway under connections reset at every stage', () => {
  let api: TestGateway
  beforeAll(async () => {
    api = await startGateway()
  })
  afterAll(() => api.stop())

  for (const stage of Object.keys(RESET_STAGES)) {
    it(`should stay up and answer /healthz when a client resets ${stage}`, async () => {
      expect(await resetThenProbe(api.address.port, TOKEN, stage)).toContain('HTTP/1.1 200')
      expect((await fetch(`${api.address.url}/healthz`)).status).toBe(200)
    })
  }
})

describe('gateway under hostile headers and frames', () => {
  let api: TestGateway
  beforeAll(async () => {
    api = await startGateway()
  })
  afterAll(() => api.stop())

  it('should answer 431 and close when the headers are larger than Node allows', async () => {
    const raw = await openRaw(api.address.port)
    raw.write(
      `GET /healthz HTTP/1.1\r\nHost: ${raw.host}\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
    )
    await raw.ended()
    expect(raw.received).toMatch(/^HTTP\/1\.1 431 /)
  })

  it('should close with 1009 when a frame announces more than the limit', async () => {
    const raw = await openRaw(api.address.port)
    raw.write(upgradeRequest(raw.host, undefined, { Authorization: `Bearer ${TOKEN}` }))
    await raw.waitFor('\r\n\r\n')
    // A masked text frame that announces 2^40 bytes in its 64-bit length, and sends none.
    const header = Buffer.alloc(14)
    header[0] = 0x81
    header[1] = 0x80 | 127
    header.writeBigUInt64BE(2n ** 40n, 2)
    raw.write(header)
    await raw.ended()
    // The close frame: opcode 8, then the status code 1009 in its first two payload bytes.
    const afterHandshake = Buffer.from(raw.received.split('\r\n\r\n')[1] ?? '', 'latin1')
    expect(afterHandshake[0]).toBe(0x88)
    expect(afterHandshake.readUInt16BE(2)).toBe(1009)
    expect((await fetch(`${api.address.url}/healthz`)).status).toBe(200)
  })
})

describe('gateway when a download of the web app is cut', () => {
  let api: TestGateway
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gridx-download-'))
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>Grid-X</title>')
    await writeFile(join(dir, 'big.bin'), Buffer.alloc(32 * 1024 * 1024, 7))
    api = await startGateway({ staticDir: dir })
  })
  afterAll(async () => {
    await api.stop()
    await rm(dir, { recursive: true, force: true })
  })

  /** File descriptors of this process open on `name` (Linux: /proc/self/fd). */
  const openOn = async (name: string) => {
    const links = await Promise.all(
      (await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
    )
    return links.filter((link) => link.endsWith(name)).length
  }

  it.skipIf(process.platform !== 'linux')(
    'should close the file when a client resets mid-download',
    async () => {
      for (let round = 0; round < 3; round++) {
        const raw = await openRaw(api.address.port)
        raw.write(`GET /big.bin HTTP/1.1\r\nHost: ${raw.host}\r\n\r\n`)
        await raw.waitFor('HTTP/1.1 200')
        raw.reset()
      }
      await expect.poll(() => openOn('big.bin'), { timeout: 5_000 }).toBe(0)
      expect((await fetch(`${api.address.url}/healthz`)).status).toBe(200)
    },
  )
})
