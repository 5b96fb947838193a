// Precompressed variants: the gateway picks `.br` or `.gz` beside a file by the request's
// Accept-Encoding (q-values included), says so in Content-Encoding and Vary, and falls back
// to the file itself when the client takes neither or no variant was built.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chooseEncoding } from '../../../node/gateway/static-files.ts'
import { startGateway } from './fixtures/start-gateway.ts'
import type { TestGateway } from './fixtures/start-gateway.ts'

interface RawAnswer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: Buffer
}

/** A request with exactly the headers given: fetch would add its own Accept-Encoding. */
function rawGet(port: number, path: string, headers: Record<string, string>, method = 'GET') {
  return new Promise<RawAnswer>((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, method, headers }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => {
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks),
        })
      })
    })
    outgoing.on('error', reject)
    outgoing.end()
  })
}

const SCRIPT = `export const rows = [${Array.from({ length: 400 }, (_, i) => `'row ${i}'`).join(',')}]`
const PAGE = `<!doctype html><title>Grid-X</title>${'<p>the mesh</p>'.repeat(200)}`

describe('gateway static files, precompressed', () => {
  let api: TestGateway
  let dir: string
  const get = (path: string, headers: Record<string, string> = {}) =>
    rawGet(api.address.port, path, headers)

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gridx-static-encoding-'))
    await mkdir(join(dir, 'assets'))
    const script = join(dir, 'assets', 'main-B4x9Qk2a.js')
    await writeFile(script, SCRIPT)
    await writeFile(`${script}.br`, brotliCompressSync(SCRIPT))
    await writeFile(`${script}.gz`, gzipSync(SCRIPT))
    await writeFile(join(dir, 'index.html'), PAGE)
    await writeFile(join(dir, 'index.html.br'), brotliCompressSync(PAGE))
    await writeFile(join(dir, 'index.html.gz'), gzipSync(PAGE))
    await writeFile(join(dir, 'assets', 'plain-C5y0Rl3b.css'), 'p { color: red }')
    api = await startGateway({ staticDir: dir })
  })
  afterAll(async () => {
    await api?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('should serve the brotli variant when the client accepts br', async () => {
    const answer = await get('/assets/main-B4x9Qk2a.js', { 'accept-encoding': 'gzip, deflate, br' })
    expect(answer.headers['content-encoding']).toBe('br')
    expect(answer.headers['vary']).toBe('Accept-Encoding')
    expect(answer.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(answer.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(Number(answer.headers['content-length'])).toBe(answer.body.length)
    expect(answer.body.length).toBeLessThan(SCRIPT.length)
    expect(brotliDecompressSync(answer.body).toString()).toBe(SCRIPT)
  })

  it('should serve the gzip variant when the client accepts only gzip', async () => {
    const answer = await get('/assets/main-B4x9Qk2a.js', { 'accept-encoding': 'gzip' })
    expect(answer.headers['content-encoding']).toBe('gzip')
    expect(answer.headers['vary']).toBe('Accept-Encoding')
    expect(gunzipSync(answer.body).toString()).toBe(SCRIPT)
  })

  it('should follow the q-values when the client prefers gzip to br', async () => {
    const answer = await get('/assets/main-B4x9Qk2a.js', { 'accept-encoding': 'br;q=0.5, gzip' })
    expect(answer.headers['content-encoding']).toBe('gzip')
    const refused = await get('/assets/main-B4x9Qk2a.js', { 'accept-encoding': 'br;q=0, *' })
    expect(refused.headers['content-encoding']).toBe('gzip')
  })

  it('should serve the file itself when the client accepts no compression', async () => {
    for (const accept of [undefined, 'identity', 'br;q=0, gzip;q=0', 'deflate']) {
      const answer = await get(
        '/assets/main-B4x9Qk2a.js',
        accept ? { 'accept-encoding': accept } : {},
      )
      expect(answer.headers['content-encoding']).toBeUndefined()
      expect(answer.headers['vary']).toBe('Accept-Encoding')
      expect(answer.body.toString()).toBe(SCRIPT)
    }
  })

  it('should compress the entry page and keep it no-cache when an app route falls back', async () => {
    const answer = await get('/jobs/j1234567', { 'accept-encoding': 'br' })
    expect(answer.headers['content-encoding']).toBe('br')
    expect(answer.headers['cache-control']).toBe('no-cache')
    expect(answer.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(brotliDecompressSync(answer.body).toString()).toBe(PAGE)
  })

  it('should give the variant length to HEAD when the client accepts br', async () => {
    const head = await rawGet(api.address.port, '/', { 'accept-encoding': 'br' }, 'HEAD')
    expect(head.headers['content-encoding']).toBe('br')
    expect(Number(head.headers['content-length'])).toBe(brotliCompressSync(PAGE).length)
    expect(head.body.length).toBe(0)
  })

  it('should serve the file itself when no variant was built for it', async () => {
    const answer = await get('/assets/plain-C5y0Rl3b.css', { 'accept-encoding': 'br, gzip' })
    expect(answer.headers['content-encoding']).toBeUndefined()
    expect(answer.body.toString()).toBe('p { color: red }')
  })

  it('should not serve a variant file under its own name when asked for directly', async () => {
    const answer = await get('/assets/main-B4x9Qk2a.js.br', {})
    expect(answer.status).toBe(404)
  })
})

describe('chooseEncoding', () => {
  const both = ['br', 'gzip'] as const
  it('should prefer br when the client weighs br and gzip the same', () => {
    expect(chooseEncoding('gzip, br', both)).toBe('br')
  })
  it('should pick identity when the header is missing or empty', () => {
    expect(chooseEncoding(undefined, both)).toBe('identity')
    expect(chooseEncoding('', both)).toBe('identity')
  })
  it('should read case, spaces and q-values with three decimals when the header is loose', () => {
    expect(chooseEncoding('GZIP ; Q=0.9 ,  Br;q=0.899', both)).toBe('gzip')
  })
  it('should let a wildcard cover codings not named when the header has one', () => {
    expect(chooseEncoding('gzip;q=0.1, *;q=0.5', both)).toBe('br')
    expect(chooseEncoding('*;q=0', both)).toBe('identity')
  })
  it('should ignore a malformed q-value when the header carries one', () => {
    expect(chooseEncoding('br;q=2, gzip;q=abc', both)).toBe('identity')
  })
  it('should pick only among the variants built when the client accepts others', () => {
    expect(chooseEncoding('br', ['gzip'])).toBe('identity')
    expect(chooseEncoding('br, gzip', ['gzip'])).toBe('gzip')
  })
})
