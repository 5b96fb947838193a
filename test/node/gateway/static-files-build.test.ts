// The built app (dist/pwa, rebuilt when its sources are newer) carries a `.br` and a `.gz`
// beside each text file, and the gateway serving that build sends them: the bytes on the wire
// decompress to the very file, hashed assets are immutable and the entry page revalidates.
import { readdir, readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join, relative } from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensurePwaBuilt, PWA_DIST } from '../../e2e/browser.ts'
import { startGateway } from './fixtures/start-gateway.ts'
import type { TestGateway } from './fixtures/start-gateway.ts'

const TEXT_FILE = /\.(html|js|css|webmanifest|json|svg)$/
/** Below this a compressed copy saves next to nothing, so the build need not write one. */
const WORTH_COMPRESSING_BYTES = 1024

function rawGet(port: number, path: string, acceptEncoding: string) {
  return new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const headers = { 'accept-encoding': acceptEncoding }
    const outgoing = request({ host: '127.0.0.1', port, path, headers }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }))
    })
    outgoing.on('error', reject)
    outgoing.end()
  })
}

describe('the built web app, precompressed', () => {
  let api: TestGateway
  let textFiles: string[]

  beforeAll(async () => {
    await ensurePwaBuilt()
    const entries = await readdir(PWA_DIST, { recursive: true, withFileTypes: true })
    textFiles = entries
      .filter((entry) => entry.isFile() && TEXT_FILE.test(entry.name))
      .map((entry) => relative(PWA_DIST, join(entry.parentPath, entry.name)))
    api = await startGateway({ staticDir: PWA_DIST })
  }, 180_000)
  afterAll(async () => {
    await api?.stop()
  })

  it('should write .br and .gz beside every text file when the file is worth compressing', async () => {
    const large = []
    for (const name of textFiles) {
      const original = await readFile(join(PWA_DIST, name))
      if (original.length < WORTH_COMPRESSING_BYTES) continue
      large.push(name)
      const br = await readFile(join(PWA_DIST, `${name}.br`))
      const gz = await readFile(join(PWA_DIST, `${name}.gz`))
      expect(brotliDecompressSync(br).equals(original), name).toBe(true)
      expect(gunzipSync(gz).equals(original), name).toBe(true)
      expect(br.length, name).toBeLessThan(original.length)
    }
    expect(large).toEqual(expect.arrayContaining(['index.html', 'sw.js']))
    expect(large.some((name) => name.startsWith('assets/') && name.endsWith('.js'))).toBe(true)
  })

  it('should send every built text file compressed when the client accepts br or gzip', async () => {
    for (const name of textFiles) {
      const original = await readFile(join(PWA_DIST, name))
      if (original.length < WORTH_COMPRESSING_BYTES) continue
      const br = await rawGet(api.address.port, `/${name}`, 'gzip, deflate, br, zstd')
      expect(br.headers['content-encoding'], name).toBe('br')
      expect(br.headers['vary'], name).toBe('Accept-Encoding')
      expect(brotliDecompressSync(br.body).equals(original), name).toBe(true)
      const gzip = await rawGet(api.address.port, `/${name}`, 'gzip')
      expect(gunzipSync(gzip.body).equals(original), name).toBe(true)
      const identity = await rawGet(api.address.port, `/${name}`, 'identity')
      expect(identity.headers['content-encoding'], name).toBeUndefined()
      expect(identity.body.equals(original), name).toBe(true)
      const immutable = name.startsWith('assets/')
      expect(br.headers['cache-control'], name).toBe(
        immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      )
    }
  })
})
