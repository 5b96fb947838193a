// One job: its view kept live by a `jobs` subscription for its id, and its output followed
// by a `logs` subscription (the daemon replays what was printed so far, then streams).
import type { ReactiveControllerHost } from 'lit'
import type { JobView } from '../../../protocol/index.ts'
import { OUTPUT_STREAM_BYTES_MAX } from '../../../protocol/index.ts'
import type { GridxClient } from '../net/gridx-client.ts'
import type { OfflineCache } from '../storage/offline-cache.ts'
import { LiveResource } from './live-resource.ts'

export class JobController extends LiveResource {
  readonly #cache: OfflineCache
  #id: string
  job: JobView | undefined
  stdout = ''
  stderr = ''
  /** True once the daemon said the output is complete. */
  outputEnded = false

  constructor(host: ReactiveControllerHost, client: GridxClient, cache: OfflineCache, id: string) {
    super(host, client)
    this.#cache = cache
    this.#id = id
  }

  get id(): string {
    return this.#id
  }

  setId(id: string): void {
    if (id === this.#id) return
    this.#id = id
    this.job = undefined
    this.status = 'loading'
    void this.start()
  }

  /** Asks the daemon to cancel; resolves to the job as it is after the request. */
  async cancel(): Promise<JobView> {
    const job = await this.client.call('job.cancel', {
      id: this.#id,
      idempotencyId: crypto.randomUUID(),
    })
    this.#update(job)
    return job
  }

  protected async follow(): Promise<(() => void)[]> {
    const id = this.#id
    const stopJob = await this.client.subscribe('jobs', { id }, (event) => {
      if (event.job.id === this.#id) this.#update(event.job)
    })
    this.#clearOutput()
    const stopLogs = await this.client.subscribe('logs', { id }, (event) => {
      if (event.id !== this.#id) return
      if ('end' in event) this.outputEnded = true
      else if (event.stream === 'stdout') this.stdout = clip(this.stdout + event.data)
      else this.stderr = clip(this.stderr + event.data)
      this.host.requestUpdate()
    })
    return [stopJob, stopLogs]
  }

  protected async load(): Promise<void> {
    this.#update(await this.client.call('job.get', { id: this.#id }))
  }

  protected restore(): boolean {
    const saved = this.#cache.jobs()?.value.find((job) => job.id === this.#id)
    if (saved === undefined) return false
    this.job = saved
    this.stdout = saved.result?.stdoutTail ?? ''
    this.stderr = saved.result?.stderrTail ?? ''
    return true
  }

  protected override reconnected(): void {
    this.#clearOutput()
  }

  /** The logs topic replays from the start on every (re)subscription: begin empty each time. */
  #clearOutput(): void {
    this.stdout = ''
    this.stderr = ''
    this.outputEnded = false
  }

  #update(job: JobView): void {
    this.job = job
    this.#cache.saveJob(job)
    this.host.requestUpdate()
  }
}

/** Keeps the last OUTPUT_STREAM_BYTES_MAX characters: the daemon's own cap per stream. */
function clip(text: string): string {
  return text.length > OUTPUT_STREAM_BYTES_MAX ? text.slice(-OUTPUT_STREAM_BYTES_MAX) : text
}
