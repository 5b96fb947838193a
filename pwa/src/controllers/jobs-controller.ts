// The job list: newest first, optionally one state, kept live by the `jobs` subscription.
import type { ReactiveControllerHost } from 'lit'
import type { JobState, JobView } from '../../../protocol/index.ts'
import type { GridxClient } from '../net/gridx-client.ts'
import type { OfflineCache } from '../storage/offline-cache.ts'
import { CACHED_JOBS_MAX } from '../storage/offline-cache.ts'
import { LiveResource } from './live-resource.ts'

/** Jobs one list shows; the daemon pages at most PAGE_ITEMS_MAX. */
export const JOB_LIST_ITEMS_MAX = 100

export class JobsController extends LiveResource {
  readonly #cache: OfflineCache
  #jobs = new Map<string, JobView>()
  #state: JobState | undefined

  constructor(host: ReactiveControllerHost, client: GridxClient, cache: OfflineCache) {
    super(host, client)
    this.#cache = cache
  }

  /** Jobs to show, newest first, filtered by the state filter. */
  get jobs(): JobView[] {
    return [...this.#jobs.values()]
      .filter((job) => this.#state === undefined || job.state === this.#state)
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, JOB_LIST_ITEMS_MAX)
  }

  get stateFilter(): JobState | undefined {
    return this.#state
  }

  setStateFilter(state: JobState | undefined): void {
    if (state === this.#state) return
    this.#state = state
    this.host.requestUpdate()
    if (this.status === 'saved') return
    void this.refresh()
  }

  protected async follow(): Promise<(() => void)[]> {
    const stop = await this.client.subscribe('jobs', {}, (event) => {
      this.#jobs.set(event.job.id, event.job)
      this.#save()
      this.host.requestUpdate()
    })
    return [stop]
  }

  protected async load(): Promise<void> {
    const params = { limit: JOB_LIST_ITEMS_MAX, ...(this.#state ? { state: this.#state } : {}) }
    const { jobs } = await this.client.call('job.list', params)
    // A filtered load replaces only the jobs of that state; others stay for the unfiltered view.
    for (const [id, job] of this.#jobs) {
      if (this.#state === undefined || job.state === this.#state) this.#jobs.delete(id)
    }
    for (const job of jobs) this.#jobs.set(job.id, job)
    this.#save()
  }

  protected restore(): boolean {
    const saved = this.#cache.jobs()
    if (saved === undefined) return false
    this.#jobs = new Map(saved.value.map((job) => [job.id, job]))
    return true
  }

  #save(): void {
    const newest = [...this.#jobs.values()].sort((a, b) => b.createdAt - a.createdAt)
    this.#cache.saveJobs(newest.slice(0, CACHED_JOBS_MAX))
  }
}
