// The job contract: what a submitter sends, what the API returns. Browser-safe (zod only).
import { z } from 'zod'
import { jobInputsSchema } from './blob.ts'
import type { JobFile } from './blob.ts'
import { utf8Bytes } from './bytes.ts'
import * as limits from './limits.ts'

/** Runtimes whose code runs in a container, each from its own image. 'python-torch' is the
 * python runtime plus Debian's PyTorch (CPU), for training jobs that write a state_dict. */
export const CONTAINER_RUNTIMES = ['python', 'node', 'bash', 'python-torch'] as const
export type ContainerRuntime = (typeof CONTAINER_RUNTIMES)[number]

/** Runtimes an executor may lack with nothing wrong: it does not offer them, and says nothing.
 * The torch image is over a gigabyte and Debian builds torch for few architectures, so setup
 * builds it where it can and a peer without it still runs every other job. */
export const OPTIONAL_RUNTIMES: readonly ContainerRuntime[] = ['python-torch']

/** Every runtime a job may name. 'noop' runs nothing: it succeeds at once with no output, so
 * that a benchmark measures the mesh and not the engine. Only an executor started with the
 * test-only `--noop-executor` offers it, and the API refuses a job no executor offers. */
export const RUNTIMES = [...CONTAINER_RUNTIMES, 'noop'] as const
export type Runtime = (typeof RUNTIMES)[number]

export function isContainerRuntime(runtime: Runtime): runtime is ContainerRuntime {
  return (CONTAINER_RUNTIMES as readonly Runtime[]).includes(runtime)
}

export const JOB_STATES = [
  'queued',
  'assigned',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'lost',
] as const
export type JobState = (typeof JOB_STATES)[number]

/** States a job never leaves. */
export const FINAL_JOB_STATES: readonly JobState[] = [
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
]

export function isFinalJobState(state: JobState): boolean {
  return FINAL_JOB_STATES.includes(state)
}

/** Text of at most `max` UTF-8 bytes. A lone surrogate (which JSON can carry as an escape) has
 * no UTF-8 form: stored it would turn into U+FFFD, and the engine refuses it in a container's
 * arguments or environment after the job was queued and escrowed. */
const maxBytes = (max: number, what: string) =>
  z
    .string()
    .refine((text) => text.isWellFormed(), { message: `${what} contains a lone surrogate` })
    .refine((text) => utf8Bytes(text) <= max, { message: `${what} exceeds ${max} bytes` })

/** An argument or environment value: the kernel takes both as C strings, so a NUL byte would
 * cut the value short where the submitter did not put an end (or make the exec fail). */
const execString = (max: number, what: string) =>
  maxBytes(max, what).refine((text) => !text.includes('\0'), {
    message: `${what} contains a NUL byte`,
  })

export const idempotencyIdSchema = z
  .string()
  .min(1)
  .max(limits.IDEMPOTENCY_ID_BYTES_MAX)
  .regex(/^[\w.:-]+$/, 'use letters, digits and . _ : -')

export const jobIdSchema = z.string().regex(/^j[0-9a-z]{6,32}$/, 'not a job id')

const envKey = z
  .string()
  .min(1)
  .max(limits.JOB_ENV_KEY_BYTES_MAX)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names are letters, digits and _')

