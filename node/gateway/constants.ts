// Bounds and timings of the gateway that are local to it. The API-wide limits (message bytes,
// rates, subscriptions, connections, buffered bytes) live in protocol/limits.ts; these only
// matter inside this process, so they stay next to the code that uses them.
import {
  BLOB_UPLOAD_IDLE_TIMEOUT_MS,
  CONNECTION_BUFFERED_BYTES_MAX,
  CONNECTIONS_MAX,
  RATE_ADDRESS_BURST,
  RATE_ADDRESS_PER_S,
  RATE_TOKEN_BURST,
  RATE_TOKEN_PER_S,
  RPC_MESSAGE_BYTES_MAX,
  SUBSCRIPTIONS_PER_CONNECTION_MAX,
} from '../../protocol/index.ts'

/** The WebSocket subprotocol a client may offer next to its token; the server selects it so
 * that the token is never echoed back in the handshake response. */
export const WS_SUBPROTOCOL = 'gridx.v1'
/** Prefix of the subprotocol that carries the token, for browsers that cannot set headers. */
export const WS_TOKEN_SUBPROTOCOL_PREFIX = 'gridx.token.'

/** Every bound the gateway enforces. Tests shrink them; the daemon uses the defaults. */
export interface GatewayLimits {
  readonly messageBytesMax: number
  readonly tokenPerS: number
  readonly tokenBurst: number
  readonly addressPerS: number
  readonly addressBurst: number
  readonly subscriptionsPerConnectionMax: number
  readonly connectionsMax: number
  readonly connectionBufferedBytesMax: number
  /** Requests of one WebSocket connection being served at once: a client that pipelines
   * more waits for answers instead of growing the daemon's memory. */
  readonly inFlightPerConnectionMax: number
  /** Rate buckets kept at once. A flood from many addresses evicts the idle ones first, then
   * the oldest, so the map never grows past this. */
  readonly rateBucketsMax: number
  /** Interval of WebSocket pings; a socket that has not answered the previous ping by the
   * next one is dead and is dropped. 30 s is below common proxy idle timeouts (60 s). */
  readonly pingIntervalMs: number
  /** How long stop() lets connections close politely before it cuts them. */
  readonly stopGraceMs: number
  /** Time allowed to receive a request's headers, and the body of any request but a blob
   * upload: slow-loris clients are cut. */
  readonly requestTimeoutMs: number
  /** Time a blob upload's body may send nothing; its total time is not bounded (see
   * BLOB_UPLOAD_IDLE_TIMEOUT_MS). */
  readonly uploadIdleTimeoutMs: number
  /** TCP connections open at once, idle, HTTP and WebSocket alike. Past it a new connection
   * is closed at once: a flood of idle sockets costs the daemon no more file descriptors
   * than this (LevelDB, libp2p and Docker need theirs), only the wait of the request
   * timeout. Room for the WebSocket bound plus as many plain HTTP clients. */
  readonly httpConnectionsMax: number
}

export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = {
  messageBytesMax: RPC_MESSAGE_BYTES_MAX,
  tokenPerS: RATE_TOKEN_PER_S,
  tokenBurst: RATE_TOKEN_BURST,
  addressPerS: RATE_ADDRESS_PER_S,
  addressBurst: RATE_ADDRESS_BURST,
  subscriptionsPerConnectionMax: SUBSCRIPTIONS_PER_CONNECTION_MAX,
  connectionsMax: CONNECTIONS_MAX,
  connectionBufferedBytesMax: CONNECTION_BUFFERED_BYTES_MAX,
  inFlightPerConnectionMax: 64,
  rateBucketsMax: 10_000,
  pingIntervalMs: 30_000,
  stopGraceMs: 2_000,
  requestTimeoutMs: 30_000,
  uploadIdleTimeoutMs: BLOB_UPLOAD_IDLE_TIMEOUT_MS,
  httpConnectionsMax: 2 * CONNECTIONS_MAX,
}
