// The shape every live view's data takes: load once, follow a subscription, reload after a
// reconnect (events pushed while offline are lost), fall back to the offline cache.
import type { ReactiveController, ReactiveControllerHost } from 'lit'
import type { GridxClient } from '../net/gridx-client.ts'

export type LoadStatus = 'loading' | 'live' | 'saved' | 'error'

/**
 * Base of the data controllers. Subclasses implement `follow()` (subscribe, resolving to the
 * unsubscribe functions) and `load()` (read the current state). On connect the order is
 * subscribe, then load, so that a change between the two is still seen. `status` says whether
 * what is shown is live, saved (from the cache, while offline) or failed (`error`).
 */
export abstract class LiveResource implements ReactiveController {
  protected readonly host: ReactiveControllerHost
  protected readonly client: GridxClient
  status: LoadStatus = 'loading'
  error: string | undefined
  #stops: (() => void)[] = []
  #unlisten: (() => void)[] = []
  #generation = 0

  constructor(host: ReactiveControllerHost, client: GridxClient) {
    this.host = host
    this.client = client
    host.addController(this)
  }

  protected abstract follow(): Promise<(() => void)[]>
  protected abstract load(): Promise<void>
  /** Shows saved data; returns whether there was any. */
  protected abstract restore(): boolean

  hostConnected(): void {
    this.#unlisten.push(
      this.client.onReconnect(() => this.#reconnected()),
      this.client.onStateChange((state) => {
        if (state === 'offline' && this.status === 'loading') this.#fallBack()
      }),
    )
    void this.start()
  }

  hostDisconnected(): void {
    this.#generation += 1
    for (const stop of this.#unlisten.splice(0)) stop()
    for (const stop of this.#stops.splice(0)) stop()
  }

  /** (Re)starts following and loading; used when the host's parameters change. */
  async start(): Promise<void> {
    const generation = ++this.#generation
    for (const stop of this.#stops.splice(0)) stop()
    if (this.client.state !== 'open' && this.client.state !== 'connecting') {
      this.#fallBack()
    }
    try {
      const stops = await this.follow()
      if (generation !== this.#generation) {
        for (const stop of stops) stop()
        return
      }
      this.#stops = stops
      await this.refresh()
    } catch (error) {
      if (generation === this.#generation) this.#failed(error)
    }
  }

  /** Reads the current state again (after a reconnect, or on demand). */
  async refresh(): Promise<void> {
    const generation = this.#generation
    try {
      await this.load()
      if (generation !== this.#generation) return
      this.status = 'live'
      this.error = undefined
    } catch (error) {
      if (generation === this.#generation) this.#failed(error)
    }
    this.host.requestUpdate()
  }

  /** Called when the connection came back, before the reload; the client has subscribed
   * again by itself, and the subscriptions' replays are still to come. */
  protected reconnected(): void {}

  #reconnected(): void {
    if (this.#stops.length === 0) {
      void this.start()
      return
    }
    this.reconnected()
    void this.refresh()
  }

  #failed(error: unknown): void {
    if (this.client.state !== 'open' && this.restore()) {
      this.status = 'saved'
    } else {
      this.status = 'error'
      this.error = error instanceof Error ? error.message : String(error)
    }
    this.host.requestUpdate()
  }

  #fallBack(): void {
    if (this.restore()) this.status = 'saved'
    this.host.requestUpdate()
  }
}