/** A job as submitted. Every field but runtime and code has a default. */
export const jobSpecSchema = z
  .object({
    runtime: z.enum(RUNTIMES),
    code: maxBytes(limits.CODE_BYTES_MAX, 'code'),
    args: z
      .array(execString(limits.JOB_ARG_BYTES_MAX, 'argument'))
      .max(limits.JOB_ARGS_MAX)
      .default([]),
    env: z
      // "__proto__" is a valid name for a shell, but a record schema drops that key without a
      // word (assigning it would set the prototype): refuse it rather than lose a variable.
      .custom<Record<string, string>>((raw) => !Object.hasOwn(Object(raw), '__proto__'), {
        message: 'the environment name __proto__ is not accepted',
      })
      .optional()
      .pipe(
        z
          .record(envKey, execString(limits.JOB_ENV_VALUE_BYTES_MAX, 'environment value'))
          .refine((env) => Object.keys(env).length <= limits.JOB_ENV_MAX, {
            message: `at most ${limits.JOB_ENV_MAX} environment variables`,
          })
          .default({}),
      ),
    cpus: z
      .number()
      .min(limits.JOB_CPUS_MIN)
      .max(limits.JOB_CPUS_MAX)
      .default(limits.JOB_CPUS_DEFAULT),
    memoryMb: z
      .number()
      .int()
      .min(limits.JOB_MEMORY_MB_MIN)
      .max(limits.JOB_MEMORY_MB_MAX)
      .default(limits.JOB_MEMORY_MB_DEFAULT),
    timeoutS: z
      .number()
      .int()
      .min(1)
      .max(limits.JOB_TIMEOUT_S_MAX)
      .default(limits.JOB_TIMEOUT_S_DEFAULT),
    pids: z.number().int().min(8).max(limits.JOB_PIDS_MAX).default(limits.JOB_PIDS_DEFAULT),
    // Absent rather than defaulted, so that a job with no files keeps the spec (and the
    // idempotency comparison) it had before jobs took files.
    /** Files the job reads under `inputs/`, uploaded to a peer's blob store first. */
    inputs: jobInputsSchema.optional(),
    /** Disk quota of `outputs/` in MiB; JOB_DISK_MB_DEFAULT when absent. */
    diskMb: z.number().int().min(1).max(limits.JOB_DISK_MB_MAX).optional(),
  })
  .strict()

export type JobSpecInput = z.input<typeof jobSpecSchema>
export type JobSpec = z.output<typeof jobSpecSchema>

/** What an executor reports for one run of a job. */
export interface JobResult {
  /** Exit code of the job's process; null when it never ran or was killed without one. */
  readonly exitCode: number | null
  readonly stdoutTail: string
  readonly stderrTail: string
  /** Bytes the job wrote to each stream, counted also past the cap. */
  readonly stdoutBytes: number
  readonly stderrBytes: number
  /** True when a stream exceeded OUTPUT_STREAM_BYTES_MAX and the rest was discarded. */
  readonly stdoutTruncated: boolean
  readonly stderrTruncated: boolean
  readonly outputCapBytes: number
  readonly wallMs: number
  /** CPU time used, from the container's cgroup; null when the engine did not report it. */
  readonly cpuMs: number | null
  readonly memoryPeakBytes: number | null
  readonly oomKilled: boolean
  readonly timedOut: boolean
  /** What the job wrote under `outputs/`, kept in the executor's blob store; absent when the
   * run collected none (no container ran, or an executor that predates files). */
  readonly outputs?: readonly JobFile[]
}

/** Who is to blame for a run that did not succeed; decides whether the submitter pays. */
export type FailureCause = 'code' | 'executor'

/** A job as the API shows it. Amounts are millicredits. */
export interface JobView {
  readonly id: string
  readonly submitter: string
  readonly idempotencyId: string
  readonly runtime: Runtime
  readonly spec: Omit<JobSpec, 'code'> & { readonly codeBytes: number }
  readonly state: JobState
  /** Log times (ms since the epoch, stamped by the coordinator). */
  readonly createdAt: number
  readonly assignedAt: number | null
  readonly startedAt: number | null
  readonly finishedAt: number | null
  /** Runs started so far (1 + retries). */
  readonly attempts: number
  readonly executor: string | null
  readonly executorOwner: string | null
  readonly maxPriceMc: number
  /** Settled price, and how it was split; null until settled. */
  readonly priceMc: number | null
  readonly executorPaidMc: number | null
  readonly feesPaidMc: number | null
  readonly result: JobResult | null
  /** Why the job ended the way it did, in words a user can act on. */
  readonly reason: string | null
  /** The sharded job this one is a child of: its shard's index, or null for the reduce. */
  readonly parent?: { readonly id: string; readonly shard: number | null }
}
