// A real training job in the web app, in Debian's Chromium against a real daemon and Docker:
// two rounds on two shards of a CSV, the train script printing its metric lines; the parent's
// page shows the rounds done, a chart per metric with a point per round, each round's shard
// timings, and the final model, which downloads byte for byte; a straggler cut is marked.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { BLOBS_PATH, cidOfSha256, PARENT_REFRESH_MS } from '../../protocol/index.ts'
import type { JobFile, ParentView } from '../../protocol/index.ts'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'
import { hasEngine } from '../fixtures/engine.ts'
import {
  ensurePwaBuilt,
  hasChromium,
  launchChromium,
  PWA_DIST,
  screenshot,
  VIEWPORTS,
} from './browser.ts'

const WAIT_MS = 45_000
/** Bound on the whole run: two rounds of two shards and an aggregate each, on a loaded machine. */
const TRAINING_MS = 240_000

const TRAIN_PY = `
import json, os
import numpy as np
round_ = int(os.environ["GRIDX_ROUND"])
rows = open("inputs/shard").read().splitlines()[1:]
start = np.load("inputs/global/weights.npz")["w"] if round_ > 1 else np.zeros(3)
np.savez("outputs/weights.npz", w=start + 1)
json.dump({"samples": len(rows)}, open("outputs/samples.json", "w"))
print(json.dumps({"metric": "accuracy", "value": 0.5 + 0.1 * round_}))
print(json.dumps({"metric": "loss", "value": 1.0 / round_}))
`

describe.skipIf(!hasEngine || !hasChromium)('a training job in the web app', () => {
  let daemon: TestDaemon
  let browser: Browser
  let context: BrowserContext
  let data: JobFile

  beforeAll(async () => {
    await ensurePwaBuilt()
    daemon = await startTestDaemon({ staticDir: PWA_DIST })
    browser = await launchChromium()
    context = await browser.newContext({ viewport: VIEWPORTS.desktop, acceptDownloads: true })
    // Logged in once: the token is kept in the context's storage.
    const login = await context.newPage()
    await login.goto(`${daemon.daemon.address.url}/#token=${daemon.daemon.token}`)
    await login.locator('gridx-job-list h1', { hasText: 'Jobs' }).waitFor({ timeout: WAIT_MS })
    await login.close()
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    await daemon?.destroy()
  })

  /** The parent once it ended, asked as often as the web app asks, within TRAINING_MS. */
  async function finished(id: string): Promise<ParentView> {
    const until = Date.now() + TRAINING_MS
    for (;;) {
      const parent = await daemon.call('job.parent', { id })
      if (parent.state !== 'running') return parent
      if (Date.now() > until) throw new Error(`${id} still running: ${JSON.stringify(parent)}`)
      await new Promise((resolve) => setTimeout(resolve, PARENT_REFRESH_MS))
    }
  }

  async function uploadCsv(): Promise<JobFile> {
    const csv = 'x,y\n' + Array.from({ length: 8 }, (_, n) => `${n},${n % 2}`).join('\n') + '\n'
    const cid = cidOfSha256(createHash('sha256').update(csv).digest('hex'))
    const put = await fetch(`${daemon.daemon.address.url}${BLOBS_PATH}/${cid}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${daemon.daemon.token}` },
      body: csv,
    })
    expect(put.status).toBeLessThan(300)
    return { name: 'data.csv', cid, size: csv.length }
  }

  async function train(
    id: string,
    code: string,
    options: { rounds: number; minShards?: number; roundTimeoutS?: number },
    timeoutS = 20,
  ): Promise<ParentView> {
    const { parent } = await daemon.call('job.submit-training', {
      idempotencyId: id,
      // Small limits: the whole run, retries included, is escrowed from the test's credits.
      spec: { runtime: 'python', code, cpus: 0.5, memoryMb: 256, timeoutS, inputs: [data] },
      shards: 2,
      ...options,
    })
    return finished(parent.id)
  }

  async function parentPage(id: string): Promise<{ page: Page; view: Locator }> {
    const page = await context.newPage()
    page.setDefaultTimeout(WAIT_MS)
    await page.goto(`${daemon.daemon.address.url}/jobs/${id}`)
    const view = page.locator('gridx-job-parent gridx-training')
    await view.locator('[data-training]').waitFor()
    return { page, view }
  }

  it(
    'should chart the rounds’ metrics and download the final model',
    async () => {
      data = await uploadCsv()
      const done = await train('training-page-1', TRAIN_PY, { rounds: 2 })
      expect(done.state, done.reason ?? '').toBe('succeeded')
      const training = done.training!
      expect(training.history.map((round) => round.metrics)).toEqual([
        { accuracy: 0.6, loss: 1 },
        { accuracy: 0.7, loss: 0.5 },
      ])
      const weights = training.model!.find((file) => file.name === 'global/weights.npz')!
      expect(weights).toBeDefined()

      const { page, view } = await parentPage(done.id)
      expect(await view.locator('[data-training-round]').innerText()).toBe('2/2')
      for (const name of ['loss', 'accuracy']) {
        const chart = view.locator(`[data-metric-chart="${name}"]`)
        expect(await chart.locator('svg circle').count()).toBe(2)
      }
      const accuracy = view.locator('[data-metric-chart="accuracy"]')
      await accuracy.locator('summary').click()
      expect(await accuracy.locator('tbody tr').allInnerTexts()).toEqual(['1\t0.6', '2\t0.7'])
      const last = view.locator('details[data-round="2"]')
      expect(await last.locator('[data-shard-timing]').count()).toBe(2)
      expect(await last.locator('rect').count()).toBe(2)
      await screenshot(page, 'training-desktop')

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        view.locator('[data-model-download="global/weights.npz"]').click(),
      ])
      expect(download.suggestedFilename()).toBe('weights.npz')
      const bytes = await readFile((await download.path())!)
      expect(cidOfSha256(createHash('sha256').update(bytes).digest('hex'))).toBe(weights.cid)
      await page.close()
    },
    TRAINING_MS + 60_000,
  )

  it(
    'should mark the straggler a round cut at its deadline',
    async () => {
      // Shard 1 sleeps past the round's deadline, and past its own timeout of a minute, by
      // which the round has cut it; one shard is enough to close the round. The deadline is
      // generous: shard 0's container must start and run within it on a loaded machine.
      const sleep = 'import os, time\nif os.environ["GRIDX_SHARD"] == "1": time.sleep(300)\n'
      const code = `${sleep}${TRAIN_PY}`
      const done = await train(
        'training-page-2',
        code,
        {
          rounds: 1,
          minShards: 1,
          roundTimeoutS: 30,
        },
        60,
      )
      expect(done.state, done.reason ?? '').toBe('succeeded')
      const [round] = done.training!.history
      expect(round!.shards.map((shard) => shard.cut)).toEqual([false, true])

      const { page, view } = await parentPage(done.id)
      const timings = view.locator('details[data-round="1"]')
      expect(await timings.locator('summary').innerText()).toContain('1 cut')
      const cut = timings.locator('[data-shard-timing="1"]')
      expect(await cut.getAttribute('data-cut')).not.toBeNull()
      expect(await cut.innerText()).toContain('cut at the deadline, not paid')
      expect(await timings.locator('[data-shard-timing="0"]').getAttribute('data-cut')).toBeNull()
      await page.close()
    },
    TRAINING_MS + 60_000,
  )
})
