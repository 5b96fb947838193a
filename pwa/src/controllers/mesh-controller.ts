// The mesh: its info (coordinator, term, queue) and its peers, kept live by the `peers`
// subscription and a bounded poll of mesh.info, with a short history of each peer's load for
// the charts.
import type { ReactiveControllerHost } from 'lit'
import type { MeshInfo, PeerView } from '../../../protocol/index.ts'
import type { GridxClient } from '../net/gridx-client.ts'
import type { OfflineCache } from '../storage/offline-cache.ts'
import { LiveResource } from './live-resource.ts'

/** Samples kept per peer for its load chart: two minutes at one sample per SAMPLE_MS. */
export const LOAD_SAMPLES_MAX = 60
export const SAMPLE_MS = 2_000

export interface LoadSample {
  /** Fractions of capacity in use, in [0, 1]. */
  readonly cpu: number
  readonly memory: number
}

export class MeshController extends LiveResource {
  readonly #cache: OfflineCache
  info: MeshInfo | undefined
  peers: readonly PeerView[] = []
  /** When the daemon last sent what is shown (this browser's clock); undefined until then. */
  freshAtMs: number | undefined
  readonly samples = new Map<string, LoadSample[]>()
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(host: ReactiveControllerHost, client: GridxClient, cache: OfflineCache) {
    super(host, client)
    this.#cache = cache
  }

  override hostConnected(): void {
    super.hostConnected()
    this.#timer = setInterval(() => this.#tick(), SAMPLE_MS)
  }

  override hostDisconnected(): void {
    clearInterval(this.#timer)
    super.hostDisconnected()
  }

  protected async follow(): Promise<(() => void)[]> {
    const stop = await this.client.subscribe('peers', {}, (event) => {
      this.peers = event.peers
      this.freshAtMs = Date.now()
      this.#sample()
      this.#save()
      this.host.requestUpdate()
    })
    return [stop]
  }

  protected async load(): Promise<void> {
    const [info, { peers }] = await Promise.all([
      this.client.call('mesh.info', {}),
      this.client.call('mesh.peers', {}),
    ])
    this.info = info
    this.peers = peers
    this.freshAtMs = Date.now()
    if (this.samples.size === 0) this.#sample()
    this.#save()
  }

  protected restore(): boolean {
    const saved = this.#cache.mesh()
    if (saved === undefined) return false
    this.info = saved.value.info
    this.peers = saved.value.peers
    return true
  }

  /** The charts move with time, not only on a change: one sample per tick while live, and
   * mesh.info (coordinator and term are not pushed) read again. */
  #tick(): void {
    if (this.status !== 'live' || this.client.state !== 'open') return
    this.#sample()
    this.client.call('mesh.info', {}).then(
      (info) => {
        this.info = info
        this.freshAtMs = Date.now()
        this.host.requestUpdate()
      },
      (error: unknown) => console.warn('gridx: mesh.info failed', error),
    )
  }

  #sample(): void {
    for (const peer of this.peers) {
      const samples = this.samples.get(peer.peerId) ?? []
      const { capacity, load } = peer
      const cpu = capacity && load ? load.cpusInUse / Math.max(capacity.cpus, 1e-9) : 0
      const memory = capacity && load ? load.memoryMbInUse / Math.max(capacity.memoryMb, 1) : 0
      samples.push({ cpu: Math.min(1, cpu), memory: Math.min(1, memory) })
      if (samples.length > LOAD_SAMPLES_MAX) samples.splice(0, samples.length - LOAD_SAMPLES_MAX)
      this.samples.set(peer.peerId, samples)
    }
  }

  #save(): void {
    if (this.info !== undefined) this.#cache.saveMesh({ info: this.info, peers: this.peers })
  }
}
