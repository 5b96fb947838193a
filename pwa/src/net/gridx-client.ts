// The app's only network code: one RpcClient (protocol/client.ts) to the daemon that served
// the page, plus one HTTP probe that tells a refused token from an unreachable daemon (a
// browser sees a refused WebSocket upgrade only as a close, without its status).
import { BLOBS_PATH, GridxError, isGridxError } from '../../../protocol/index.ts'
import type { Method, ParamsInput, Results } from '../../../protocol/index.ts'
import { httpCall, RpcClient } from '../../../protocol/index.ts'
import type { CallOptions, ConnectionState, TopicEvent } from '../../../protocol/index.ts'
import type { SubscriptionTopic } from '../../../protocol/index.ts'

/** What the app shows: `open`, `connecting` (first attempt), `offline` (lost or never
 * reached; retrying with backoff), `unauthorized` (the token is wrong; no retries). */
export type AppConnectionState = 'connecting' | 'open' | 'offline' | 'unauthorized'

/** Bound on the token probe: a daemon that answers nothing within it counts as offline. */
const PROBE_TIMEOUT_MS = 5_000

function appState(state: ConnectionState): AppConnectionState {
  if (state === 'open') return 'open'
  if (state === 'idle' || state === 'connecting') return 'connecting'
  return 'offline'
}

/**
 * The daemon as the app sees it. Owns one RpcClient for the page's life; `close()` ends it.
 * Listeners of `onStateChange` hear every change of the app-level state, and `onReconnect`
 * listeners hear each reopening after a loss (to fetch what changed while offline: the
 * client re-subscribes by itself, but events pushed while it was away are gone).
 */
export class GridxClient {
  readonly #baseUrl: string
  readonly #token: string
  readonly #rpc: RpcClient
  readonly #listeners = new Set<(state: AppConnectionState) => void>()
  readonly #reconnectListeners = new Set<() => void>()
  #state: AppConnectionState = 'connecting'
  #wasOpen = false

  constructor(baseUrl: string, token: string) {
    this.#baseUrl = baseUrl
    this.#token = token
    this.#rpc = new RpcClient({ url: baseUrl, token })
    this.#rpc.onStateChange((state) => this.#changed(state))
    this.#rpc.onError((error) => console.warn('gridx:', error))
  }

  /** A blob's bytes from the daemon (which fetches it from `from`, or any peer, if it lacks
   * it). Rejects with the daemon's words when it refuses. */
  async blob(cid: string, from: string | null): Promise<Blob> {
    const query = from === null ? '' : `?from=${encodeURIComponent(from)}`
    const response = await fetch(`${this.#baseUrl}${BLOBS_PATH}/${cid}${query}`, {
      headers: { authorization: `Bearer ${this.#token}` },
    })
    if (!response.ok) throw new Error(await refusal(response))
    return response.blob()
  }

  /** Whether the daemon holds a blob, so an upload sends nothing twice. */
  async hasBlob(cid: string, signal?: AbortSignal): Promise<boolean> {
    const response = await fetch(`${this.#baseUrl}${BLOBS_PATH}/${cid}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${this.#token}` },
      cache: 'no-store',
      signal,
    })
    if (response.status === 200) return true
    if (response.status === 404) return false
    // A HEAD answer has no body to give the daemon's words.
    throw new Error(`the daemon answered ${response.status} when asked for ${cid}`)
  }

  /** Uploads a blob, reporting the bytes sent so far as they go. XMLHttpRequest, not fetch:
   * fetch reports no upload progress. Rejects with the daemon's words when it refuses. */
  putBlob(
    cid: string,
    body: Blob,
    onProgress: (loaded: number) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest()
      request.open('PUT', `${this.#baseUrl}${BLOBS_PATH}/${cid}`)
      request.setRequestHeader('authorization', `Bearer ${this.#token}`)
      request.setRequestHeader('content-type', 'application/octet-stream')
      request.upload.onprogress = (event) => onProgress(event.loaded)
      request.onload = () => {
        if (request.status === 200 || request.status === 201) return resolve()
        reject(new Error(refusalText(request.status, request.responseText)))
      }
      request.onerror = () => reject(new Error('the upload failed: the daemon is unreachable'))
      request.onabort = () => reject(signal?.reason ?? new Error('the upload was stopped'))
      signal?.addEventListener('abort', () => request.abort(), { once: true })
      request.send(body)
    })
  }

  get state(): AppConnectionState {
    return this.#state
  }

  /** Opens the connection; when the first attempt fails, asks over HTTP whether the token is
   * the cause. Never rejects: the outcome is the state. */
  async start(): Promise<AppConnectionState> {
    try {
      await this.#rpc.connect()
    } catch (error) {
      await this.#probe(error)
    }
    return this.#state
  }

  close(): void {
    this.#rpc.close()
  }

  onStateChange(listener: (state: AppConnectionState) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  onReconnect(listener: () => void): () => void {
    this.#reconnectListeners.add(listener)
    return () => this.#reconnectListeners.delete(listener)
  }

  /** Calls a method. Refuses at once, without sending, while offline. */
  call<M extends Method>(
    method: M,
    params: ParamsInput<M>,
    options?: CallOptions,
  ): Promise<Results[M]> {
    if (this.#state === 'unauthorized') {
      return Promise.reject(new GridxError('UNAUTHORIZED', 'the daemon refused the API token'))
    }
    return this.#rpc.call(method, params, options)
  }

  subscribe<T extends SubscriptionTopic>(
    topic: T,
    params: { readonly id?: string },
    onEvent: (event: TopicEvent<T>) => void,
  ): Promise<() => void> {
    return this.#rpc.subscribe(topic, params, onEvent)
  }

  async #probe(cause: unknown): Promise<void> {
    try {
      await httpCall(this.#baseUrl, this.#token, 'mesh.info', {}, { timeoutMs: PROBE_TIMEOUT_MS })
    } catch (error) {
      if (isGridxError(error) && error.name === 'UNAUTHORIZED') {
        this.#rpc.close()
        this.#set('unauthorized')
        return
      }
    }
    // Reachable with a good token (the socket will come back) or unreachable: offline.
    if (this.#state !== 'open') this.#set('offline')
    if (!isGridxError(cause)) console.warn('gridx: connect failed', cause)
  }

  #changed(state: ConnectionState): void {
    if (this.#state === 'unauthorized') return
    const next = appState(state)
    if (next === 'open' && this.#wasOpen && this.#state !== 'open') {
      queueMicrotask(() => {
        for (const listener of this.#reconnectListeners) listener()
      })
    }
    if (next === 'open') this.#wasOpen = true
    this.#set(next)
  }

  #set(state: AppConnectionState): void {
    if (this.#state === state) return
    this.#state = state
    for (const listener of this.#listeners) listener(state)
  }
}

/** The daemon's words for a refused blob request, or its status when it gave none. */
async function refusal(response: Response): Promise<string> {
  return refusalText(response.status, await response.text())
}

function refusalText(status: number, text: string): string {
  try {
    return (JSON.parse(text) as { error?: string }).error ?? `the daemon answered ${status}`
  } catch {
    // Not JSON (a proxy's page, say): the status says enough.
    return `the daemon answered ${status}`
  }
}
