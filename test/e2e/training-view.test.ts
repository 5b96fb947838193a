// A training job's rounds in Debian's Chromium, drawn by the built app's elements from a
// TrainingView made here (a daemon serves the app): the round, a chart of each metric with its
// title, axis names and data table, each shard's bar with the cut straggler marked, and the
// final model's files, with no serious accessibility violation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import type { RoundView, TrainingView } from '../../protocol/index.ts'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'
import {
  ensurePwaBuilt,
  hasChromium,
  launchChromium,
  PWA_DIST,
  screenshot,
  seriousAxeViolations,
  VIEWPORTS,
} from './browser.ts'

const WAIT_MS = 30_000
const CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

function round(index: number, accuracy: number, loss: number): RoundView {
  const opened = index * 100_000
  return {
    index,
    state: 'done',
    openedAt: opened,
    closedAt: opened + 10_000,
    shards: [0, 1, 2].map((shard) => ({
      shard,
      job: `jtrain${index}s${shard}`,
      state: shard === 2 && index === 2 ? 'cancelled' : 'succeeded',
      startedAt: opened + 500 * (shard + 1),
      finishedAt: shard === 2 && index === 2 ? null : opened + 3_000 * (shard + 1),
      cut: shard === 2 && index === 2,
    })),
    aggregateJob: `jtrain${index}a`,
    global: [{ name: 'global/weights.npz', cid: CID, size: 11 }],
    metrics: { accuracy, loss },
  }
}

const TRAINING: TrainingView = {
  rounds: 5,
  minShards: 2,
  roundTimeoutS: 10,
  aggregate: 'fedavg',
  round: 3,
  history: [
    round(1, 0.61, 1.9),
    round(2, 0.78, 1.1),
    { ...round(3, 0, 0), state: 'running', closedAt: null, aggregateJob: null, metrics: {} },
  ],
  model: null,
}

describe.skipIf(!hasChromium)('a training job’s rounds in the web app', () => {
  let daemon: TestDaemon
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    await ensurePwaBuilt()
    daemon = await startTestDaemon({ staticDir: PWA_DIST })
    browser = await launchChromium()
    const context = await browser.newContext({ viewport: VIEWPORTS.phone, isMobile: true })
    page = await context.newPage()
    page.setDefaultTimeout(WAIT_MS)
    await page.goto(`${daemon.daemon.address.url}/#token=${daemon.daemon.token}`)
    await page.locator('gridx-job-list h1', { hasText: 'Jobs' }).waitFor()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await daemon?.destroy()
  })

  /** Puts a gridx-training of `training` in the page in place of the app. */
  async function show(training: TrainingView): Promise<void> {
    await page.evaluate((view) => {
      const element = document.createElement('gridx-training') as HTMLElement & {
        training: unknown
      }
      element.training = view
      // As wide as on the job page of a phone: the screen less the page's and card's padding.
      element.style.display = 'block'
      element.style.width = `${window.innerWidth - 4 * 16 - 2}px`
      document.querySelector('gridx-training, gridx-app')!.replaceWith(element)
    }, training)
    await page.locator('gridx-training [data-training]').waitFor()
  }

  it('should chart each metric over the rounds with a title, axis names and a table', async () => {
    await show(TRAINING)
    expect(await page.locator('gridx-training [data-training-round]').innerText()).toBe('3/5')
    const charts = page.locator('gridx-training gridx-metric-chart')
    expect(await charts.count()).toBe(2)
    const loss = page.locator('gridx-training [data-metric-chart="loss"]')
    expect(await loss.locator('svg title').textContent()).toBe('loss by round')
    expect(await loss.locator('svg desc').textContent()).toBe('loss is 1.1 after round 2 of 5.')
    const texts = await loss.locator('svg text').allTextContents()
    expect(texts.map((text) => text.trim())).toEqual(expect.arrayContaining(['Round', 'loss']))
    // Every round of five on the round axis, whatever has been run.
    expect(texts.map((text) => text.trim())).toEqual(expect.arrayContaining(['1', '5']))
    expect(await loss.locator('svg circle').count()).toBe(2)
    const accuracy = page.locator('gridx-training [data-metric-chart="accuracy"]')
    await accuracy.locator('summary').click()
    const rows = accuracy.locator('tbody tr')
    expect(await rows.allInnerTexts()).toEqual(['1\t0.61', '2\t0.78'])
    // The higher accuracy is drawn higher up.
    const ys = await accuracy
      .locator('svg circle')
      .evaluateAll((circles) => circles.map((circle) => Number(circle.getAttribute('cy'))))
    expect(ys[1]).toBeLessThan(ys[0]!)
    expect(await seriousAxeViolations(page)).toEqual([])
    await screenshot(page, 'training-phone')
  })

  it('should draw a bar per shard and mark the straggler the round cut', async () => {
    await show(TRAINING)
    const second = page.locator('gridx-training details[data-round="2"]')
    await second.locator('summary').click()
    expect(await second.locator('summary').innerText()).toBe('Round 2: done, 10.0 s, 1 cut')
    const cut = second.locator('[data-shard-timing="2"]')
    expect(await cut.getAttribute('data-cut')).not.toBeNull()
    expect(await cut.innerText()).toContain('cut at the deadline, not paid')
    const first = second.locator('[data-shard-timing="0"]')
    expect(await first.locator('rect').getAttribute('x')).toBe('10')
    expect(await first.innerText()).toContain('2.50 s')
    expect(await second.locator('rect.cut').count()).toBe(1)
    // The round's table fits a phone's screen with its bars.
    const width = await page.locator('gridx-training').evaluate((element) => ({
      scroll: element.scrollWidth,
      client: element.clientWidth,
    }))
    expect(width.scroll).toBeLessThanOrEqual(width.client)
    // The open round is shown open, its shards linked.
    const open = page.locator('gridx-training details[data-round="3"]')
    expect(await open.getAttribute('open')).not.toBeNull()
    expect(await open.locator('a[href="/jobs/jtrain3s1"]').count()).toBe(1)
  })

  it('should offer the final model’s files once the training succeeded', async () => {
    const model = [{ name: 'global/weights.npz', cid: CID, size: 11 }]
    await show({ ...TRAINING, round: 5, model })
    const button = page.locator('gridx-training [data-model-download="global/weights.npz"]')
    await button.waitFor()
    expect(await page.locator('gridx-training [data-no-metrics]').count()).toBe(0)
    await show({ ...TRAINING, history: [], model: null })
    expect(await page.locator('gridx-training [data-no-metrics]').innerText()).toContain(
      '{"metric": "accuracy", "value": 0.93}',
    )
  })
})
