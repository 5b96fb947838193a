// The web app on a phone, in Debian's Chromium against a real daemon (LevelDB in a temp dir,
// noop jobs and one long bash job in Docker): no layout shift while it connects, and at 390x844 with
// touch the jobs table, the submit page and its file picker fit the screen.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { DockerExecutor, withNoopRuntime } from '../../node/executor/index.ts'
import { httpCall } from '../../protocol/client.ts'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'
import { hasEngine } from '../fixtures/engine.ts'
import { ensurePwaBuilt, hasChromium, launchChromium, PWA_DIST, VIEWPORTS } from './browser.ts'

/** Bound on any one wait for the page on a loaded machine. */
const WAIT_MS = 30_000

/** Sums every layout shift not caused by input, from the first paint on (buffered). */
function observeLayoutShifts(): void {
  const sum = { value: 0, sources: [] as string[] }
  ;(window as unknown as { layoutShifts: typeof sum }).layoutShifts = sum
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & {
      value: number
      hadRecentInput: boolean
      sources?: { node?: Node }[]
    })[]) {
      if (entry.hadRecentInput) continue
      sum.value += entry.value
      for (const source of entry.sources ?? []) sum.sources.push(source.node?.nodeName ?? '?')
    }
  }).observe({ type: 'layout-shift', buffered: true })
}

/** The box of an element, reached through the app's shadow roots by a CSS path per level. */
function boxOf(page: Page, path: readonly string[]) {
  return page.evaluate((selectors) => {
    let root: Document | ShadowRoot = document
    let element: Element | null = null
    for (const selector of selectors) {
      element = root.querySelector(selector)
      if (element === null) return null
      root = element.shadowRoot ?? root
    }
    const box = element!.getBoundingClientRect()
    const style = getComputedStyle(element!)
    const visible = style.display !== 'none' && style.visibility !== 'hidden' && box.width > 0
    return { left: box.left, right: box.right, top: box.top, bottom: box.bottom, visible }
  }, path)
}

