// A job's files on its page in Debian's Chromium against a real daemon and Docker: its outputs
// are listed with sizes and CIDs and each downloads, with the API token, byte for byte.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { cidOfSha256 } from '../../protocol/index.ts'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'
import { hasEngine } from '../fixtures/engine.ts'
import { ensurePwaBuilt, hasChromium, launchChromium, PWA_DIST, VIEWPORTS } from './browser.ts'

const WAIT_MS = 45_000

describe.skipIf(!hasEngine || !hasChromium)('a job’s files in the web app', () => {
  let daemon: TestDaemon
  let browser: Browser

  beforeAll(async () => {
    await ensurePwaBuilt()
    daemon = await startTestDaemon({ staticDir: PWA_DIST })
    browser = await launchChromium()
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    await daemon?.destroy()
  })

  it('should list a job’s outputs and download each byte for byte', async () => {
    const text = 'weights,0.25,0.75\n'.repeat(1000)
    const printed = text.replace(/\n/g, '\\n')
    const code = `mkdir -p outputs/model && printf '${printed}' > outputs/model/w.csv`
    const { job } = await daemon.call('job.submit', {
      idempotencyId: 'files-page-1',
      spec: { runtime: 'bash', code },
    })
    const done = await daemon.waitForJob(job.id)
    expect(done.state, done.reason ?? '').toBe('succeeded')
    const cid = cidOfSha256(createHash('sha256').update(text).digest('hex'))
    expect(done.result?.outputs).toEqual([{ name: 'model/w.csv', cid, size: text.length }])

    const context = await browser.newContext({ viewport: VIEWPORTS.desktop, acceptDownloads: true })
    const page = await context.newPage()
    page.setDefaultTimeout(WAIT_MS)
    const base = daemon.daemon.address.url
    await page.goto(`${base}/#token=${daemon.daemon.token}`)
    await page.locator('gridx-job-list h1', { hasText: 'Jobs' }).waitFor()
    await page.goto(`${base}/jobs/${job.id}`)
    const files = page.locator('gridx-job-page gridx-job-files [data-files]')
    await files.waitFor()
    expect(await files.innerText()).toContain('model/w.csv')
    expect(await files.locator('code').getAttribute('title')).toBe(cid)
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      files.locator('[data-download="model/w.csv"]').click(),
    ])
    expect(download.suggestedFilename()).toBe('w.csv')
    expect(await readFile((await download.path())!, 'utf8')).toBe(text)
    await context.close()
  }, 120_000)
})
