// Builds the app into dist/pwa (served by the daemon), emits the PNG icons, and then has
// Workbox generate the service worker that precaches the shell.
import { defineConfig } from 'vite'
import type { Plugin } from 'vite'
import { generateSW } from 'workbox-build'
import { drawIcon } from './build/png-icon.ts'

const root = import.meta.dirname
const outDir = `${root}/../dist/pwa`

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
