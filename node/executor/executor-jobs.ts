// The jobs an executor runs for the mesh: which assignments it takes, running them through the
// runner, and turning what happens into reports. Independent of any stream, so jobs go on
// while the coordinator changes.
import type { Logger } from 'pino'
import {
  EXECUTOR_JOBS_MAX,
  EXECUTOR_OUTPUT_CHUNK_BYTES_MAX,
  EXECUTOR_REASON_CHARS_MAX,
  handedBack,
  runOutcomeSchema,
  type ExecutorLoad,
  type ExecutorReport,
  type JobSpec,
  type RunOutcome,
  type RunnerOutcome,
} from '../../protocol/index.ts'
import { splitOutput } from './executor-reports.ts'

/** What the client needs of a job runner (the Docker executor implements it). Aborting the
 * signal kills the job; a run the signal ended resolves as 'cancelled'. */
export interface JobRunner {
  run(
    request: { readonly jobId: string; readonly fence: number; readonly spec: JobSpec },
    hooks: {
      readonly signal: AbortSignal
      readonly onStarted?: () => void
      readonly onOutput?: (stream: 'stdout' | 'stderr', text: string) => void
    },
  ): Promise<RunnerOutcome>
}

/** `done` of a job taken but not yet started. */
const NOT_STARTED: Promise<void> = Promise.resolve()

interface Running {
  readonly fence: number
  readonly spec: JobSpec
  readonly controller: AbortController
  done: Promise<void>
  /** Killed because the executor stops: reported as handed back, not as cancelled. */
  handBack: boolean
}

export interface ExecutorJobsInit {
  readonly runner: JobRunner
  readonly report: (report: ExecutorReport) => void
  readonly logger: Logger
  readonly jobsMax?: number
}

export class ExecutorJobs {
  /** False once stopping: every new assignment is refused. */
  accepting = true
  readonly #init: ExecutorJobsInit
  readonly #running = new Map<string, Running>()

  constructor(init: ExecutorJobsInit) {
    this.#init = init
  }

  list(): { jobId: string; fence: number }[] {
    return [...this.#running].map(([jobId, { fence }]) => ({ jobId, fence }))
  }

  fences(): ReadonlyMap<string, number> {
    return new Map([...this.#running].map(([jobId, { fence }]) => [jobId, fence]))
  }

  load(): ExecutorLoad {
    let cpusInUse = 0
    let memoryMbInUse = 0
    for (const { spec } of this.#running.values()) {
      cpusInUse += spec.cpus
      memoryMbInUse += spec.memoryMb
    }
    return { runningJobs: this.#running.size, cpusInUse, memoryMbInUse }
  }

  /** Takes an assignment (null) or says why not. The same assignment twice (resent by a
   * coordinator that did not see the ack) is taken once. Call `run` after acking it. */
  assign(assignment: { jobId: string; fence: number; spec: JobSpec }): string | null {
    const { jobId, fence, spec } = assignment
    const running = this.#running.get(jobId)
    if (running !== undefined) {
      return running.fence === fence ? null : `the job runs here under fence ${running.fence}`
    }
    if (!this.accepting) return 'the executor is stopping'
    if (this.#running.size >= (this.#init.jobsMax ?? EXECUTOR_JOBS_MAX)) {
      return 'the executor runs as many jobs as it may'
    }
    const controller = new AbortController()
    this.#running.set(jobId, { fence, spec, controller, done: NOT_STARTED, handBack: false })
    return null
  }

  /** Starts a job `assign` took; a second call for the same run does nothing. */
  run(jobId: string): void {
    const running = this.#running.get(jobId)
    if (running === undefined || running.done !== NOT_STARTED) return
    const { fence, spec, controller } = running
    const report = this.#init.report
    let seq = 0
    running.done = this.#init.runner
      .run(
        { jobId, fence, spec },
        {
          signal: controller.signal,
          onStarted: () => report({ type: 'started', jobId, fence }),
          onOutput: (stream, text) => {
            for (const data of splitOutput(text, EXECUTOR_OUTPUT_CHUNK_BYTES_MAX)) {
              report({ type: 'output', jobId, fence, stream, data, seq: seq++ })
            }
          },
        },
      )
      .then(
        (outcome) => {
          if (running.handBack) {
            const outcome = handedBack('the executor stopped while the job ran')
            report({ type: 'finished', jobId, fence, outcome })
            return
          }
          // A cancelled run was ended by the log already: there is nothing left to report.
          if (outcome.state === 'cancelled') return
          report({ type: 'finished', jobId, fence, outcome: reportable(outcome, jobId) })
        },
        (error: unknown) => {
          this.#init.logger.error({ err: error, jobId }, 'runner failed')
          const outcome = handedBack(`executor error: ${String(error)}`)
          report({ type: 'finished', jobId, fence, outcome })
        },
      )
      .finally(() => this.#running.delete(jobId))
  }

  cancel(jobId: string): void {
    this.#running.get(jobId)?.controller.abort(new Error('cancelled by the coordinator'))
  }

  /** Lets the running jobs finish for up to `drainMs`, then kills the rest and reports each
   * handed back (the executor's failure: the coordinator requeues it at once and nobody pays).
   * Resolves once every runner has returned. Call it with `accepting` false. */
  async drain(drainMs: number): Promise<void> {
    const all = () => Promise.all([...this.#running.values()].map((running) => running.done))
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), drainMs)
    })
    const first = await Promise.race([all().then(() => 'done' as const), timeout])
    clearTimeout(timer)
    if (first === 'done' && this.#running.size === 0) return
    for (const [jobId, running] of this.#running) {
      if (running.done === NOT_STARTED) {
        // Taken and acked but never started: nothing to kill, only to give back.
        this.#running.delete(jobId)
        const outcome = handedBack('the executor stopped before the job started')
        this.#init.report({ type: 'finished', jobId, fence: running.fence, outcome })
        continue
      }
      running.handBack = true
      running.controller.abort(new Error('the executor stopped'))
    }
    await all()
  }
}

/** The outcome as the wire takes it. A runner's error message may be any length, so it is cut
 * to the limit; anything else the schema refuses would get the stream cut and the report sent
 * again on every reconnect, so it becomes the executor's own failure instead. */
function reportable(outcome: RunnerOutcome, jobId: string): RunOutcome {
  const error = outcome.error?.slice(0, EXECUTOR_REASON_CHARS_MAX) ?? null
  const parsed = runOutcomeSchema.safeParse({ ...outcome, error })
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  return handedBack(`job ${jobId}: the runner's outcome is invalid at ${issue?.path.join('.')}`)
}
