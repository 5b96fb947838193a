// Debian's Chromium, driven by playwright-core: the one launcher the browser tests and the web
// app benchmark share.
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'

export const CHROMIUM_PATH = process.env.GRIDX_CHROMIUM ?? '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM_PATH)

/** Flags for a quiet headless Chromium that talks to nothing but the pages it is sent to. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 })
}
