// The executor protocol, `/gridx/executor/1.0.0` (DESIGN section 1, issue 9): an executor
// dials out to the coordinator and keeps one stream of length-prefixed JSON frames. These
// schemas are the only definition of capacity, load, outcome and report: the wire and the
// code share them, so what one side sends is what the other side's types say.
import { z } from 'zod'
import { utf8Bytes } from './bytes.ts'
import { jobIdSchema, jobSpecSchema, RUNTIMES } from './job.ts'
import type { JobResult } from './job.ts'
import * as limits from './limits.ts'

export const EXECUTOR_PROTOCOL = '/gridx/executor/1.0.0'

/** Parsed frames are values nobody should change: the types say so all the way down. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T

/** What an executor could run if it were idle. All zero when it has no engine. */
export const executorCapacitySchema = z
  .object({
    cpus: z.number().min(0).max(limits.EXECUTOR_CPUS_MAX),
    memoryMb: z.number().int().min(0).max(limits.EXECUTOR_MEMORY_MB_MAX),
    runtimes: z.array(z.enum(RUNTIMES)).max(RUNTIMES.length),
  })
  .strict()
export type ExecutorCapacity = DeepReadonly<z.infer<typeof executorCapacitySchema>>

/** What an executor runs now. */
export const executorLoadSchema = z
  .object({
    runningJobs: z.number().int().min(0).max(limits.EXECUTOR_JOBS_MAX),
    cpusInUse: z.number().min(0),
    memoryMbInUse: z.number().min(0),
  })
  .strict()
export type ExecutorLoad = DeepReadonly<z.infer<typeof executorLoadSchema>>

/** A tail is cut from at most OUTPUT_TAIL_BYTES_MAX bytes, and each byte decodes to at most
 * one UTF-16 unit (a bad byte to U+FFFD), so its length in units is bounded by that too. */
const tail = z.string().max(limits.OUTPUT_TAIL_BYTES_MAX)
const count = z.number().int().min(0)
const reason = z.string().max(limits.EXECUTOR_REASON_CHARS_MAX)

export const jobResultSchema = z
  .object({
    exitCode: z.number().int().nullable(),
    stdoutTail: tail,
    stderrTail: tail,
    stdoutBytes: count,
    stderrBytes: count,
    stdoutTruncated: z.boolean(),
    stderrTruncated: z.boolean(),
    outputCapBytes: count,
    wallMs: z.number().min(0),
    cpuMs: z.number().min(0).nullable(),
    memoryPeakBytes: count.nullable(),
    oomKilled: z.boolean(),
    timedOut: z.boolean(),
  })
  .strict()

/** How a run ended, as the log records it. `cause` says who pays for a failure: 'code'
 * (charged for what it used) or 'executor' (nothing charged, the job may run elsewhere). */
export const runOutcomeSchema = z
  .object({
    state: z.enum(['succeeded', 'failed', 'timed_out']),
    cause: z.enum(['code', 'executor']).nullable(),
    result: jobResultSchema,
    error: reason.nullable(),
  })
  .strict()
export type RunOutcome = DeepReadonly<z.infer<typeof runOutcomeSchema>>

/** What a runner returns: a reported outcome, or 'cancelled' when the log ended the job
 * already (a cancelled run is never reported). */
export type RunnerOutcome = Omit<RunOutcome, 'state'> & {
  readonly state: RunOutcome['state'] | 'cancelled'
}
export type RunState = RunnerOutcome['state']

const fence = z.number().int().positive()
const outputData = z
  .string()
  .refine((text) => utf8Bytes(text) <= limits.EXECUTOR_OUTPUT_CHUNK_BYTES_MAX, {
    message: `output chunk exceeds ${limits.EXECUTOR_OUTPUT_CHUNK_BYTES_MAX} bytes`,
  })

/** What an executor reports about one assignment; `fence` is the assignment's log index. */
export const executorReportSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started'), jobId: jobIdSchema, fence }).strict(),
  z
    .object({
      type: z.literal('output'),
      jobId: jobIdSchema,
      fence,
      stream: z.enum(['stdout', 'stderr']),
      data: outputData,
      /** The chunk's number in this run (0, 1, 2, … over both streams), so that a follower of
       * the live output, on any coordinator, takes none twice and sees what went missing. */
      seq: z.number().int().min(0).optional(),
    })
    .strict(),
  z
    .object({ type: z.literal('finished'), jobId: jobIdSchema, fence, outcome: runOutcomeSchema })
    .strict(),
])
export type ExecutorReport = DeepReadonly<z.infer<typeof executorReportSchema>>

const runningJob = z.object({ jobId: jobIdSchema, fence }).strict()

/** Frames an executor sends. The hello comes first and once; the rest in any order. */
export const executorFrameSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('hello'),
      running: z.array(runningJob).max(limits.EXECUTOR_JOBS_MAX),
      capacity: executorCapacitySchema,
      load: executorLoadSchema,
    })
    .strict(),
  z
    .object({
      type: z.literal('heartbeat'),
      capacity: executorCapacitySchema,
      load: executorLoadSchema,
    })
    .strict(),
  z.object({ type: z.literal('ack'), jobId: jobIdSchema, fence }).strict(),
  z.object({ type: z.literal('refuse'), jobId: jobIdSchema, fence, reason }).strict(),
  z.object({ type: z.literal('report'), report: executorReportSchema }).strict(),
])
export type ExecutorFrame = DeepReadonly<z.infer<typeof executorFrameSchema>>

/** Frames a coordinator sends. The welcome answers the hello, `renewed` each heartbeat; a
 * finished report is kept by
 * the executor until its report-ack arrives, so a coordinator change cannot lose it. */
export const coordinatorFrameSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('welcome'),
      leaseMs: z.number().int().positive(),
      heartbeatMs: z.number().int().positive(),
    })
    .strict(),
  z.object({ type: z.literal('assign'), jobId: jobIdSchema, fence, spec: jobSpecSchema }).strict(),
  // The answer to every heartbeat: an executor that hears nothing for a lease knows the
  // coordinator is gone even when no connection reset says so (a partition).
  z.object({ type: z.literal('renewed'), leaseMs: z.number().int().positive() }).strict(),
  z.object({ type: z.literal('cancel'), jobId: jobIdSchema }).strict(),
  z.object({ type: z.literal('report-ack'), jobId: jobIdSchema, fence }).strict(),
])
// Left mutable: an assignment's spec goes on to runners that take a JobSpec as it is.
export type CoordinatorFrame = z.infer<typeof coordinatorFrameSchema>

/** A failure the executor caused (refused, unreachable, crashed): nothing is charged and the
 * job may run elsewhere. */
export function handedBack(reason: string): RunOutcome {
  return {
    state: 'failed',
    cause: 'executor',
    error: reason.slice(0, limits.EXECUTOR_REASON_CHARS_MAX),
    result: emptyJobResult(),
  }
}

/** The result of a run that never ran code: no exit code, no output, no time. */
export function emptyJobResult(): JobResult {
  return {
    exitCode: null,
    stdoutTail: '',
    stderrTail: '',
    stdoutBytes: 0,
    stderrBytes: 0,
    stdoutTruncated: false,
    stderrTruncated: false,
    outputCapBytes: 0,
    wallMs: 0,
    cpuMs: null,
    memoryPeakBytes: null,
    oomKilled: false,
    timedOut: false,
  }
}
