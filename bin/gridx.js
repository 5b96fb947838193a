#!/usr/bin/env node
// The `gridx` command. It runs the build in dist/node (made by `npm run build` and by setup),
// which starts in tens of milliseconds, where running the TypeScript sources through tsx
// compiles them at every start. A build that is not the sources as they are now never runs:
// it is rebuilt first, and when that fails the sources run, with a line that says so.
// GRIDX_FROM_SOURCE=1 runs the sources, for development.
import process from 'node:process'
import { fileURLToPath, URL } from 'node:url'
import { staleReason } from './build-state.js'

const root = fileURLToPath(new URL('..', import.meta.url))

async function runFromSource() {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../node/main.ts')
}

/** Rebuilds dist/node; false, after a line on stderr, when that cannot be done. */
async function rebuilt(reason) {
  // Only a person at a terminal is told: a pipe (a test, a script) reads only the answer.
  if (process.stderr.isTTY) process.stderr.write(`gridx: rebuilding, as ${reason}\n`)
  try {
    const { tsImport } = await import('tsx/esm/api')
    const { buildNode } = await tsImport('../scripts/build-node.ts', import.meta.url)
    await buildNode(root)
    return true
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error)
    process.stderr.write(
      `gridx: running from source, slowly: ${reason} and the rebuild failed (${message})\n`,
    )
    return false
  }
}

if (process.env.GRIDX_FROM_SOURCE === '1') {
  await runFromSource()
} else {
  const reason = staleReason(root)
  if (reason === undefined || (await rebuilt(reason))) {
    // Before the import: Node reads a module's source map when it loads it.
    process.setSourceMapsEnabled(true)
    await import('../dist/node/main.js')
  } else {
    await runFromSource()
  }
}
