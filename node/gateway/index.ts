// The gateway: the daemon's one HTTP port and its JSON-RPC API (DESIGN section 7).
//
// Routes:
// - `GET /healthz`: 200 `{status: 'ok', ...health()}`, 503 when health() fails. No token.
// - `GET /metrics`: Prometheus text of the daemon's registry. No token: it carries counts,
//   never account data, and scrapers carry none. Bind to loopback (the default) or put a
//   proxy in front when the port is exposed.
// - `POST /api/v1/rpc`: JSON-RPC 2.0 (a request, a notification or a batch of up to
//   RPC_BATCH_REQUESTS_MAX), `Authorization: Bearer <token>`. Refusals of the exchange before
//   its body is read carry an HTTP status (401, 413 TOO_LARGE, 429 RATE_LIMITED), as does a
//   body that is not JSON (400 PARSE_ERROR); every other answer, JSON-RPC errors included, is a
//   200, and 204 when nothing is to be answered (notifications only). `subscribe` and
//   `unsubscribe` are METHOD_NOT_FOUND here: they need the WebSocket.
// - `GET /api/v1/ws`: the WebSocket. Token by Authorization header, `gridx.token.<token>`
//   subprotocol offered with `gridx.v1` (which is selected: the token is never echoed; the
//   token subprotocol alone is refused with 400) or `token` query parameter. A frame over
//   RPC_MESSAGE_BYTES_MAX closes the socket with 1009. Events arrive as
//   `{"jsonrpc":"2.0","method":"subscription","params":{subscription,event}}`. A `subscribe`
//   notification is not run: with no answer, nobody could name its subscription.
// - Any other GET: the web app from `staticDir`, with index.html for app routes.
//
// Rate limits: a request with the token spends the token's bucket only; one without it or
// with a wrong one spends its remote address's bucket only, so neither starves the other.
// Every request of a batch spends one token, in order; those past the bucket get RATE_LIMITED.
// No CORS headers are sent: the app is same-origin, and other origins must not read answers.
// Origins (origin-policy.ts): a request with an Origin header uses the API only from the
// daemon's own origins or `allowOrigins` (403 otherwise); a loopback listener answers only
// its own names in Host (403 on every path otherwise); every answer carries a CSP.
// Bounds: `httpConnectionsMax` open connections, `requestTimeoutMs` for headers and for the
// body of any request but a blob upload, whose body may take any time but may not go silent
// for `uploadIdleTimeoutMs` (408, nothing stored); a download, once asked, is not timed;
// frames over RPC_MESSAGE_BYTES_MAX close with 1009, bodies and binary frames must be UTF-8.
export { createGateway } from './gateway.ts'
export type { Gateway, GatewayAddress, GatewayInit } from './gateway.ts'
export type { ApiBackend, BackendMethod, CallContext, ConnectionMethod } from './api-backend.ts'
export { DEFAULT_GATEWAY_LIMITS, WS_SUBPROTOCOL, WS_TOKEN_SUBPROTOCOL_PREFIX } from './constants.ts'
export type { GatewayLimits } from './constants.ts'
export type { HealthReport } from './http-routes.ts'
export type { BlobBackend, BlobReader } from './blob-routes.ts'
export { parseOrigin } from './origin-policy.ts'
