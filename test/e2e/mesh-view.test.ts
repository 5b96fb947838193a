// The web app's mesh view in Debian's Chromium against a real daemon (LevelDB in a temp dir, the
// built app served by the gateway, the noop runtime beside an absent engine, so no Docker is
// needed): the one-voter mesh with its health, live updates, axe, a phone's width, and a daemon
// restart seen as reconnecting and then fresh data.
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { DockerExecutor, withNoopRuntime } from '../../node/executor/index.ts'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon, TestDaemonOptions } from '../fixtures/daemon.ts'
import {
  ensurePwaBuilt,
  hasChromium,
  launchChromium,
  PWA_DIST,
  screenshot,
  seriousAxeViolations,
  VIEWPORTS,
} from './browser.ts'

/** Bound on any one wait for the page: a reconnect's backoff plus a margin. */
const WAIT_MS = 30_000

async function freeLoopbackPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve, reject) =>
    server.close((error) => (error ? reject(error) : resolve())),
  )
  return port
}

/** Elements (shadow roots included) that reach past the viewport's right edge. */
function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth
    const found: string[] = []
    if (document.documentElement.scrollWidth > width) found.push('the page scrolls sideways')
    const roots: (Document | ShadowRoot)[] = [document]
    for (let root = roots.pop(); root !== undefined; root = roots.pop()) {
      for (const element of root.querySelectorAll('*')) {
        if (element.shadowRoot) roots.push(element.shadowRoot)
        const box = element.getBoundingClientRect()
        if (box.width > 0 && box.right > width + 0.5) {
          const text = (element.textContent ?? '').trim().slice(0, 40)
          found.push(`<${element.localName}> ends at ${Math.round(box.right)}: ${text}`)
        }
      }
    }
    return found
  })
}

