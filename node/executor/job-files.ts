// A job's files around its run (DESIGN section 6): before the container starts, its inputs are
// fetched and laid out read-only for `inputs/`; while it runs, `outputs/` is held to the job's
// disk quota; after it ends, what the job wrote there is stored and listed with the result.
// The executor owns these interfaces; node/blobs implements them over the blob store.
import {
  JOB_DISK_CHECK_MS,
  JOB_DISK_MB_DEFAULT,
  type JobFile,
  type JobSpec,
} from '../../protocol/index.ts'
import { errorMessage } from './errors.ts'
import type { RunHooks, RunOutcome, RunRequest } from './types.ts'

const MIB = 1024 * 1024

/** What a job wrote under outputs/ breaks a bound: the job's failure, charged as its code's. */
export class OutputsRefusedError extends Error {
  override name = 'OutputsRefusedError'
}

/** Host directories the container mounts: inputs read-only, outputs read-write. */
export interface JobMounts {
  /** Null when the job has no inputs (nothing is mounted at inputs/). */
  readonly inputsDir: string | null
  readonly outputsDir: string
}

export interface JobWorkspace extends JobMounts {
  /** Bytes of regular files under outputs/ now. */
  outputBytes(): Promise<number>
  /** Stores every file under outputs/ and lists them. Throws OutputsRefusedError, with words a
   * user can act on, when the job's outputs break a bound (count, name, quota, a link); any
   * other error is this peer's (its store is full, its disk failed). */
  collect(quotaBytes: number): Promise<JobFile[]>
  /** Removes the directories; the stored blobs stay. */
  release(): Promise<void>
}

export interface JobFiles {
  /** Fetches the job's inputs (from this peer's store or another peer's) and lays out its
   * directories. Throws when an input cannot be had: the run is then the executor's failure. */
  prepare(request: RunRequest, signal: AbortSignal): Promise<JobWorkspace>
}

/** The disk quota of a job's outputs/ in bytes. */
export function diskQuotaBytes(spec: JobSpec): number {
  return (spec.diskMb ?? JOB_DISK_MB_DEFAULT) * MIB
}

function overQuota(spec: JobSpec): string {
  const quotaMb = spec.diskMb ?? JOB_DISK_MB_DEFAULT
  return `the job wrote more than its ${quotaMb} MiB disk quota under outputs/`
}

export interface RunWithFiles {
  readonly files: JobFiles
  readonly request: RunRequest
  readonly hooks: RunHooks
  /** Runs the container with the mounts; aborting its hooks' signal kills it. */
  readonly run: (mounts: JobMounts, hooks: RunHooks) => Promise<RunOutcome>
  /** The outcome of a run this executor could not carry out (cause 'executor'). */
  readonly failure: (error: unknown) => RunOutcome
  /** A measurement or a cleanup that failed: the run goes on; the caller logs it. */
  readonly onError?: (error: unknown) => void
}

/** Runs the job with its files prepared, its quota watched and its outputs collected. */
export async function runWithFiles(init: RunWithFiles): Promise<RunOutcome> {
  const { files, request, hooks, run, failure } = init
  const onError = init.onError ?? (() => undefined)
  let workspace: JobWorkspace
  try {
    workspace = await files.prepare(request, hooks.signal)
  } catch (error) {
    return failure(new Error(`the job's inputs could not be fetched: ${errorMessage(error)}`))
  }
  const quota = diskQuotaBytes(request.spec)
  const overrun = new AbortController()
  const watch = setInterval(() => {
    workspace.outputBytes().then(
      (bytes) => bytes > quota && overrun.abort(),
      (error: unknown) => onError(error),
    )
  }, JOB_DISK_CHECK_MS)
  try {
    const signal = AbortSignal.any([hooks.signal, overrun.signal])
    const outcome = await run(workspace, { ...hooks, signal })
    clearInterval(watch)
    if (overrun.signal.aborted && !hooks.signal.aborted) {
      return { ...outcome, state: 'failed', cause: 'code', error: overQuota(request.spec) }
    }
    if (outcome.state === 'cancelled' || outcome.cause === 'executor') return outcome
    return await withOutputs(workspace, quota, outcome, failure)
  } finally {
    clearInterval(watch)
    await workspace.release().catch((error: unknown) => onError(error))
  }
}

async function withOutputs(
  workspace: JobWorkspace,
  quota: number,
  outcome: RunOutcome,
  failure: RunWithFiles['failure'],
): Promise<RunOutcome> {
  try {
    const outputs = await workspace.collect(quota)
    return { ...outcome, result: { ...outcome.result, outputs } }
  } catch (error) {
    if (!(error instanceof OutputsRefusedError)) {
      return failure(new Error(`the job's outputs could not be kept: ${errorMessage(error)}`))
    }
    const message = `its outputs were refused: ${error.message}`
    return { ...outcome, state: 'failed', cause: 'code', error: message }
  }
}
