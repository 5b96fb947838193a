// The aggregate step's code (aggregate.py beside this file), which the daemon ships and sends
// in a training job's submission; it runs only inside the sandbox, never on the host. The
// build keeps `import.meta.url` as this source file's URL, so the built daemon reads the same.
import { readFile } from 'node:fs/promises'

const SCRIPT = new URL('./aggregate.py', import.meta.url)

let cached: Promise<string> | null = null

/** aggregate.py's text, read once per process. */
export function readAggregateScript(): Promise<string> {
  cached ??= readFile(SCRIPT, 'utf8').catch((error: unknown) => {
    cached = null
    throw error
  })
  return cached
}
