// Answers received messages (JSON-RPC 2.0: one request, or a batch of them). Validated calls go
// to the backend (or to the connection, for subscriptions); every outcome of a request becomes
// one response, and a notification's none. Nothing thrown escapes: a GridxError goes out as it
// is, anything else is logged and sent as a generic INTERNAL_ERROR.
import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import { GridxError, isGridxError, WS_PATH } from '../../protocol/index.ts'
import type { ErrorName, Params, Results } from '../../protocol/index.ts'
import type { ApiBackend, BackendMethod, CallContext } from './api-backend.ts'
import type { GatewayMetrics } from './gateway-metrics.ts'
import { parseMessage } from './parse-request.ts'
import type { ParsedRequest, RequestId, ValidCall } from './parse-request.ts'

export type RpcResponse =
  | { readonly jsonrpc: '2.0'; readonly id: RequestId; readonly result: unknown }
  | {
      readonly jsonrpc: '2.0'
      readonly id: RequestId
      readonly error: ReturnType<GridxError['toWire']>
    }

/** What goes back for one message: a response, or for a batch an array of them. */
export type RpcReply = RpcResponse | readonly RpcResponse[]

/** Spends the rate limits for one request of a message, in the message's order; returns the
 * refusal, if any. A batch calls it once per member: every member is a request. */
export type AdmitRequest = () => GridxError | undefined

/** Subscription methods belong to a WebSocket connection, which implements them. */
export interface SubscriptionHost {
  subscribe(params: Params<'subscribe'>): Promise<Results['subscribe']>
  unsubscribe(params: Params<'unsubscribe'>): Results['unsubscribe']
}

export interface RpcDispatcherInit {
  readonly backend: ApiBackend
  readonly logger: Logger
  readonly metrics: GatewayMetrics
}

type Outcome = { readonly result: unknown } | { readonly error: GridxError }

export class RpcDispatcher {
  readonly #init: RpcDispatcherInit

  constructor(init: RpcDispatcherInit) {
    this.#init = init
  }

  /**
   * Answers one message. Resolves with undefined when nothing is to be sent back: a
   * notification, or a batch of them. A batch's members run concurrently, each admitted in
   * turn; its answer holds their responses in the batch's order.
   */
  async answer(
    message: string | Uint8Array,
    context: CallContext,
    host: SubscriptionHost | undefined,
    admit: AdmitRequest,
  ): Promise<RpcReply | undefined> {
    const startedMs = performance.now()
    const parsed = parseMessage(message)
    if (parsed.kind === 'refused') return this.refuse(null, admit() ?? parsed.error, 'unknown')
    if (parsed.kind === 'single') {
      return this.#answerOne(parsed.request, context, host, admit, startedMs)
    }
    const answers = await Promise.all(
      parsed.requests.map((request) => this.#answerOne(request, context, host, admit, startedMs)),
    )
    const responses = answers.filter((answer) => answer !== undefined)
    return responses.length === 0 ? undefined : responses
  }

  /** The response for a message refused as a whole (before or while reading it); counted. */
  refuse(id: RequestId, error: GridxError, method: string): RpcResponse {
    this.#init.metrics.answered(method, error.name as ErrorName)
    return { jsonrpc: '2.0', id, error: error.toWire() }
  }

  async #answerOne(
    request: ParsedRequest,
    context: CallContext,
    host: SubscriptionHost | undefined,
    admit: AdmitRequest,
    startedMs: number,
  ): Promise<RpcResponse | undefined> {
    // Admitted before anything else, so that a batch spends its tokens in the batch's order.
    const refusal = admit()
    if (!request.ok) {
      const id = request.notification ? undefined : request.id
      return this.#settle(id, request.method, startedMs, { error: refusal ?? request.error })
    }
    const { call } = request
    if (refusal !== undefined)
      return this.#settle(call.id, call.method, startedMs, { error: refusal })
    if (call.id === undefined && call.method === 'subscribe') {
      // Its answer would name the subscription: without one, nobody could read its events or
      // end it, and it would hold a slot of the connection's bound for nothing.
      this.#init.logger.debug({ remoteAddress: context.remoteAddress }, 'subscribe notification')
      const error = new GridxError('INVALID_REQUEST', 'a subscribe notification is not run')
      return this.#settle(undefined, call.method, startedMs, { error })
    }
    try {
      const result = await this.#run(call, context, host)
      return this.#settle(call.id, call.method, startedMs, { result })
    } catch (error) {
      return this.#settle(call.id, call.method, startedMs, {
        error: this.#toGridxError(error, call),
      })
    }
  }

  /** Counts one request's outcome and builds its response; a notification (no id) gets none. */
  #settle(
    id: RequestId | undefined,
    method: string | undefined,
    startedMs: number,
    outcome: Outcome,
  ): RpcResponse | undefined {
    const error = 'error' in outcome ? outcome.error : undefined
    const durationS = (performance.now() - startedMs) / 1000
    this.#init.metrics.answered(
      method ?? 'unknown',
      error?.name as ErrorName | undefined,
      durationS,
    )
    if (id === undefined) return undefined
    if (error !== undefined) return { jsonrpc: '2.0', id, error: error.toWire() }
    return { jsonrpc: '2.0', id, result: (outcome as { result: unknown }).result }
  }

  async #run(call: ValidCall, context: CallContext, host: SubscriptionHost | undefined) {
    if (call.method === 'subscribe' || call.method === 'unsubscribe') {
      if (host === undefined) {
        // A method of the other transport: as good as absent here, so METHOD_NOT_FOUND.
        throw new GridxError(
          'METHOD_NOT_FOUND',
          `${call.method} is a WebSocket method: call it over ${WS_PATH}`,
          { method: call.method, path: WS_PATH },
        )
      }
      return call.method === 'subscribe'
        ? host.subscribe(call.params as Params<'subscribe'>)
        : host.unsubscribe(call.params as Params<'unsubscribe'>)
    }
    const method = call.method as BackendMethod
    return this.#init.backend.call(method, call.params as Params<BackendMethod>, context)
  }

  #toGridxError(error: unknown, call: ValidCall): GridxError {
    if (isGridxError(error)) return error
    // The cause stays in the log: its message may carry paths or state a client must not see.
    this.#init.logger.error({ err: error, method: call.method, id: call.id }, 'API call failed')
    return new GridxError('INTERNAL_ERROR', 'internal error')
  }
}
