// The typed JSON-RPC client of the Grid-X API, shared by the CLI and the PWA. Browser-safe:
// it uses the global WebSocket and fetch only (the daemon polyfills WebSocket on Node 20).
import { GridxError } from './errors.ts'
import { RPC_MESSAGE_BYTES_MAX } from './limits.ts'
import { API_PATH, SUBSCRIPTION_METHOD, WS_PATH } from './rpc.ts'
import type { Method, ParamsInput, Results, SubscriptionEvent, SubscriptionTopic } from './rpc.ts'

/** A call's default wait for its answer: long enough for a busy coordinator, short enough
 * that a person notices a dead daemon. */
export const CALL_TIMEOUT_MS_DEFAULT = 30_000
/** Reconnect backoff: starts fast for a daemon restart, caps so a long outage costs little. */
export const RECONNECT_DELAY_MS_MIN = 250
export const RECONNECT_DELAY_MS_MAX = 30_000
/** Calls waiting for an answer or for the connection; past it a call fails at once. */
export const PENDING_CALLS_MAX = 1024

const encoder = new TextEncoder()

/** `connecting` (first attempt), `open`, `reconnecting` (lost, retrying), `closed` (by close()). */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'

export interface RpcClientInit {
  /** The daemon's base URL (`http://127.0.0.1:7070`) or the WebSocket URL itself. */
  readonly url: string
  readonly token: string
  readonly callTimeoutMs?: number
  readonly reconnectDelayMsMin?: number
  readonly reconnectDelayMsMax?: number
  /** Source of jitter in [0, 1). */
  readonly random?: () => number
}

export interface CallOptions {
  readonly signal?: AbortSignal
  readonly timeoutMs?: number
}

export type TopicEvent<T extends SubscriptionTopic> = Extract<SubscriptionEvent, { topic: T }>

interface Pending {
  readonly text: string
  sent: boolean
  readonly resolve: (result: unknown) => void
  readonly reject: (error: unknown) => void
}

interface LocalSubscription {
  readonly params: ParamsInput<'subscribe'>
  readonly onEvent: (event: SubscriptionEvent) => void
  serverId: string | undefined
}

type Message = {
  id?: unknown
  method?: unknown
  params?: { subscription?: unknown; event?: SubscriptionEvent }
  result?: unknown
  error?: { code: number; message: string; data?: unknown }
}

/** Characters a subprotocol may carry (RFC 7230 tchar); other tokens go in the query. */
const TCHAR = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/

function socketUrl(url: string): string {
  if (/^wss?:/.test(url)) return url
  return url.replace(/^http/, 'ws').replace(/\/+$/, '') + WS_PATH
}

/**
 * One WebSocket to the daemon, kept open: calls wait for it, and after a loss it reconnects
 * with exponential backoff and jitter and re-subscribes every live subscription. Calls that
 * were in flight when the connection was lost fail with UNAVAILABLE (state-changing methods
 * carry an idempotency id, so the caller may retry them safely). Errors are GridxErrors.
 */
export class RpcClient {
  readonly #init: RpcClientInit
  readonly #pending = new Map<number, Pending>()
  readonly #subscriptions = new Set<LocalSubscription>()
  readonly #byServerId = new Map<string, LocalSubscription>()
  readonly #stateListeners = new Set<(state: ConnectionState) => void>()
  readonly #errorListeners = new Set<(error: unknown) => void>()
  #socket: WebSocket | undefined
  #state: ConnectionState = 'idle'
  #attempt = 0
  #nextId = 1
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined
  #firstOpen: { resolve: () => void; reject: (error: unknown) => void } | undefined

  constructor(init: RpcClientInit) {
    this.#init = init
  }

  get state(): ConnectionState {
    return this.#state
  }

