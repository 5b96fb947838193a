// Bounds on the time a request's body takes to arrive. Node's `requestTimeout` bounds headers
// and body together and cannot spare one route, so the server keeps only `headersTimeout`
// (slow headers) and leaves bodies to these: every request but a blob upload gets the request
// timeout for its body, and an upload gets the idle timeout between its bytes, so a big file on
// a slow link arrives whole while a stalled one is cut.
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Cuts the exchange when `request` is not all received `timeoutMs` after its headers. A
 * request received in time keeps its response unbounded: a download may take long. */
export function boundRequestTime(
  request: IncomingMessage,
  response: ServerResponse,
  timeoutMs: number,
): void {
  const timer = setTimeout(() => {
    if (!request.complete) {
      cutExchange(request, response, `the request was not received within ${timeoutMs} ms`)
    }
  }, timeoutMs)
  const clear = () => clearTimeout(timer)
  request.once('end', clear)
  request.once('close', clear)
}

/** A blob upload that sent nothing for the upload idle timeout. */
export class UploadIdleError extends Error {
  override readonly name = 'UploadIdleError'
}

/** Yields `source`'s chunks, and throws UploadIdleError (after calling `onIdle`, which answers
 * the client and closes the connection) when the next one takes longer than `idleMs` to come.
 * Only the wait on the source is timed: while the consumer holds a chunk (the disk is slow),
 * no timer runs, so backpressure is never taken for a stalled client. The read left waiting
 * at the cut may still fail once the connection closes: `onAbandonedRead` gets that error. */
export async function* idleBounded(
  source: AsyncIterable<Uint8Array>,
  idleMs: number,
  onIdle: () => void,
  onAbandonedRead: (error: unknown) => void,
): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]()
  let released = false
  try {
    for (;;) {
      const pending = iterator.next()
      const next = await withinIdle(pending, idleMs)
      if (next === 'idle') {
        // return() would queue behind the waiting read: the closed connection releases it.
        released = true
        pending.then(undefined, onAbandonedRead)
        onIdle()
        throw new UploadIdleError(`no bytes of the upload arrived for ${idleMs} ms`)
      }
      if (next.done === true) {
        released = true
        return
      }
      yield next.value
    }
  } finally {
    // A consumer that stops early (a wrong size, say) releases the source.
    if (!released) await iterator.return?.()
  }
}

async function withinIdle<T>(pending: Promise<T>, idleMs: number): Promise<T | 'idle'> {
  let timer: NodeJS.Timeout | undefined
  const idle = new Promise<'idle'>((resolve) => {
    timer = setTimeout(() => resolve('idle'), idleMs)
  })
  try {
    return await Promise.race([pending, idle])
  } finally {
    clearTimeout(timer)
  }
}

/** Answers 408 with `message` when nothing was answered yet, then closes the connection, which
 * ends the request's body with an error for whoever still reads it. */
export function cutExchange(
  request: IncomingMessage,
  response: ServerResponse,
  message: string,
): void {
  if (response.headersSent) {
    request.socket.destroy()
    return
  }
  const text = JSON.stringify({ error: message })
  response.writeHead(408, {
    connection: 'close',
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  })
  response.end(text, () => request.socket.destroy())
}
