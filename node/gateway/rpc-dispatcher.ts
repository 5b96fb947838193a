// Answers validated calls: hands them to the backend (or to the connection, for
// subscriptions), and turns every outcome into one JSON-RPC response. Nothing thrown escapes:
// a GridxError goes out as it is, anything else is logged and sent as a generic INTERNAL_ERROR.
import type { Logger } from 'pino'
import { GridxError, isGridxError, WS_PATH } from '../../protocol/index.ts'
import type { ErrorName, Params, Results } from '../../protocol/index.ts'
import type { ApiBackend, BackendMethod, CallContext } from './api-backend.ts'
import type { GatewayMetrics } from './gateway-metrics.ts'
import type { ParsedRequest, RequestId, ValidCall } from './parse-request.ts'

export type RpcResponse =
  | { readonly jsonrpc: '2.0'; readonly id: RequestId; readonly result: unknown }
  | {
      readonly jsonrpc: '2.0'
      readonly id: RequestId
      readonly error: ReturnType<GridxError['toWire']>
    }

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

export class RpcDispatcher {
  readonly #init: RpcDispatcherInit

  constructor(init: RpcDispatcherInit) {
    this.#init = init
  }

  async answer(
    parsed: ParsedRequest,
    context: CallContext,
    host: SubscriptionHost | undefined,
  ): Promise<RpcResponse> {
    if (!parsed.ok) return this.refuse(parsed.id, parsed.error, 'unknown')
    const { call } = parsed
    try {
      const result = await this.#run(call, context, host)
      this.#init.metrics.answered(call.method, undefined)
      return { jsonrpc: '2.0', id: call.id, result }
    } catch (error) {
      return this.refuse(call.id, this.#toGridxError(error, call), call.method)
    }
  }

  /** The response for a request refused before or during its call; counted in metrics. */
  refuse(id: RequestId, error: GridxError, method: string): RpcResponse {
    this.#init.metrics.answered(method, error.name as ErrorName)
    return { jsonrpc: '2.0', id, error: error.toWire() }
  }

  async #run(call: ValidCall, context: CallContext, host: SubscriptionHost | undefined) {
    if (call.method === 'subscribe' || call.method === 'unsubscribe') {
      if (host === undefined) {
        throw new GridxError('INVALID_REQUEST', `subscriptions need the WebSocket at ${WS_PATH}`)
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
