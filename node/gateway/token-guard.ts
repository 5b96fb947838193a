// API token checks. Tokens are compared as SHA-256 digests with timingSafeEqual: digests have
// equal length whatever the caller sent, so neither the comparison time nor an early length
// check tells an attacker anything about the token.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { WS_TOKEN_SUBPROTOCOL_PREFIX } from './constants.ts'

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

export class TokenGuard {
  readonly #expected: Buffer

  constructor(token: string) {
    if (token.length === 0) throw new TypeError('the API token must not be empty')
    this.#expected = digest(token)
  }

  /** True when `presented` is the daemon's token. Missing tokens are simply not equal. */
  accepts(presented: string | undefined): boolean {
    return timingSafeEqual(digest(presented ?? ''), this.#expected)
  }
}

/** The token of a plain HTTP request: `Authorization: Bearer <token>` only. */
export function bearerToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization
  if (header === undefined) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

/**
 * The token of a WebSocket upgrade. Browsers cannot set headers on a WebSocket, so besides
 * the Authorization header we accept the `token` query parameter and a subprotocol
 * `gridx.token.<token>`; the header wins, then the subprotocol, then the query.
 */
export function upgradeToken(request: IncomingMessage, url: URL): string | undefined {
  const fromHeader = bearerToken(request)
  if (fromHeader !== undefined) return fromHeader
  const offered = request.headers['sec-websocket-protocol'] ?? ''
  for (const protocol of offered.split(',')) {
    const trimmed = protocol.trim()
    if (trimmed.startsWith(WS_TOKEN_SUBPROTOCOL_PREFIX)) {
      return trimmed.slice(WS_TOKEN_SUBPROTOCOL_PREFIX.length)
    }
  }
  return url.searchParams.get('token') ?? undefined
}
