import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cacheControl } from '../../../node/gateway/static-files.ts'
import { startGateway } from './fixtures/start-gateway.ts'
import type { TestGateway } from './fixtures/start-gateway.ts'

const SECRET = 'SECRET-do-not-serve'

/** GETs a raw path, exactly as written (fetch would normalise `..` away first). */
function rawGet(port: number, path: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const outgoing = request({ host: '127.0.0.1', port, path, method: 'GET' }, (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (body += chunk))
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body })
        })
      })
      outgoing.on('error', reject)
      outgoing.end()
    },
  )
}

describe('gateway static files', () => {
  let api: TestGateway
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gridx-static-'))
    const root = join(dir, 'app')
    await mkdir(join(root, 'assets'), { recursive: true })
    await writeFile(join(root, 'index.html'), '<!doctype html><title>Grid-X</title>')
    await writeFile(join(root, 'assets', 'main-B4x9Qk2a.js'), 'console.log(1)')
    await writeFile(join(root, 'assets', 'my-component.css'), 'p { margin: 0 }')
    await writeFile(join(root, 'sw.js'), 'self.skipWaiting()')
    await writeFile(join(root, 'manifest.webmanifest'), '{}')
    await writeFile(join(root, '.env'), SECRET)
    await writeFile(join(dir, 'secret.txt'), SECRET)
    await symlink(join(dir, 'secret.txt'), join(root, 'link.txt'))
    api = await startGateway({ staticDir: root })
  })
  afterAll(async () => {
    await api.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('should serve the entry page with no-cache', async () => {
    const page = await rawGet(api.address.port, '/')
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.headers['cache-control']).toBe('no-cache')
    expect(page.body).toContain('Grid-X')
  })

  it('should serve hashed assets as immutable and the service worker as no-cache', async () => {
    const asset = await rawGet(api.address.port, '/assets/main-B4x9Qk2a.js')
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    const worker = await rawGet(api.address.port, '/sw.js')
    expect(worker.headers['cache-control']).toBe('no-cache')
    const manifest = await rawGet(api.address.port, '/manifest.webmanifest')
    expect(manifest.headers['content-type']).toBe('application/manifest+json; charset=utf-8')
  })

  it('should revalidate a file in assets/ whose name carries no build hash', async () => {
    const plain = await rawGet(api.address.port, '/assets/my-component.css')
    expect(plain.status).toBe(200)
    expect(plain.headers['cache-control']).toBe('no-cache')
  })

  it('should cache only names that end in an 8-character build hash for a year', () => {
    const immutable = 'public, max-age=31536000, immutable'
    for (const hashed of ['index-CMxSjl8G.js', 'code-editor-setup-Cs2Nx3jJ.js', 'a-B_x-9Qk2.css']) {
      expect(cacheControl(`assets/${hashed}`), hashed).toBe(immutable)
    }
    // Words, not hashes: a file served forever under a name that can change is never updated.
    for (const plain of ['code-editor-setup.js', 'app-settings.js', 'my-component.css']) {
      expect(cacheControl(`assets/${plain}`), plain).toBe('no-cache')
    }
    expect(cacheControl('icons/icon-B4x9Qk2a.png')).toBe('no-cache')
  })

  it('should fall back to index.html for app routes but not for missing files', async () => {
    const route = await rawGet(api.address.port, '/jobs/j1234567')
    expect(route.status).toBe(200)
    expect(route.body).toContain('Grid-X')
    expect((await rawGet(api.address.port, '/assets/missing.js')).status).toBe(404)
  })

  const attempts = [
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/..%5csecret.txt',
    '/%2e%2e%5csecret.txt',
    '/.env',
    '/%2eenv',
    '/link.txt',
    '/index.html%00.txt',
    '/%E0%A4%A.txt',
    '//etc/passwd.txt',
  ]
  for (const path of attempts) {
    it(`should refuse the traversal attempt ${path}`, async () => {
      const answer = await rawGet(api.address.port, path)
      expect(answer.body).not.toContain(SECRET)
      expect([400, 404]).toContain(answer.status)
    })
  }

  it('should answer 404 for files when no static directory is configured', async () => {
    const bare = await startGateway()
    expect((await rawGet(bare.address.port, '/index.html')).status).toBe(404)
    await bare.stop()
  })
})
