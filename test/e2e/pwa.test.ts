// The web app in Debian's Chromium against a real daemon (real Docker executor, LevelDB in a
// temp dir, the built app served by the gateway): log in by URL, live output, cancel, a
// refused job, the settled price in the wallet, install criteria, accessibility, screenshots
// at phone and desktop width, and an offline reload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'
import { hasEngine } from '../fixtures/engine.ts'
import {
  ensurePwaBuilt,
  hasChromium,
  launchChromium,
  PWA_DIST,
  screenshot,
  seriousAxeViolations,
  VIEWPORTS,
} from './browser.ts'

/** Bound on any one wait for the page: a job start in Docker plus a margin. */
const WAIT_MS = 45_000

async function submitJob(page: Page, code: string, limits: Record<string, string> = {}) {
  await page.locator('nav a[href="/submit"]').click()
  const editor = page.locator('gridx-code-editor .cm-content')
  await editor.waitFor({ timeout: WAIT_MS })
  await editor.fill(code)
  for (const [name, value] of Object.entries(limits)) {
    await page.locator(`gridx-submit-view #${name}`).fill(value)
  }
  await page.locator('gridx-submit-view output[data-price]', { hasText: 'cr' }).waitFor()
  await page.locator('gridx-submit-view [data-submit]').click()
  await page.waitForURL(/\/jobs\/j[0-9a-z]+$/, { timeout: WAIT_MS })
  return page.url().split('/').pop()!
}

function jobState(page: Page, state: string) {
  return page.locator(`gridx-job-page gridx-state-badge[data-job-state][state="${state}"]`)
}

async function balanceMc(page: Page): Promise<number> {
  await page.locator('nav a[href="/wallet"]').click()
  const figure = page.locator('gridx-wallet-view [data-balance]:not([data-balance=""])')
  await figure.waitFor({ timeout: WAIT_MS })
  return Number(await figure.getAttribute('data-balance'))
}

