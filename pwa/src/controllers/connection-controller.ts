// Mirrors the daemon connection's state into a host element, which re-renders on a change.
import type { ReactiveController, ReactiveControllerHost } from 'lit'
import type { AppConnectionState, GridxClient } from '../net/gridx-client.ts'

export class ConnectionController implements ReactiveController {
  readonly #host: ReactiveControllerHost
  readonly #client: GridxClient
  #unlisten: (() => void) | undefined

  constructor(host: ReactiveControllerHost, client: GridxClient) {
    this.#host = host
    this.#client = client
    host.addController(this)
  }

  get state(): AppConnectionState {
    return this.#client.state
  }

  get online(): boolean {
    return this.#client.state === 'open'
  }

  hostConnected(): void {
    this.#unlisten = this.#client.onStateChange(() => this.#host.requestUpdate())
  }

  hostDisconnected(): void {
    this.#unlisten?.()
  }
}
