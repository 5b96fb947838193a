// What the app last saw, kept in localStorage so that the shell opened offline still shows
// the jobs, the wallet and the mesh, marked as saved data. Also the code of jobs submitted from
// this browser, which the API does not return (JobView carries only its size), for resubmit.
import type { JobView, MeshInfo, PeerView, Results, TransferView } from '../../../protocol/index.ts'

const PREFIX = 'gridx.cache.'
/** Jobs kept for offline viewing: a screenful or two of the list. */
export const CACHED_JOBS_MAX = 100
/** Codes kept for resubmit, and the largest one kept: localStorage holds about 5 MB. */
export const CACHED_CODES_MAX = 20
export const CACHED_CODE_BYTES_MAX = 128 * 1024

export interface Saved<T> {
  readonly value: T
  /** When it was saved (ms since the epoch). */
  readonly savedAt: number
}

export interface WalletSnapshot {
  readonly balance: Results['account.balance']
  readonly transfers: readonly TransferView[]
}

export interface MeshSnapshot {
  readonly info: MeshInfo
  readonly peers: readonly PeerView[]
}

export interface CodeSnapshot {
  readonly jobId: string
  readonly code: string
}

/** A small typed view over a Storage. Failures to write (quota, private mode) are reported
 * and otherwise ignored: the cache is a convenience, the daemon is the record. */
export class OfflineCache {
  readonly #storage: Pick<Storage, 'getItem' | 'setItem'>
  readonly #now: () => number

  constructor(storage: Pick<Storage, 'getItem' | 'setItem'>, now: () => number = Date.now) {
    this.#storage = storage
    this.#now = now
  }

  jobs(): Saved<readonly JobView[]> | undefined {
    return this.#read('jobs')
  }

  saveJobs(jobs: readonly JobView[]): void {
    this.#write('jobs', jobs.slice(0, CACHED_JOBS_MAX))
  }

  /** One job: merged into the saved list so its page opens offline too. */
  saveJob(job: JobView): void {
    const others = (this.jobs()?.value ?? []).filter((saved) => saved.id !== job.id)
    const merged = [job, ...others].sort((a, b) => b.createdAt - a.createdAt)
    this.saveJobs(merged)
  }

  wallet(): Saved<WalletSnapshot> | undefined {
    return this.#read('wallet')
  }

  saveWallet(wallet: WalletSnapshot): void {
    this.#write('wallet', wallet)
  }

  mesh(): Saved<MeshSnapshot> | undefined {
    return this.#read('mesh')
  }

  saveMesh(mesh: MeshSnapshot): void {
    this.#write('mesh', mesh)
  }

  codeOf(jobId: string): string | undefined {
    const codes = this.#read<CodeSnapshot[]>('codes')?.value ?? []
    return codes.find((entry) => entry.jobId === jobId)?.code
  }

  rememberCode(jobId: string, code: string): void {
    if (code.length > CACHED_CODE_BYTES_MAX) return
    const codes = (this.#read<CodeSnapshot[]>('codes')?.value ?? []).filter(
      (entry) => entry.jobId !== jobId,
    )
    this.#write('codes', [{ jobId, code }, ...codes].slice(0, CACHED_CODES_MAX))
  }

  #read<T>(key: string): Saved<T> | undefined {
    const text = this.#storage.getItem(PREFIX + key)
    if (text === null) return undefined
    try {
      return JSON.parse(text) as Saved<T>
    } catch (error) {
      console.warn(`gridx: dropping unreadable cache entry ${key}`, error)
      return undefined
    }
  }

  #write(key: string, value: unknown): void {
    try {
      this.#storage.setItem(PREFIX + key, JSON.stringify({ value, savedAt: this.#now() }))
    } catch (error) {
      console.warn(`gridx: could not cache ${key}`, error)
    }
  }
}
