// The wallet: balance and escrow kept live by the `balance` subscription, and the transfer
// history, read again whenever the balance moves.
import type { ReactiveControllerHost } from 'lit'
import type { Results, TransferView } from '../../../protocol/index.ts'
import type { GridxClient } from '../net/gridx-client.ts'
import type { OfflineCache } from '../storage/offline-cache.ts'
import { LiveResource } from './live-resource.ts'

/** Transfers one history page shows. */
export const HISTORY_ITEMS_MAX = 100

export class WalletController extends LiveResource {
  readonly #cache: OfflineCache
  balance: Results['account.balance'] | undefined
  transfers: readonly TransferView[] = []

  constructor(host: ReactiveControllerHost, client: GridxClient, cache: OfflineCache) {
    super(host, client)
    this.#cache = cache
  }

  protected async follow(): Promise<(() => void)[]> {
    const stop = await this.client.subscribe('balance', {}, (event) => {
      const changed = this.balance !== undefined
      this.balance = event.balance
      this.host.requestUpdate()
      if (changed) void this.refresh()
    })
    return [stop]
  }

  protected async load(): Promise<void> {
    const [balance, history] = await Promise.all([
      this.client.call('account.balance', {}),
      this.client.call('account.history', { limit: HISTORY_ITEMS_MAX }),
    ])
    this.balance = balance
    this.transfers = history.transfers
    this.#cache.saveWallet({ balance, transfers: history.transfers })
  }

  protected restore(): boolean {
    const saved = this.#cache.wallet()
    if (saved === undefined) return false
    this.balance = saved.value.balance
    this.transfers = saved.value.transfers
    return true
  }
}
