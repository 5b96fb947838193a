// The daemon's logs: every line as JSON in the data dir's daemon.log (for tools), and
// warnings and errors also on stderr as one readable line each (for the person at the terminal),
// with the few info lines that answer an earlier warning (those carry `notice: true`).
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { Level, Logger } from 'pino'

/** The daemon's own log in its data dir, one JSON object a line. */
export const DAEMON_LOG_FILE = 'daemon.log'

const WARN_LEVEL = 40
const LEVEL_NAMES: Readonly<Record<number, string>> = {
  40: 'warning',
  50: 'error',
  60: 'fatal',
}

function humanStream(stderr: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue
        const record = JSON.parse(line) as {
          level: number
          notice?: boolean
          msg?: string
          err?: { message?: string }
        }
        if (record.level < WARN_LEVEL && record.notice !== true) continue
        const detail = record.err?.message ? `: ${record.err.message}` : ''
        const label = LEVEL_NAMES[record.level]
        stderr.write(`gridx${label ? ` ${label}` : ''}: ${record.msg ?? ''}${detail}\n`)
      }
      callback()
    },
  })
}

export async function createDaemonLogger(
  dataDir: string,
  stderr: NodeJS.WritableStream,
  level: string,
): Promise<Logger> {
  // Loaded here, not at the top: only `start` logs, and other commands start faster without it.
  const { default: pino } = await import('pino')
  const file = pino.destination({ dest: join(dataDir, DAEMON_LOG_FILE), mkdir: true, sync: false })
  return pino(
    { level, base: undefined },
    pino.multistream([
      { level: level as Level, stream: file },
      { level: 'info', stream: humanStream(stderr) },
    ]),
  )
}
