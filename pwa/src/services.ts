// What every view is given by the app shell: the daemon, the offline cache, navigation.
import type { GridxClient } from './net/gridx-client.ts'
import type { OfflineCache } from './storage/offline-cache.ts'

export interface AppServices {
  readonly client: GridxClient
  readonly cache: OfflineCache
  /** Goes to an app path (`/jobs/j…`) without a page load. */
  navigate(path: string): void
}
