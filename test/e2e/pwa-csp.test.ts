// The web app under the Content-Security-Policy the gateway serves it with: a user's whole
// path (log in, submit, watch the output live, cancel) must not trip the policy once, or the
// browser's console fills with violations and whatever tripped it silently stops working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'
import { hasEngine } from '../fixtures/engine.ts'
import { ensurePwaBuilt, hasChromium, launchChromium, PWA_DIST } from './browser.ts'

/** Bound on any one wait for the page: a job start in Docker plus a margin. */
const WAIT_MS = 45_000

function jobState(page: Page, state: string) {
  return page.locator(`gridx-job-page gridx-state-badge[data-job-state][state="${state}"]`)
}

async function submitJob(page: Page, code: string): Promise<void> {
  await page.locator('nav a[href="/submit"]').click()
  const editor = page.locator('gridx-code-editor .cm-content')
  await editor.waitFor()
  await editor.fill(code)
  await page.locator('gridx-submit-view output[data-price]', { hasText: 'cr' }).waitFor()
  await page.locator('gridx-submit-view [data-submit]').click()
  await page.waitForURL(/\/jobs\/j[0-9a-z]+$/)
}

describe.skipIf(!hasEngine || !hasChromium)('the web app under its CSP', () => {
  let daemon: TestDaemon
  let browser: Browser

  beforeAll(async () => {
    await ensurePwaBuilt()
    daemon = await startTestDaemon({ staticDir: PWA_DIST })
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await daemon?.destroy()
  })

  it('should raise no CSP violation when a job is submitted, watched and cancelled', async () => {
    const page = await (await browser.newContext()).newPage()
    page.setDefaultTimeout(WAIT_MS)
    const violations: string[] = []
    // The page reports each violation as an event, also for code that catches the refusal.
    await page.exposeFunction('reportViolation', (text: string) => violations.push(text))
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        const report = (window as unknown as { reportViolation: (text: string) => void })
          .reportViolation
        report(`${event.violatedDirective} ${event.blockedURI} at ${event.sourceFile}`)
      })
    })
    page.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) violations.push(message.text())
    })
    await page.goto(`${daemon.daemon.address.url}/#token=${daemon.daemon.token}`)
    await page.locator('gridx-job-list h1', { hasText: 'Jobs' }).waitFor()
    await submitJob(page, 'import time\nprint("started", flush=True)\ntime.sleep(60)')
    await page.locator('gridx-output-pane[data-stdout] pre', { hasText: 'started' }).waitFor()
    await page.locator('gridx-job-page [data-cancel]').click()
    await jobState(page, 'cancelled').waitFor()
    expect(violations).toEqual([])
  })
})
