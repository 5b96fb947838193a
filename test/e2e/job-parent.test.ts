// A sharded job in the web app, in Debian's Chromium against a real daemon and Docker: the
// parent's page shows its state, progress and cost and links its children; a child's page
// says which shard of which parent it is.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { BLOBS_PATH, cidOfSha256 } from '../../protocol/index.ts'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'
import { hasEngine } from '../fixtures/engine.ts'
import { ensurePwaBuilt, hasChromium, launchChromium, PWA_DIST, VIEWPORTS } from './browser.ts'

const WAIT_MS = 45_000

describe.skipIf(!hasEngine || !hasChromium)('a sharded job in the web app', () => {
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

  it('should show the parent’s progress and cost and each child’s shard', async () => {
    const csv = 'n\n1\n2\n3\n'
    const cid = cidOfSha256(createHash('sha256').update(csv).digest('hex'))
    const base = daemon.daemon.address.url
    const put = await fetch(`${base}${BLOBS_PATH}/${cid}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${daemon.daemon.token}` },
      body: csv,
    })
    expect(put.status).toBeLessThan(300)
    const { parent } = await daemon.call('job.submit-sharded', {
      idempotencyId: 'parent-page-1',
      spec: {
        runtime: 'bash',
        code: 'tail -n +2 inputs/shard | wc -l > outputs/rows',
        inputs: [{ name: 'data.csv', cid, size: csv.length }],
      },
      shards: 2,
      reduceCode: 'cat inputs/*/rows',
    })
    for (const shard of parent.shards) {
      const map = await daemon.waitForJob(shard.jobs[0]!)
      expect(map.state, map.reason ?? '').toBe('succeeded')
    }
    const reduce = await daemon.waitForJob(`${parent.id}r`)
    expect(reduce.result?.stdoutTail.split(/\s+/).filter(Boolean)).toEqual(['2', '1'])
    const done = await daemon.call('job.parent', { id: parent.id })
    expect(done.state).toBe('succeeded')

    const context = await browser.newContext({ viewport: VIEWPORTS.desktop })
    const page = await context.newPage()
    page.setDefaultTimeout(WAIT_MS)
    await page.goto(`${base}/#token=${daemon.daemon.token}`)
    await page.locator('gridx-job-list h1', { hasText: 'Jobs' }).waitFor()
    await page.goto(`${base}/jobs/${parent.id}`)
    const card = page.locator('gridx-job-page gridx-job-parent [data-parent]')
    await card.waitFor()
    expect(await card.locator('[data-parent-state]').innerText()).toBe('succeeded')
    expect(await card.locator('[data-parent-progress]').innerText()).toBe('2/2 shards done')
    expect(await card.locator('[data-parent-cost]').innerText()).toContain(
      (done.costMc / 1000).toString(),
    )
    expect(await card.locator('[data-shard] a').count()).toBe(2)
    expect(await page.locator('gridx-job-page gridx-saved-notice').count()).toBe(0)

    await page.goto(`${base}/jobs/${parent.shards[1]!.jobs[0]}`)
    const role = page.locator('gridx-job-page gridx-job-parent [data-parent-role]')
    await role.waitFor()
    expect(await role.innerText()).toBe(`Shard 1 of 2 of ${parent.id}`)
    await context.close()
  }, 120_000)
})