  /** Listens to connection states (for an offline banner); returns the unlisten function. */
  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.#stateListeners.add(listener)
    return () => this.#stateListeners.delete(listener)
  }

  /** Listens to errors no caller awaits: a failed re-subscription, a throwing event handler. */
  onError(listener: (error: unknown) => void): () => void {
    this.#errorListeners.add(listener)
    return () => this.#errorListeners.delete(listener)
  }

  /** Opens the connection. Rejects if the first attempt fails (retries go on until close()). */
  connect(): Promise<void> {
    if (this.#state === 'open') return Promise.resolve()
    if (this.#state === 'closed') return Promise.reject(closedError())
    const opened = new Promise<void>((resolve, reject) => {
      this.#firstOpen = { resolve, reject }
    })
    if (this.#state === 'idle') this.#open()
    return opened
  }

  /** Closes for good: pending calls fail, subscriptions end, no reconnect. */
  close(): void {
    if (this.#state === 'closed') return
    this.#setState('closed')
    clearTimeout(this.#reconnectTimer)
    this.#socket?.close(1000, 'client closed')
    this.#socket = undefined
    this.#failPending(closedError(), true)
    this.#subscriptions.clear()
    this.#byServerId.clear()
  }

  call<M extends Method>(
    method: M,
    params: ParamsInput<M>,
    options: CallOptions = {},
  ): Promise<Results[M]> {
    return this.#call(method, params, options, undefined)
  }

  /** `onAnswer` runs as the answer is read, before any later message on the socket. */
  #call<M extends Method>(
    method: M,
    params: ParamsInput<M>,
    options: CallOptions,
    onAnswer: ((result: Results[M]) => void) | undefined,
  ): Promise<Results[M]> {
    if (this.#state === 'closed') return Promise.reject(closedError())
    if (this.#pending.size >= PENDING_CALLS_MAX) {
      return Promise.reject(new GridxError('UNAVAILABLE', 'too many calls waiting'))
    }
    const id = this.#nextId++
    const text = JSON.stringify({ jsonrpc: '2.0', id, method, params })
    if (encoder.encode(text).byteLength > RPC_MESSAGE_BYTES_MAX) {
      const data = { bytesMax: RPC_MESSAGE_BYTES_MAX }
      return Promise.reject(new GridxError('TOO_LARGE', 'request exceeds the message limit', data))
    }
    if (this.#state === 'idle') this.#open()
    return new Promise<Results[M]>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.#init.callTimeoutMs ?? CALL_TIMEOUT_MS_DEFAULT
      const settle = () => {
        clearTimeout(timer)
        options.signal?.removeEventListener('abort', onAbort)
        this.#pending.delete(id)
      }
      const timer = setTimeout(() => {
        settle()
        reject(new GridxError('UNAVAILABLE', `${method}: no answer within ${timeoutMs} ms`))
      }, timeoutMs)
      const onAbort = () => {
        settle()
        reject(options.signal?.reason)
      }
      if (options.signal?.aborted === true) return onAbort()
      options.signal?.addEventListener('abort', onAbort, { once: true })
      const pending: Pending = {
        text,
        sent: false,
        resolve: (result) => {
          settle()
          onAnswer?.(result as Results[M])
          resolve(result as Results[M])
        },
        reject: (error) => (settle(), reject(error)),
      }
      this.#pending.set(id, pending)
      this.#send(pending)
    })
  }

  /**
   * Subscribes to `topic`; resolves once the daemon confirmed, to the function that ends the
   * subscription. It survives reconnects: the client subscribes again after each one.
   */
  async subscribe<T extends SubscriptionTopic>(
    topic: T,
    params: Omit<ParamsInput<'subscribe'>, 'topic'> & { readonly topic?: T },
    onEvent: (event: TopicEvent<T>) => void,
    options: CallOptions = {},
  ): Promise<() => void> {
    const local: LocalSubscription = {
      params: { ...params, topic },
      onEvent: onEvent as (event: SubscriptionEvent) => void,
      serverId: undefined,
    }
    await this.#subscribe(local, options)
    this.#subscriptions.add(local)
    return () => this.#unsubscribe(local)
  }

  async #subscribe(local: LocalSubscription, options: CallOptions): Promise<void> {
    // Known as the answer is read: events the daemon sends right behind it may be parsed from
    // the same read of the socket, before an awaiting continuation would run.
    await this.#call('subscribe', local.params, options, ({ subscription }) => {
      local.serverId = subscription
      this.#byServerId.set(subscription, local)
    })
  }

  #unsubscribe(local: LocalSubscription): void {
    if (!this.#subscriptions.delete(local) || local.serverId === undefined) return
    this.#byServerId.delete(local.serverId)
    if (this.#state !== 'open') return
    this.call('unsubscribe', { subscription: local.serverId }).catch((error: unknown) => {
      this.#report(error)
    })
  }

  #open(): void {
    this.#setState(this.#attempt === 0 ? 'connecting' : 'reconnecting')
    const { token } = this.#init
    const url = new URL(socketUrl(this.#init.url))
    const protocols = TCHAR.test(token) ? ['gridx.v1', `gridx.token.${token}`] : []
    if (protocols.length === 0) url.searchParams.set('token', token)
    const socket = new WebSocket(url, protocols)
    this.#socket = socket
    let failure = 'connection closed'
    socket.onopen = () => this.#opened()
    socket.onmessage = (event: MessageEvent) => this.#receive(String(event.data))
    socket.onerror = (event: Event) => {
      failure = (event as Event & { message?: string }).message ?? 'connection failed'
    }
    socket.onclose = () => {
      if (this.#socket === socket) this.#lost(`cannot connect to ${url.origin}: ${failure}`)
    }
  }

  #opened(): void {
    this.#attempt = 0
    this.#setState('open')
    this.#firstOpen?.resolve()
    this.#firstOpen = undefined
    for (const pending of this.#pending.values()) this.#send(pending)
    for (const local of this.#subscriptions) {
      this.#subscribe(local, {}).catch((error: unknown) => {
        this.#subscriptions.delete(local)
        this.#report(error)
      })
    }
  }

  #lost(reason: string): void {
    this.#socket = undefined
    if (this.#state === 'closed') return
    // A node client sees the refused upgrade's status; a browser sees only a close.
    const error = /\b401\b/.test(reason)
      ? new GridxError('UNAUTHORIZED', 'the daemon refused the API token')
      : new GridxError('UNAVAILABLE', reason)
    this.#firstOpen?.reject(error)
    this.#firstOpen = undefined
    this.#failPending(new GridxError('UNAVAILABLE', 'connection lost'), false)
    for (const local of this.#subscriptions) local.serverId = undefined
    this.#byServerId.clear()
    const delayMs = backoffDelayMs(
      this.#attempt,
      this.#init.reconnectDelayMsMin ?? RECONNECT_DELAY_MS_MIN,
      this.#init.reconnectDelayMsMax ?? RECONNECT_DELAY_MS_MAX,
      (this.#init.random ?? Math.random)(),
    )
    this.#attempt += 1
    this.#setState('reconnecting')
    this.#reconnectTimer = setTimeout(() => this.#open(), delayMs)
  }

  /** Fails calls already sent (their answer is lost with the connection), or all of them. */
  #failPending(error: GridxError, all: boolean): void {
    for (const pending of [...this.#pending.values()]) {
      if (all || pending.sent) pending.reject(error)
    }
  }

  #send(pending: Pending): void {
    if (pending.sent || this.#state !== 'open' || this.#socket === undefined) return
    this.#socket.send(pending.text)
    pending.sent = true
  }

  #receive(text: string): void {
    let message: Message
    try {
      message = JSON.parse(text) as Message
    } catch (error) {
      return this.#report(error)
    }
    if (message.method === SUBSCRIPTION_METHOD) {
      const local = this.#byServerId.get(String(message.params?.subscription))
      if (local === undefined || message.params?.event === undefined) return
      try {
        local.onEvent(message.params.event)
      } catch (error) {
        this.#report(error)
      }
      return
    }
    const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined
    if (pending === undefined) return
    if (message.error !== undefined) pending.reject(GridxError.fromWire(message.error))
    else pending.resolve(message.result)
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return
    this.#state = state
    for (const listener of this.#stateListeners) listener(state)
  }

  #report(error: unknown): void {
    if (this.#errorListeners.size === 0) console.warn('gridx client:', error)
    for (const listener of this.#errorListeners) listener(error)
  }
}

/** Delay before reconnect attempt `attempt` (0-based): doubling from `minMs`, capped at
 * `maxMs`, with "equal jitter" (half fixed, half random) so clients that lost the same daemon
 * do not all come back in the same instant. `random` is in [0, 1). */
export function backoffDelayMs(attempt: number, minMs: number, maxMs: number, random: number) {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30))
  return ceiling / 2 + (ceiling / 2) * random
}

function closedError(): GridxError {
  return new GridxError('UNAVAILABLE', 'client closed')
}

/** One call over `POST /api/v1/rpc`, for scripts. Network failures reject as fetch's own
 * errors; answers reject as GridxError. */
export async function httpCall<M extends Method>(
  baseUrl: string,
  token: string,
  method: M,
  params: ParamsInput<M>,
  options: CallOptions = {},
): Promise<Results[M]> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? CALL_TIMEOUT_MS_DEFAULT)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal])
  const response = await fetch(baseUrl.replace(/\/+$/, '') + API_PATH, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal,
  })
  const text = await response.text()
  let message: Message
  try {
    message = JSON.parse(text) as Message
  } catch (error) {
    const detail = { status: response.status, cause: String(error) }
    throw new GridxError('UNAVAILABLE', `unexpected answer (HTTP ${response.status})`, detail)
  }
  if (message.error !== undefined) throw GridxError.fromWire(message.error)
  return message.result as Results[M]
}