describe.skipIf(!hasChromium)('the mesh view in Chromium', () => {
  let node: TestDaemon
  let options: TestDaemonOptions
  let browser: Browser
  let page: Page

  const members = () => page.locator('gridx-mesh-members tr[data-member]')
  const appliedIndex = async () =>
    Number(await page.locator('gridx-mesh-view [data-applied-index]').innerText())

  beforeAll(async () => {
    await ensurePwaBuilt()
    options = {
      staticDir: PWA_DIST,
      apiPort: await freeLoopbackPort(),
      createExecutor: (peerId) =>
        withNoopRuntime(
          new DockerExecutor({ executorId: peerId, dockerHost: 'unix:///nonexistent/docker.sock' }),
        ),
    }
    node = await startTestDaemon(options)
    browser = await launchChromium()
    page = await (await browser.newContext({ viewport: VIEWPORTS.desktop })).newPage()
    page.setDefaultTimeout(WAIT_MS)
    await page.goto(`${node.daemon.address.url}/#token=${node.daemon.token}`)
    await page.locator('nav a[href="/mesh"]').click()
  })

  afterAll(async () => {
    await browser?.close()
    await node?.destroy()
  })

  it('should show the one-voter mesh with its coordinator and health when alone', async () => {
    const self = node.daemon.peerId
    await page.locator(`tr[data-member="${self}"][data-health="healthy"]`).waitFor()
    expect(await members().count()).toBe(1)
    expect(await page.locator('tr[data-member] [data-role]').innerText()).toBe('voter')
    expect(await page.locator('tr[data-member] [data-last-contact]').innerText()).toBe('this peer')
    const info = await node.call('mesh.info', {})
    // A one-machine mesh keeps the default voter target, so it says how many it wants.
    const wanted = info.voterTarget === undefined ? '' : ` of ${info.voterTarget} wanted`
    expect(await page.locator('gridx-mesh-members [data-voters]').innerText()).toBe(
      `1 voter${wanted}, no learners`,
    )
    expect(await page.locator('[data-coordinator]').getAttribute('title')).toBe(self)
    expect(await page.locator('[data-term]').innerText()).toBe(String(info.term))
    const peer = page.locator('gridx-mesh-view [data-peer]')
    expect(await peer.innerText()).toMatch(/executor/)
    expect(await peer.innerText()).toMatch(/noop/)
    expect(await peer.locator('[data-load]').innerText()).toMatch(/^0 jobs, 0 CPU, 0 MB in use$/)
  })

  it('should show the log growing when jobs are submitted while it is open', async () => {
    await page.locator('[data-applied-index]').waitFor()
    const before = await appliedIndex()
    const { job } = await node.call('job.submit', {
      idempotencyId: 'mesh-view-live',
      spec: { runtime: 'noop', code: '' },
    })
    expect((await node.waitForJob(job.id, WAIT_MS)).state).toBe('succeeded')
    const after = (await node.call('mesh.info', {})).appliedIndex
    expect(after).toBeGreaterThan(before)
    // Neither a reload nor a click: the periodic mesh.info refresh brings it.
    await page.locator(`[data-applied-index]:text-is("${after}")`).waitFor()
    const matchIndex = Number(await page.locator('[data-match-index]').innerText())
    expect(matchIndex).toBeGreaterThanOrEqual(before)
  })

  it('should pass axe and fit a phone’s width without overflowing when narrow', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme })
      for (const [name, size] of Object.entries(VIEWPORTS)) {
        await page.setViewportSize(size)
        await members().first().waitFor()
        expect(await seriousAxeViolations(page), `${name} ${scheme}`).toEqual([])
        if (name === 'phone') expect(await overflowing(page), scheme).toEqual([])
        await screenshot(page, `mesh-members-${name}${scheme === 'dark' ? '-dark' : ''}`)
      }
    }
    await page.emulateMedia({ colorScheme: 'light' })
    await page.setViewportSize(VIEWPORTS.desktop)
  })

  it('should show each member’s health and fit a phone when the mesh reports five', async () => {
    // What a coordinator of a mesh of several machines reports, given to the app's own element
    // on the page: a one-machine daemon cannot report it.
    const info = await node.call('mesh.info', {})
    const nowMs = Date.now()
    const id = (n: number) => `12D3KooWMember${n}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`
    const several = {
      ...info,
      coordinator: id(1),
      commitIndex: 5000,
      voterTarget: 3,
      members: [
        { peerId: id(1), role: 'voter', healthy: true, matchIndex: 5000, lastContactMs: nowMs },
        { peerId: id(2), role: 'voter', healthy: true, matchIndex: 4998, lastContactMs: nowMs },
        { peerId: id(3), role: 'voter', healthy: false, matchIndex: 120, lastContactMs: nowMs },
        { peerId: id(4), role: 'learner', healthy: false, matchIndex: 90, lastContactMs: null },
        { peerId: id(5), role: 'learner', healthy: false, matchIndex: 4000, lastContactMs: 1 },
      ],
    }
    await page.setViewportSize(VIEWPORTS.phone)
    await page.evaluate(
      ([given, now]) => {
        const element = document.createElement('gridx-mesh-members') as HTMLElement & {
          info: unknown
          nowMs: number
        }
        element.info = given
        element.nowMs = now
        element.id = 'several'
        document.querySelector('gridx-app')?.shadowRoot?.querySelector('main')?.prepend(element)
      },
      [several, nowMs] as const,
    )
    try {
      await checkSeveral(page)
    } finally {
      await page.evaluate(() =>
        document.querySelector('gridx-app')?.shadowRoot?.querySelector('#several')?.remove(),
      )
      await page.setViewportSize(VIEWPORTS.desktop)
    }
  })

  it('should say it is reconnecting while the daemon restarts, then show fresh data', async () => {
    await members().first().waitFor()
    await node.stop()
    const notice = page.locator('gridx-mesh-view [data-reconnecting]')
    await notice.waitFor()
    expect(await notice.innerText()).toMatch(/Reconnecting to the daemon/)
    await screenshot(page, 'mesh-reconnecting-desktop')
    node = await startTestDaemon({ ...options, dataDir: node.dataDir })
    await notice.waitFor({ state: 'detached' })
    // What the restarted daemon writes reaches the view: it follows the new daemon.
    const { job } = await node.call('job.submit', {
      idempotencyId: 'mesh-view-restarted',
      spec: { runtime: 'noop', code: '' },
    })
    expect((await node.waitForJob(job.id, WAIT_MS)).state).toBe('succeeded')
    const { appliedIndex: fresh } = await node.call('mesh.info', {})
    await page.locator(`[data-applied-index]:text-is("${fresh}")`).waitFor()
    await page.locator(`tr[data-member][data-health="healthy"]`).waitFor()
  })
})

/** The five members injected as #several, as a phone shows them. */
async function checkSeveral(page: Page): Promise<void> {
  const rows = page.locator('#several tr[data-member]')
  await rows.first().waitFor()
  const health = await rows.evaluateAll((all) => all.map((row) => row.getAttribute('data-health')))
  expect(health).toEqual(['healthy', 'healthy', 'lagging', 'unreachable', 'unreachable'])
  expect(await page.locator('#several [data-voters]').innerText()).toBe('3 voters, 2 learners')
  expect(await rows.nth(3).locator('[data-last-contact]').innerText()).toBe('never')
  expect(await seriousAxeViolations(page)).toEqual([])
  expect(await overflowing(page)).toEqual([])
  await screenshot(page, 'mesh-members-several-phone')
}
