// Progress for long waits: a one-line status on a terminal's stderr, nothing when output is
// piped or `--json` was asked for, so scripts see only results.
export interface Progress {
  update(text: string): void
  done(): void
}

const FRAMES = ['|', '/', '-', '\\']

export function createProgress(stream: NodeJS.WriteStream, enabled: boolean): Progress {
  if (!enabled || !stream.isTTY) return { update: () => undefined, done: () => undefined }
  let text = ''
  let frame = 0
  const draw = (): void => {
    stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${text}`)
  }
  const timer = setInterval(draw, 120)
  timer.unref()
  return {
    update(next) {
      text = next
      draw()
    },
    done() {
      clearInterval(timer)
      stream.write('\r\x1b[2K')
    },
  }
}