describe.skipIf(!hasEngine || !hasChromium)('the web app in Chromium', () => {
  let daemon: TestDaemon
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let baseUrl: string
  const seenJobs: string[] = []

  beforeAll(async () => {
    await ensurePwaBuilt()
    daemon = await startTestDaemon({ staticDir: PWA_DIST })
    baseUrl = daemon.daemon.address.url
    browser = await launchChromium()
    context = await browser.newContext({ viewport: VIEWPORTS.desktop })
    page = await context.newPage()
    page.setDefaultTimeout(WAIT_MS)
  })

  afterAll(async () => {
    await browser?.close()
    await daemon?.destroy()
  })

  it('should log in from the printed URL and take the token out of the address bar', async () => {
    await page.goto(`${baseUrl}/#token=${daemon.daemon.token}`)
    await page.locator('gridx-job-list h1', { hasText: 'Jobs' }).waitFor()
    expect(page.url()).toBe(`${baseUrl}/`)
    const stored = await page.evaluate(() => localStorage.getItem('gridx.api-token'))
    expect(stored).toBe(daemon.daemon.token)
    await page.locator('gridx-job-list [data-jobs-empty]').waitFor()
  })

  it('should say how to get the right URL when the token is missing or refused', async () => {
    const other = await browser.newContext({ viewport: VIEWPORTS.phone })
    const help = await other.newPage()
    await help.goto(`${baseUrl}/`)
    await help.locator('gridx-token-help h1', { hasText: 'Sign in' }).waitFor()
    expect(await help.locator('gridx-token-help .card').innerText()).toContain('gridx start')
    await help.goto(`${baseUrl}/#token=not-the-token`)
    await help.locator('gridx-token-help h1', { hasText: 'refused' }).waitFor()
    expect(await help.locator('gridx-token-help .card').innerText()).toContain('api-token')
    await screenshot(help, 'token-refused-phone')
    expect(await seriousAxeViolations(help)).toEqual([])
    await other.close()
  })

  it('should show a Python job’s output live and charge the settled price', async () => {
    const before = await balanceMc(page)
    const code = [
      'import time',
      'print("tick 0", flush=True)',
      'time.sleep(2)',
      'print("tick 1", flush=True)',
      'time.sleep(1)',
    ].join('\n')
    const id = await submitJob(page, code)
    seenJobs.push(id)
    // The first line arrives while the job still runs: the output is live, not reloaded.
    await page.locator('gridx-output-pane[data-stdout] pre', { hasText: 'tick 0' }).waitFor()
    expect(await jobState(page, 'running').count()).toBe(1)
    await jobState(page, 'succeeded').waitFor()
    expect(await page.locator('gridx-job-page [data-exit-code]').innerText()).toBe('0')
    expect(await page.locator('gridx-output-pane[data-stdout] pre').innerText()).toContain('tick 1')
    const job = await daemon.call('job.get', { id })
    expect(job.priceMc).toBeGreaterThan(0)
    expect(await page.locator('gridx-job-page [data-price]').innerText()).toContain('cr')
    // One machine: the submitter also owns the executor, so it gets the executor's share back.
    const refundedMc = job.executorOwner === job.submitter ? job.executorPaidMc! : 0
    const expected = before - job.priceMc! + refundedMc
    await balanceMc(page)
    await page
      .locator(`gridx-wallet-view [data-balance="${expected}"]`)
      .waitFor({ timeout: WAIT_MS })
    const history = page.locator(`gridx-wallet-view tr[data-transfer] a[href="/jobs/${id}"]`)
    expect(await history.count()).toBeGreaterThanOrEqual(2)
  })

  it('should cancel a running job', async () => {
    const id = await submitJob(page, 'import time\nprint("started", flush=True)\ntime.sleep(60)')
    seenJobs.push(id)
    await jobState(page, 'running').waitFor()
    await page.locator('gridx-job-page [data-cancel]').click()
    await jobState(page, 'cancelled').waitFor()
    expect((await daemon.call('job.get', { id })).state).toBe('cancelled')
  })

  it('should show a refused job’s error next to the field at fault', async () => {
    await page.locator('nav a[href="/submit"]').click()
    await page.locator('gridx-code-editor .cm-content').waitFor()
    await page.locator('gridx-submit-view #memoryMb').fill('8')
    await page.locator('gridx-submit-view [data-submit]').click()
    const error = page.locator('gridx-submit-view [data-error="memoryMb"]')
    await error.waitFor()
    expect(await error.innerText()).toMatch(/memoryMb/)
    expect(await page.locator('gridx-submit-view #memoryMb').getAttribute('aria-invalid')).toBe(
      'true',
    )
    expect(page.url()).toMatch(/\/submit$/)
    // A price beyond the balance: refused for funds, said next to the price and submit button.
    await page.locator('gridx-submit-view #memoryMb').fill('16')
    await page.locator('gridx-submit-view #cpus').fill('2')
    await page.locator('gridx-submit-view #timeoutS').fill('3600')
    await page.locator('gridx-submit-view [data-submit]').click()
    const funds = page.locator('gridx-submit-view [data-error="submit"]')
    await funds.waitFor()
    expect(await funds.innerText()).toMatch(/credits/)
    await screenshot(page, 'submit-refused-desktop')
  })

  it('should meet the install criteria: manifest with icons and start_url, service worker in control', async () => {
    await page.goto(`${baseUrl}/jobs`)
    await page.evaluate(() => navigator.serviceWorker.ready)
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null)
    const manifest = (await (await page.request.get(`${baseUrl}/manifest.webmanifest`)).json()) as {
      start_url: string
      display: string
      name: string
      icons: { src: string; sizes: string; type: string }[]
    }
    expect(manifest.start_url).toBe('/jobs')
    expect(manifest.display).toBe('standalone')
    for (const size of ['192x192', '512x512']) {
      const icon = manifest.icons.find(
        (entry) => entry.sizes === size && entry.type === 'image/png',
      )
      expect(icon, size).toBeDefined()
      const response = await page.request.get(`${baseUrl}${icon!.src}`)
      expect(response.headers()['content-type']).toBe('image/png')
      const bytes = await response.body()
      expect(bytes.readUInt32BE(16)).toBe(Number(size.split('x')[0]))
    }
    const cdp = await context.newCDPSession(page)
    const { installabilityErrors: errors } = (await cdp.send('Page.getInstallabilityErrors')) as {
      installabilityErrors: { errorId: string }[]
    }
    // A Playwright context is an incognito-like profile, which Chromium never offers to install
    // into; every other criterion must hold.
    expect(errors.map((error) => error.errorId).filter((id) => id !== 'in-incognito')).toEqual([])
    await cdp.detach()
  })

  it('should pass axe on every view and write screenshots at phone and desktop width', async () => {
    const views = [
      ['jobs', '/jobs', 'gridx-job-list [data-jobs]'],
      ['job', `/jobs/${seenJobs[0]}`, 'gridx-job-page [data-exit-code]'],
      ['submit', '/submit', 'gridx-code-editor .cm-content'],
      ['wallet', '/wallet', 'gridx-wallet-view [data-history]'],
      ['mesh', '/mesh', 'gridx-mesh-view [data-peer]'],
    ] as const
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme })
      for (const [name, size] of Object.entries(VIEWPORTS)) {
        await page.setViewportSize(size)
        for (const [view, path, ready] of views) {
          await page.goto(`${baseUrl}${path}`)
          await page.locator(ready).first().waitFor()
          const violations = await seriousAxeViolations(page)
          expect(violations, `${view} ${name} ${scheme}`).toEqual([])
          if (scheme === 'light' || name === 'phone') {
            await screenshot(page, `${view}-${name}${scheme === 'dark' ? '-dark' : ''}`)
          }
        }
      }
    }
    await page.emulateMedia({ colorScheme: 'light' })
    await page.setViewportSize(VIEWPORTS.desktop)
  })

  it('should reload offline and show the shell and the cached jobs, and refuse to submit', async () => {
    await page.goto(`${baseUrl}/jobs`)
    await page.locator(`gridx-job-list tr[data-job="${seenJobs[0]}"]`).waitFor()
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null)
    await context.setOffline(true)
    try {
      await page.reload()
      await page.locator('gridx-connection-banner [data-state="offline"]').waitFor()
      await page.locator('gridx-job-list [data-saved]').waitFor()
      for (const id of seenJobs) {
        await page.locator(`gridx-job-list tr[data-job="${id}"]`).waitFor()
      }
      await screenshot(page, 'jobs-offline-desktop')
      expect(await seriousAxeViolations(page)).toEqual([])
      await page.locator('nav a[href="/submit"]').click()
      await page.locator('gridx-submit-view [data-submit]').click()
      const refusal = page.locator('gridx-submit-view [data-error="submit"]')
      await refusal.waitFor()
      expect(await refusal.innerText()).toMatch(/offline/i)
    } finally {
      await context.setOffline(false)
    }
    // Back online: the client reconnects by itself and the banner goes.
    await page.locator('gridx-connection-banner [data-state]').waitFor({ state: 'detached' })
  })
})
