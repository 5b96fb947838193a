// The interface the gateway needs from the rest of the daemon. The gateway owns it (the
// consumer owns the interface, DESIGN section 2); the daemon's composition root implements it.
import type {
  Method,
  Params,
  Results,
  SubscriptionEvent,
  SubscriptionTopic,
} from '../../protocol/index.ts'

/** Who is calling and how. One token per daemon, so the account is the daemon's owner. */
export interface CallContext {
  readonly account: string
  readonly remoteAddress: string
  readonly transport: 'http' | 'ws'
}

/** Methods the gateway answers itself: they belong to a WebSocket connection. */
export type ConnectionMethod = 'subscribe' | 'unsubscribe'
export type BackendMethod = Exclude<Method, ConnectionMethod>

/**
 * What the daemon does for the API. The gateway calls it only with params that passed
 * `paramsSchemas[method]` (defaults applied), never for a bad request.
 *
 * Errors: throw a GridxError to send its code, message and data to the client; anything else
 * is logged and answered with INTERNAL_ERROR and a generic message.
 */
export interface ApiBackend {
  call<M extends BackendMethod>(
    method: M,
    params: Params<M>,
    context: CallContext,
  ): Promise<Results[M]>

  /**
   * Starts pushing events of `topic` to `push` until the returned function is called. The
   * gateway calls that function exactly once: on `unsubscribe` or when the connection closes.
   * Events pushed before this resolves are held and delivered after the subscribe answer.
   */
  subscribe(
    topic: SubscriptionTopic,
    params: Params<'subscribe'>,
    context: CallContext,
    push: (event: SubscriptionEvent) => void,
  ): (() => void) | Promise<() => void>
}
