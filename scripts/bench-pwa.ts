// pwa: the web app's weight and speed. Sizes: the gzipped JavaScript the first view needs (the
// entry script and its modulepreloads in index.html; budget 150 KB) and the lazy chunks apart.
// Time: from navigation to the jobs list shown, in Debian's Chromium over loopback against a
// real daemon (its list holds a few finished jobs when Docker is here, else none), cold (new profile) and warm (service
// worker and cache in place), against a baseline measured in the same run: a blank static page
// from the same server, cold and warm alike.
import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import type { Browser, Page } from 'playwright-core'
import { httpCall } from '../protocol/index.ts'
import { summary } from './bench-stats.ts'
import { benchDaemon } from './lib/bench-daemon.ts'
import { launchChromium } from './lib/chromium.ts'

const ROOT = resolve(import.meta.dirname, '..')
const DIST = join(ROOT, 'dist/pwa')
const FIRST_VIEW_GZIP_BYTES_MAX = 150 * 1024
const RUNS = 10
const SEEDED_JOBS = 20
const WAIT_MS = 30_000

interface FileSize {
  readonly file: string
  readonly bytes: number
  readonly gzipBytes: number
}

async function sizeOf(file: string): Promise<FileSize> {
  const bytes = await readFile(join(DIST, file))
  return { file, bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length }
}

const total = (files: readonly FileSize[]) => ({
  bytes: files.reduce((sum, file) => sum + file.bytes, 0),
  gzipBytes: files.reduce((sum, file) => sum + file.gzipBytes, 0),
})

/** The JavaScript index.html loads before the first view: its module script and preloads. */
async function sizes() {
  const html = await readFile(join(DIST, 'index.html'), 'utf8')
  const firstView = [
    ...html.matchAll(/<script[^>]+type="module"[^>]+src="\/([^"]+\.js)"/g),
    ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/([^"]+\.js)"/g),
  ].map((match) => match[1]!)
  const all = (await readdir(join(DIST, 'assets'))).filter((name) => name.endsWith('.js'))
  const lazy = all.map((name) => `assets/${name}`).filter((file) => !firstView.includes(file))
  const first = await Promise.all(firstView.map(sizeOf))
  const later = await Promise.all(lazy.map(sizeOf))
  return {
    firstViewJs: {
      files: first,
      ...total(first),
      budgetGzipBytes: FIRST_VIEW_GZIP_BYTES_MAX,
      withinBudget: total(first).gzipBytes <= FIRST_VIEW_GZIP_BYTES_MAX,
    },
    lazyJs: { files: later, ...total(later) },
    serviceWorker: await sizeOf('sw.js'),
  }
}

/** Milliseconds from the navigation's start to `selector` being visible. */
async function timeTo(page: Page, url: string, selector: string): Promise<number> {
  const started = performance.now()
  await page.goto(url, { waitUntil: 'commit' })
  await page.locator(selector).first().waitFor({ timeout: WAIT_MS })
  return performance.now() - started
}

async function measure(browser: Browser, base: string, token: string) {
  const cold = { app: [] as number[], blank: [] as number[] }
  const warm = { app: [] as number[], blank: [] as number[] }
  const list = 'gridx-job-list [data-jobs], gridx-job-list [data-jobs-empty]'
  for (let run = 0; run < RUNS; run++) {
    // Interleaved, each in a fresh profile: drift hits app and baseline alike. The baseline's
    // profile has no service worker (the app's would answer every navigation with the shell).
    const plain = await browser.newContext({ serviceWorkers: 'block' })
    const blank = await plain.newPage()
    cold.blank.push(await timeTo(blank, `${base}/blank.html`, '#blank'))
    warm.blank.push(await timeTo(blank, `${base}/blank.html`, '#blank'))
    await plain.close()
    const context = await browser.newContext()
    const page = await context.newPage()
    cold.app.push(await timeTo(page, `${base}/jobs#token=${token}`, list))
    await page.evaluate(() => navigator.serviceWorker.ready)
    warm.app.push(await timeTo(page, `${base}/jobs`, list))
    await context.close()
  }
  const ratio = (a: number[], b: number[]) =>
    Math.round((summary(a).p50Ms / Math.max(summary(b).p50Ms, 0.1)) * 100) / 100
  return {
    jobsListShownMs: { cold: summary(cold.app), warm: summary(warm.app) },
    baselineBlankPageMs: { cold: summary(cold.blank), warm: summary(warm.blank) },
    p50OverBaseline: { cold: ratio(cold.app, cold.blank), warm: ratio(warm.app, warm.blank) },
  }
}

/** Jobs for the list to show; none when this peer cannot run jobs (no Docker engine). */
async function seedJobs(base: string, token: string): Promise<number> {
  let seeded = 0
  for (let index = 0; index < SEEDED_JOBS; index++) {
    const spec = { runtime: 'bash' as const, code: `echo ${index}`, memoryMb: 16, timeoutS: 5 }
    try {
      await httpCall(base, token, 'job.submit', { idempotencyId: `bench-${index}`, spec })
      seeded += 1
    } catch (error) {
      process.stderr.write(`bench pwa: the list stays empty: ${String(error)}\n`)
      break
    }
  }
  return seeded
}

async function buildApp(): Promise<void> {
  await promisify(execFile)(
    join(ROOT, 'node_modules/.bin/vite'),
    ['build', '--config', 'pwa/vite.config.ts', '--logLevel', 'warn'],
    { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' }, timeout: 120_000 },
  )
}

export async function benchPwa(): Promise<object> {
  await buildApp()
  const sized = await sizes()
  // Serve a copy of the build with one blank page added, the baseline's static file.
  const work = await mkdtemp(join(tmpdir(), 'gridx-bench-pwa-'))
  const staticDir = join(work, 'static')
  await cp(DIST, staticDir, { recursive: true })
  await writeFile(
    join(staticDir, 'blank.html'),
    '<!doctype html><title>b</title><p id="blank">b</p>',
  )
  const daemon = benchDaemon(join(work, 'data'), { staticDir })
  let browser: Browser | undefined
  try {
    await daemon.start()
    const base = daemon.address.url
    const seeded = await seedJobs(base, daemon.token)
    browser = await launchChromium()
    const timings = await measure(browser, base, daemon.token)
    return { name: 'pwa', ...sized, ...timings, seededJobs: seeded }
  } finally {
    await browser?.close()
    await daemon.stop()
    await rm(work, { recursive: true, force: true })
  }
}
