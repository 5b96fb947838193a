// The first view's JavaScript stays within 150 KB gzipped; the editor loads lazily.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensurePwaBuilt, PWA_DIST } from '../e2e/browser.ts'

const FIRST_VIEW_GZIP_BYTES_MAX = 150 * 1024

describe('the built app', () => {
  beforeAll(async () => {
    await ensurePwaBuilt()
  })

  it('should need at most 150 KB of gzipped JavaScript for the first view, without the editor', async () => {
    const html = await readFile(join(PWA_DIST, 'index.html'), 'utf8')
    const files = [
      ...html.matchAll(/<script[^>]+type="module"[^>]+src="\/([^"]+\.js)"/g),
      ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/([^"]+\.js)"/g),
    ].map((match) => match[1]!)
    expect(files.length).toBeGreaterThan(0)
    let gzipBytes = 0
    for (const file of files) {
      const text = await readFile(join(PWA_DIST, file))
      gzipBytes += gzipSync(text, { level: 9 }).length
      expect(text.toString()).not.toContain('cm-content')
    }
    expect(gzipBytes).toBeLessThanOrEqual(FIRST_VIEW_GZIP_BYTES_MAX)
  })

  it('should ship the manifest, its icons and a service worker', async () => {
    const manifest = JSON.parse(await readFile(join(PWA_DIST, 'manifest.webmanifest'), 'utf8'))
    for (const icon of manifest.icons as { src: string }[]) {
      await expect(readFile(join(PWA_DIST, icon.src))).resolves.toBeDefined()
    }
    expect(await readFile(join(PWA_DIST, 'sw.js'), 'utf8')).toContain('index.html')
  })
})
