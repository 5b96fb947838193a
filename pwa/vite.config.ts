// Builds the app into dist/pwa (served by the daemon), emits the PNG icons, and then has
// Workbox generate the service worker that precaches the shell; last, every text file gets its
// brotli and gzip copies beside it, the service worker included. This file runs in Node at build
// time and is never bundled, so it alone in pwa/ may use node:* (eslint.config.js).
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip } from 'node:zlib'
import { defineConfig } from 'vite'
import type { Plugin } from 'vite'
import { generateSW } from 'workbox-build'
import { drawIcon } from './build/png-icon.ts'

const root = import.meta.dirname
const outDir = `${root}/../dist/pwa`

const brotliAsync = promisify(brotliCompress)
const gzipAsync = promisify(gzip)

/** Text compresses well; images and fonts are compressed in their own format already. */
const TEXT_FILE = /\.(html|js|mjs|css|webmanifest|json|svg|txt|map)$/

interface PrecompressResult {
  readonly files: number
  readonly bytes: number
  readonly brotliBytes: number
}

/** Writes `name.br` and `name.gz` beside every text file under `dir`, so the daemon sends
 * compressed bytes without compressing per request (node/gateway/static-files.ts picks one by
 * Accept-Encoding). Both at their highest level: this runs once per build. A variant that
 * would not be smaller is not written, and the file itself is sent instead. */
async function precompress(dir: string): Promise<PrecompressResult> {
  let files = 0
  let bytes = 0
  let brotliBytes = 0
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !TEXT_FILE.test(entry.name)) continue
    const path = join(entry.parentPath, entry.name)
    const original = await readFile(path)
    const [br, gz] = await Promise.all([
      brotliAsync(original, {
        params: {
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: original.length,
        },
      }),
      gzipAsync(original, { level: constants.Z_BEST_COMPRESSION }),
    ])
    if (br.length < original.length) await writeFile(`${path}.br`, br)
    if (gz.length < original.length) await writeFile(`${path}.gz`, gz)
    files += 1
    bytes += original.length
    brotliBytes += Math.min(br.length, original.length)
  }
  return { files, bytes, brotliBytes }
}

/** The icons the manifest names, drawn at build time (build/png-icon.ts). */
function icons(): Plugin {
  return {
    name: 'gridx-icons',
    apply: 'build',
    generateBundle() {
      const files: [string, number, boolean][] = [
        ['icons/icon-192.png', 192, false],
        ['icons/icon-512.png', 512, false],
        ['icons/icon-maskable-512.png', 512, true],
      ]
      for (const [fileName, size, maskable] of files) {
        this.emitFile({ type: 'asset', fileName, source: drawIcon(size, maskable) })
      }
    },
  }
}

/** The service worker: precaches every built file; navigations fall back to the cached
 * index.html (app routes are paths), except the daemon's own endpoints. */
function serviceWorker(): Plugin {
  return {
    name: 'gridx-service-worker',
    apply: 'build',
    async closeBundle() {
      const { count, size, warnings } = await generateSW({
        globDirectory: outDir,
        globPatterns: ['**/*.{html,js,css,webmanifest,png,svg}'],
        swDest: `${outDir}/sw.js`,
        mode: 'production',
        sourcemap: false,
        inlineWorkboxRuntime: true,
        skipWaiting: true,
        clientsClaim: true,
        cleanupOutdatedCaches: true,
        navigateFallback: '/index.html',
        navigateFallbackDenylist: [/^\/api\//, /^\/healthz/, /^\/metrics/],
        // Vite's hashed names change with the content: no revision query needed for them.
        dontCacheBustURLsMatching: /-[A-Za-z0-9_-]{8,}\.(js|css)$/,
        maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
      })
      for (const warning of warnings) this.warn(warning)
      this.info(`service worker precaches ${count} files, ${(size / 1024).toFixed(0)} KiB`)
      // Here and not in a plugin of its own: closeBundle hooks run in parallel, and sw.js
      // must exist before it is compressed.
      const { files, bytes, brotliBytes } = await precompress(outDir)
      const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`
      this.info(`precompressed ${files} files, ${kib(bytes)} to ${kib(brotliBytes)} with brotli`)
    },
  }
}

export default defineConfig({
  root,
  publicDir: `${root}/public`,
  plugins: [icons(), serviceWorker()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
})