describe.skipIf(!hasChromium || !hasEngine)('the web app on a phone in Chromium', () => {
  let daemon: TestDaemon
  let browser: Browser
  let phone: BrowserContext
  let page: Page
  let loginUrl: string

  beforeAll(async () => {
    await ensurePwaBuilt()
    daemon = await startTestDaemon({
      staticDir: PWA_DIST,
      createExecutor: (peerId) => withNoopRuntime(new DockerExecutor({ executorId: peerId })),
    })
    const { url } = daemon.daemon.address
    const token = daemon.daemon.token
    loginUrl = `${url}/#token=${token}`
    for (let n = 0; n < 3; n++) {
      await httpCall(url, token, 'job.submit', {
        idempotencyId: `phone-${n}`,
        spec: { runtime: 'noop', code: '' },
      })
    }
    // A job still running: its row shows the escrowed maximum, the widest price there is.
    await httpCall(url, token, 'job.submit', {
      idempotencyId: 'phone-running',
      spec: { runtime: 'bash', code: 'sleep 600' },
    })
    browser = await launchChromium()
    phone = await browser.newContext({ viewport: VIEWPORTS.phone, isMobile: true, hasTouch: true })
    page = await phone.newPage()
    page.setDefaultTimeout(WAIT_MS)
    await page.goto(loginUrl)
    await page.locator('gridx-job-list tr[data-job]').first().waitFor()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await daemon?.destroy()
  })

  const loads = [
    ['jobs', 'phone', 'gridx-job-list tr[data-job]'],
    ['jobs', 'desktop', 'gridx-job-list tr[data-job]'],
    ['mesh', 'phone', 'gridx-mesh-view [data-peer]'],
    ['wallet', 'phone', 'gridx-wallet-view [data-balance]:not([data-balance=""])'],
  ] as const
  for (const [view, width, shown] of loads) {
    it(`should not shift the layout when the ${view} page loads at ${width} width`, async () => {
      const context = await browser.newContext({ viewport: VIEWPORTS[width] })
      try {
        await context.addInitScript(observeLayoutShifts)
        const fresh = await context.newPage()
        await fresh.goto(loginUrl.replace('/#', `/${view}#`))
        await fresh.locator(shown).first().waitFor({ timeout: WAIT_MS })
        await fresh.locator('gridx-connection-banner [data-state]').waitFor({ state: 'detached' })
        // Two frames: a shift from the last render is reported once it is painted.
        const shifts = await fresh.evaluate(async () => {
          for (let frame = 0; frame < 2; frame++) await new Promise(requestAnimationFrame)
          return (window as unknown as { layoutShifts: { value: number; sources: string[] } })
            .layoutShifts
        })
        console.log(`CLS of ${view} at ${width} width: ${shifts.value.toFixed(4)}`, shifts.sources)
        expect(shifts.value).toBeLessThan(0.001)
      } finally {
        await context.close()
      }
    })
  }

  it('should emulate a touch screen when the context has touch', async () => {
    const media = await page.evaluate(() => ({
      coarse: matchMedia('(pointer: coarse)').matches,
      noHover: matchMedia('(hover: none)').matches,
    }))
    expect(media).toEqual({ coarse: true, noHover: true })
  })

  it('should keep the jobs table and its Price column on screen when the screen is 390 wide', async () => {
    await page.locator('nav a[href="/jobs"]').click()
    await page.locator('gridx-job-list tr[data-job]').first().waitFor()
    const width = VIEWPORTS.phone.width
    const page_ = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }))
    expect(page_.scrollWidth).toBeLessThanOrEqual(page_.clientWidth)
    const price = await boxOf(page, ['gridx-app', 'gridx-job-list', 'thead th:last-child'])
    expect(await page.locator('gridx-job-list thead th').last().innerText()).toBe('Price')
    expect(price?.visible).toBe(true)
    expect(price!.left).toBeGreaterThanOrEqual(0)
    expect(price!.right).toBeLessThanOrEqual(width)
    const cells = await page.evaluate(() => {
      const list = document.querySelector('gridx-app')!.shadowRoot!.querySelector('gridx-job-list')!
      return [...list.shadowRoot!.querySelectorAll('tbody td:last-child')].map((cell) => {
        const box = cell.getBoundingClientRect()
        // The lines its text takes: one distinct top per line of the text's boxes.
        const range = document.createRange()
        range.selectNodeContents(cell)
        const tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.bottom)))
        return { right: box.right, lines: tops.size, text: cell.textContent?.trim() }
      })
    })
    expect(cells.length).toBe(4)
    expect(cells.some((cell) => cell.text?.endsWith('max'))).toBe(true)
    for (const cell of cells) {
      expect(cell.right).toBeLessThanOrEqual(width)
      // One line: a price broken over two lines is the column cut mid-word.
      expect(cell.lines).toBe(1)
    }
  })

  it('should show the Submit button without scrolling when the screen is 390x844', async () => {
    await page.locator('nav a[href="/submit"]').click()
    await page.locator('gridx-code-editor .cm-content').waitFor()
    const submit = await boxOf(page, ['gridx-app', 'gridx-submit-view', '[data-submit]'])
    expect(submit?.visible).toBe(true)
    expect(submit!.top).toBeGreaterThanOrEqual(0)
    expect(submit!.bottom).toBeLessThanOrEqual(VIEWPORTS.phone.height)
    expect(await page.evaluate(() => window.scrollY)).toBe(0)
  })

  it('should not offer to drop a file when the device has a touch screen', async () => {
    const hint = page.getByText('or drop one here')
    expect(await hint.count()).toBe(1)
    expect(await hint.isVisible()).toBe(false)
    // A mouse and a desktop screen: there dropping a file works and is offered.
    const desktop = await browser.newContext({ viewport: VIEWPORTS.desktop })
    try {
      const mouse = await desktop.newPage()
      await mouse.goto(loginUrl)
      await mouse.locator('nav a[href="/submit"]').click()
      await mouse.getByText('or drop one here').waitFor({ state: 'visible', timeout: WAIT_MS })
    } finally {
      await desktop.close()
    }
  })
})
