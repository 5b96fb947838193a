// Executors' leases on the coordinator: one timer per executor, pushed back by each heartbeat,
// and the jobs the coordinator believes run there (from the hello, then acks and finishes).
import type { RunningJob } from './executor-session.ts'

interface Lease {
  readonly timer: ReturnType<typeof setTimeout>
  readonly running: Map<string, number>
}

export class ExecutorLeases {
  readonly #leaseMs: number
  readonly #expired: (peer: string, running: readonly RunningJob[]) => void
  readonly #leases = new Map<string, Lease>()

  /** `expired` is called once per lease that runs out; the lease is gone by then. */
  constructor(leaseMs: number, expired: (peer: string, running: readonly RunningJob[]) => void) {
    this.#leaseMs = leaseMs
    this.#expired = expired
  }

  has(peer: string): boolean {
    return this.#leases.has(peer)
  }

  /** Starts or extends `peer`'s lease. With `running` (a hello), that list replaces the
   * jobs believed to run there: the executor knows best what it runs. */
  renew(peer: string, running?: readonly RunningJob[]): void {
    const lease = this.#leases.get(peer)
    if (lease !== undefined) {
      lease.timer.refresh()
      if (running !== undefined) {
        lease.running.clear()
        for (const job of running) lease.running.set(job.jobId, job.fence)
      }
      return
    }
    const timer = setTimeout(() => this.#expire(peer), this.#leaseMs)
    const jobs = new Map((running ?? []).map((job) => [job.jobId, job.fence] as const))
    this.#leases.set(peer, { timer, running: jobs })
  }

  add(peer: string, job: RunningJob): void {
    this.#leases.get(peer)?.running.set(job.jobId, job.fence)
  }

  /** A finished report: the job no longer runs there (unless a newer fence does). */
  remove(peer: string, jobId: string, fence: number): void {
    const running = this.#leases.get(peer)?.running
    if (running?.get(jobId) === fence) running.delete(jobId)
  }

  running(peer: string): RunningJob[] {
    const running = this.#leases.get(peer)?.running ?? new Map<string, number>()
    return [...running].map(([jobId, fence]) => ({ jobId, fence }))
  }

  clear(): void {
    for (const lease of this.#leases.values()) clearTimeout(lease.timer)
    this.#leases.clear()
  }

  #expire(peer: string): void {
    const running = this.running(peer)
    this.#leases.delete(peer)
    this.#expired(peer, running)
  }
}
