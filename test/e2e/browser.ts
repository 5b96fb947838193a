// Browser helpers for the end-to-end tests: Debian's Chromium through playwright-core (never
// a downloaded browser), a fresh build of the app when the sources are newer, axe-core run in
// the page, and screenshots under test-results/screenshots.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import type { Page } from 'playwright-core'

export { CHROMIUM_PATH, hasChromium, launchChromium } from '../../scripts/lib/chromium.ts'

const execFileAsync = promisify(execFile)

export const REPO_ROOT = resolve(import.meta.dirname, '../..')
export const PWA_DIST = join(REPO_ROOT, 'dist/pwa')
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-results/screenshots')

export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 800 },
} as const

async function newestMtimeMs(dir: string): Promise<number> {
  let newest = 0
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    const info = await stat(join(entry.parentPath, entry.name))
    newest = Math.max(newest, info.mtimeMs)
  }
  return newest
}

/** Builds dist/pwa unless it is newer than every file of pwa/ and the protocol it bundles. */
export async function ensurePwaBuilt(): Promise<void> {
  const built = join(PWA_DIST, 'sw.js')
  if (existsSync(built)) {
    const builtAt = (await stat(built)).mtimeMs
    const sources = Math.max(
      await newestMtimeMs(join(REPO_ROOT, 'pwa')),
      await newestMtimeMs(join(REPO_ROOT, 'protocol')),
    )
    if (builtAt > sources) return
  }
  // A child process: inside vitest NODE_ENV is `test`, which would make Vite build Lit's
  // development mode and skip the service worker registration.
  const vite = join(REPO_ROOT, 'node_modules/.bin/vite')
  await execFileAsync(vite, ['build', '--config', 'pwa/vite.config.ts', '--logLevel', 'warn'], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
    timeout: 120_000,
  })
}

export interface AxeViolation {
  readonly id: string
  readonly impact: string | null
  readonly help: string
  readonly nodes: readonly { readonly target: readonly unknown[] }[]
}

let axeSource: string | undefined

/** Runs axe-core in the page; returns the serious and critical violations. */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= await readFile(join(REPO_ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8')
  if (!(await page.evaluate(() => 'axe' in window))) {
    // Evaluated over the DevTools protocol, not added as an inline <script>: the app's
    // Content-Security-Policy rightly refuses inline scripts, and the test must not weaken it.
    await page.evaluate(axeSource)
  }
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> }
      }
    ).axe
    const result = await axe.run(document, { resultTypes: ['violations'] })
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => ({ target: node.target })),
    }))
  })
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true })
}
