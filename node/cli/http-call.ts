// One JSON-RPC call over HTTP, as protocol's httpCall makes it, but through node:http: a
// command's first fetch() loads and starts undici, which costs a one-shot command about
// 100 ms of CPU, ten times what node:http does. Answers and errors are read as httpCall
// reads them, so the two differ only in transport.
import type { IncomingMessage, request } from 'node:http'
import {
  API_PATH,
  CALL_TIMEOUT_MS_DEFAULT,
  GridxError,
  RPC_MESSAGE_BYTES_MAX,
} from '../../protocol/index.ts'
import type { Method, ParamsInput, Results } from '../../protocol/index.ts'

type Answer = { result?: unknown; error?: { code: number; message: string; data?: unknown } }

/** Rejects with GridxError for an error answer or an answer that is not JSON-RPC, and with
 * the socket's own error (its `code`, ECONNREFUSED say) when the daemon cannot be reached. */
export async function httpCall<M extends Method>(
  baseUrl: string,
  token: string,
  method: M,
  params: ParamsInput<M>,
): Promise<Results[M]> {
  const url = new URL(baseUrl.replace(/\/+$/, '') + API_PATH)
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })
  // node:https (and TLS with it) only for an https address, behind a proxy say.
  const http = url.protocol === 'https:' ? await import('node:https') : await import('node:http')
  const { status, text } = await post(http.request, url, token, body)
  let answer: Answer
  try {
    answer = JSON.parse(text) as Answer
  } catch (error) {
    const detail = { status, cause: String(error) }
    throw new GridxError('UNAVAILABLE', `unexpected answer (HTTP ${status})`, detail)
  }
  if (answer.error !== undefined) throw GridxError.fromWire(answer.error)
  return answer.result as Results[M]
}

function post(
  send: typeof request,
  url: URL,
  token: string,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = send(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS_DEFAULT),
    })
    outgoing.on('error', reject)
    outgoing.on('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = []
      let bytes = 0
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength
        // The daemon answers within the API's message limit; more is not an answer of it.
        if (bytes > RPC_MESSAGE_BYTES_MAX) {
          const data = { bytesMax: RPC_MESSAGE_BYTES_MAX }
          response.destroy(new GridxError('TOO_LARGE', 'answer exceeds the message limit', data))
          return
        }
        chunks.push(chunk)
      })
      response.on('error', reject)
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') })
      })
    })
    outgoing.end(body)
  })
}
