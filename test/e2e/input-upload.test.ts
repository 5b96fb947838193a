// Input files picked in the web app's submit page, in Debian's Chromium against a real daemon
// and Docker: two files (one from a folder) upload to the blob store and the job reads them
// byte for byte; the same files picked again send nothing; a slowed upload shows its progress;
// a clash of names is refused before any upload.
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { BLOBS_PATH } from '../../protocol/index.ts'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'
import { hasEngine } from '../fixtures/engine.ts'
import {
  ensurePwaBuilt,
  hasChromium,
  launchChromium,
  PWA_DIST,
  seriousAxeViolations,
  VIEWPORTS,
} from './browser.ts'

const WAIT_MS = 45_000

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex')

describe.skipIf(!hasEngine || !hasChromium)('input files in the web app', () => {
  let daemon: TestDaemon
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let dir: string
  const puts: string[] = []
  // Every byte value, and more than one progress event's worth.
  const table = new Uint8Array(3 * 1024 * 1024).map((_, n) => (n * 31 + (n >> 8)) % 256)
  const notes = 'first line\nsecond line, no newline at the end'

  beforeAll(async () => {
    await ensurePwaBuilt()
    daemon = await startTestDaemon({ staticDir: PWA_DIST })
    browser = await launchChromium()
    context = await browser.newContext({
      viewport: VIEWPORTS.phone,
      isMobile: true,
      hasTouch: true,
    })
    page = await context.newPage()
    page.setDefaultTimeout(WAIT_MS)
    page.on('request', (request) => {
      if (request.method() === 'PUT' && request.url().includes(BLOBS_PATH)) puts.push(request.url())
    })
    dir = await mkdtemp(join(tmpdir(), 'gridx-upload-'))
    await mkdir(join(dir, 'data'))
    await writeFile(join(dir, 'data', 'notes.txt'), notes)
    await page.goto(`${daemon.daemon.address.url}/#token=${daemon.daemon.token}`)
    await page.locator('gridx-job-list h1', { hasText: 'Jobs' }).waitFor()
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    await daemon?.destroy()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  async function openSubmit(code: string): Promise<void> {
    await page.locator('nav a[href="/submit"]').click()
    const editor = page.locator('gridx-code-editor .cm-content')
    await editor.waitFor()
    await page.locator('gridx-submit-view #runtime').selectOption('bash')
    await editor.fill(code)
  }

  async function pickFiles(): Promise<void> {
    const inputs = page.locator('gridx-submit-view gridx-input-files')
    await inputs
      .locator('input[data-pick-files]')
      .setInputFiles([
        { name: 'table.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(table) },
      ])
    await inputs.locator('input[data-pick-folder]').setInputFiles(join(dir, 'data'))
    await inputs.locator('[data-input="data/notes.txt"]').waitFor()
  }

  async function submitAndWait(): Promise<string> {
    await page.locator('gridx-submit-view output[data-price]', { hasText: 'cr' }).waitFor()
    await page.locator('gridx-submit-view [data-submit]').click()
    await page.waitForURL(/\/jobs\/j[0-9a-z]+$/)
    const id = page.url().split('/').pop()!
    const done = await daemon.waitForJob(id)
    expect(done.state, done.reason ?? '').toBe('succeeded')
    return done.result?.stdoutTail ?? ''
  }

  it('should upload two files, one from a folder, that the job reads byte for byte', async () => {
    await openSubmit('cd inputs && sha256sum table.bin data/notes.txt')
    await pickFiles()
    const rows = page.locator('gridx-submit-view gridx-input-files [data-input]')
    expect(await rows.count()).toBe(2)
    // On a phone neither the list nor a long line of code widens the page.
    const width = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
    }))
    expect(width.scroll).toBeLessThanOrEqual(width.client)
    expect(width.client).toBe(VIEWPORTS.phone.width)
    expect(await seriousAxeViolations(page)).toEqual([])
    const printed = await submitAndWait()
    expect(printed).toBe(`${sha256(table)}  table.bin\n${sha256(notes)}  data/notes.txt\n`)
    expect(puts).toHaveLength(2)
  }, 120_000)

  it('should send nothing when the same files are picked again', async () => {
    await openSubmit('sha256sum inputs/table.bin inputs/data/notes.txt | cut -c1-64')
    await pickFiles()
    const printed = await submitAndWait()
    expect(printed).toBe(`${sha256(table)}\n${sha256(notes)}\n`)
    expect(puts).toHaveLength(2)
  }, 120_000)

  it('should keep a resubmitted job’s inputs and send none of them again', async () => {
    // The page of the job just submitted, whose inputs are on the daemon.
    await page.locator('gridx-job-page [data-resubmit]').click()
    const inputs = page.locator('gridx-submit-view gridx-input-files')
    await inputs.locator('[data-input="data/notes.txt"]').waitFor()
    expect(await inputs.locator('[data-input]').count()).toBe(2)
    const printed = await submitAndWait()
    expect(printed).toBe(`${sha256(table)}\n${sha256(notes)}\n`)
    expect(puts).toHaveLength(2)
  }, 120_000)

  it('should list the files dropped on the inputs and remove each', async () => {
    await openSubmit('ls inputs')
    const inputs = page.locator('gridx-submit-view gridx-input-files')
    const transfer = await page.evaluateHandle(() => {
      const data = new DataTransfer()
      data.items.add(new File(['a'], 'one.txt'))
      data.items.add(new File(['bb'], 'two.txt'))
      return data
    })
    await inputs.locator('.pick').dispatchEvent('drop', { dataTransfer: transfer })
    await inputs.locator('[data-input="two.txt"]').waitFor()
    expect(await inputs.locator('[data-input]').allInnerTexts()).toEqual([
      expect.stringContaining('one.txt'),
      expect.stringContaining('two.txt'),
    ])
    await inputs.locator('[data-input="one.txt"] [data-remove]').click()
    await inputs.locator('[data-input="two.txt"] [data-remove]').click()
    expect(await inputs.locator('[data-input]').count()).toBe(0)
  })

  it('should show a file’s upload progress while its bytes go out', async () => {
    await openSubmit('wc -c < inputs/slow.bin')
    const slow = new Uint8Array(2 * 1024 * 1024).map((_, n) => (n * 13 + 7) % 251)
    const inputs = page.locator('gridx-submit-view gridx-input-files')
    await inputs
      .locator('input[data-pick-files]')
      .setInputFiles([
        { name: 'slow.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(slow) },
      ])
    // Uploads slowed to 512 KiB/s, so the bar is seen part way.
    const cdp = await context.newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 512 * 1024,
    })
    try {
      await page.locator('gridx-submit-view output[data-price]', { hasText: 'cr' }).waitFor()
      await page.locator('gridx-submit-view [data-submit]').click()
      const row = inputs.locator('[data-input="slow.bin"][data-stage="uploading"]')
      await row.waitFor()
      const bar = row.locator('progress')
      await expect
        .poll(async () => Number(await bar.getAttribute('value')), { timeout: WAIT_MS })
        .toBeGreaterThan(0)
      expect(await bar.getAttribute('max')).toBe(String(slow.byteLength))
      expect(await row.innerText()).toMatch(/uploading \d+ %/)
      // What is uploading is what the job gets: no file joins the list meanwhile.
      expect(await inputs.locator('input[data-pick-files]').isDisabled()).toBe(true)
      await page.waitForURL(/\/jobs\/j[0-9a-z]+$/)
    } finally {
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      })
      await cdp.detach()
    }
    const done = await daemon.waitForJob(page.url().split('/').pop()!)
    expect(done.result?.stdoutTail.trim()).toBe(String(slow.byteLength))
    expect(puts).toHaveLength(3)
  }, 120_000)

  it('should refuse a file named as a picked folder before uploading anything', async () => {
    await openSubmit('ls -R inputs')
    await pickFiles()
    const inputs = page.locator('gridx-submit-view gridx-input-files')
    await inputs
      .locator('input[data-pick-files]')
      .setInputFiles([{ name: 'data', mimeType: 'text/plain', buffer: Buffer.from('x') }])
    const problem = inputs.locator('[data-inputs-problem]')
    await problem.waitFor()
    expect(await problem.innerText()).toContain('data is a file and a directory of data/notes.txt')
    await page.locator('gridx-submit-view [data-submit]').click()
    const refused = page.locator('gridx-submit-view [data-error="inputs"]')
    await refused.waitFor()
    expect(await refused.innerText()).toContain('data is a file and a directory')
    expect(page.url()).toMatch(/\/submit$/)
    expect(puts).toHaveLength(3)
    // Removing the clashing file leaves inputs the job can take.
    await inputs.locator('[data-input="data"] [data-remove]').click()
    await problem.waitFor({ state: 'detached' })
    expect(await inputs.locator('[data-input]').count()).toBe(2)
  }, 120_000)
})
