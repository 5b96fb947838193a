// One API WebSocket connection: its requests, its subscriptions, its back-pressure. Created
// by the WebSocket server after the upgrade passed the token check.
import type { Logger } from 'pino'
import type { WebSocket } from 'ws'
import { GridxError, SUBSCRIPTION_METHOD } from '../../protocol/index.ts'
import type { Params, Results, SubscriptionEvent } from '../../protocol/index.ts'
import type { ApiBackend, CallContext } from './api-backend.ts'
import type { GatewayLimits } from './constants.ts'
import type { RpcDispatcher, SubscriptionHost } from './rpc-dispatcher.ts'

export interface ApiConnectionInit {
  readonly socket: WebSocket
  readonly context: CallContext
  readonly backend: ApiBackend
  readonly dispatcher: RpcDispatcher
  readonly limits: GatewayLimits
  readonly logger: Logger
  /** Checks the rate limits for one message; returns the refusal, if any. */
  readonly admit: () => GridxError | undefined
}

/** Events a subscription may hold back until the answer to its `subscribe` (the whole batch's,
 * when it came in one) is out; past it the client is dropped, as one that reads too slowly. */
const EARLY_EVENTS_MAX = 64

export class ApiConnection {
  readonly #init: ApiConnectionInit
  readonly #subscriptions = new Map<string, () => void>()
  #inFlight = 0
  #nextSubscription = 1
  #closed = false
  /** Cleared on each ping, set on each pong: a socket still unset at the next ping is dead. */
  alive = true

  constructor(init: ApiConnectionInit) {
    this.#init = init
    init.socket.on('pong', () => {
      this.alive = true
    })
  }

  /** Handles one received frame (its text, or its bytes for a binary frame). Never throws:
   * every failure becomes a JSON-RPC error. */
  async receive(message: string | Uint8Array): Promise<void> {
    const { dispatcher, limits, context } = this.#init
    if (this.#inFlight >= limits.inFlightPerConnectionMax) {
      // Every request of the message is refused (and none run), each with its own id.
      const busy = new GridxError(
        'RATE_LIMITED',
        'too many requests in flight on this connection',
        {
          inFlightMax: limits.inFlightPerConnectionMax,
        },
      )
      const reply = await dispatcher.answer(message, context, undefined, () => busy)
      if (reply !== undefined) this.send(reply)
      return
    }
    // Events of the subscriptions this message creates wait until its answer is out: a client
    // cannot place an event before it knows the subscription, and a batch is answered whole.
    const answered: (() => void)[] = []
    const host: SubscriptionHost = {
      subscribe: (params) => this.#subscribe(params, answered),
      unsubscribe: (params) => this.#unsubscribe(params),
    }
    // A message in flight is one request or one batch: the batch's members each spend a rate
    // token, which bounds the calls a connection has running.
    this.#inFlight += 1
    try {
      const reply = await dispatcher.answer(message, context, host, this.#init.admit)
      if (reply !== undefined) this.send(reply)
    } finally {
      this.#inFlight -= 1
      for (const release of answered) release()
    }
  }

  /** Subscribes; the events that come before `answered` is run are held back (bounded). */
  async #subscribe(
    params: Params<'subscribe'>,
    answered: (() => void)[],
  ): Promise<Results['subscribe']> {
    const max = this.#init.limits.subscriptionsPerConnectionMax
    if (this.#subscriptions.size >= max) {
      throw new GridxError('RATE_LIMITED', `at most ${max} subscriptions per connection`, {
        subscriptionsMax: max,
      })
    }
    const subscription = `s${this.#nextSubscription++}`
    // Reserve the slot before awaiting, so concurrent subscribes cannot pass the bound.
    this.#subscriptions.set(subscription, () => undefined)
    const early: SubscriptionEvent[] = []
    let ready = false
    const push = (event: SubscriptionEvent) => {
      if (ready) this.#notify(subscription, event)
      else if (early.length < EARLY_EVENTS_MAX) early.push(event)
      else this.#drop('subscription events outran the subscribe answer')
    }
    try {
      const stop = await this.#init.backend.subscribe(
        params.topic,
        params,
        this.#init.context,
        push,
      )
      if (this.#closed || !this.#subscriptions.has(subscription)) stop()
      else this.#subscriptions.set(subscription, stop)
    } catch (error) {
      this.#subscriptions.delete(subscription)
      throw error
    }
    answered.push(() => {
      ready = true
      for (const event of early.splice(0)) this.#notify(subscription, event)
    })
    return { subscription }
  }

  #unsubscribe(params: Params<'unsubscribe'>): Results['unsubscribe'] {
    const stop = this.#subscriptions.get(params.subscription)
    if (stop === undefined) return { removed: false }
    this.#subscriptions.delete(params.subscription)
    stop()
    return { removed: true }
  }

  /** Releases every subscription. Called once, when the socket has closed. */
  closed(): void {
    this.#closed = true
    for (const stop of this.#subscriptions.values()) stop()
    this.#subscriptions.clear()
  }

  get subscriptionCount(): number {
    return this.#subscriptions.size
  }

  send(message: unknown): void {
    const { socket, limits } = this.#init
    if (this.#closed || socket.readyState !== socket.OPEN) return
    socket.send(JSON.stringify(message))
    if (socket.bufferedAmount > limits.connectionBufferedBytesMax) {
      this.#drop('client reads too slowly')
    }
  }

  #notify(subscription: string, event: SubscriptionEvent): void {
    if (!this.#subscriptions.has(subscription)) return
    this.send({ jsonrpc: '2.0', method: SUBSCRIPTION_METHOD, params: { subscription, event } })
  }

  #drop(reason: string): void {
    this.#init.logger.warn({ remoteAddress: this.#init.context.remoteAddress, reason }, 'drop')
    this.#init.socket.terminate()
  }
}
