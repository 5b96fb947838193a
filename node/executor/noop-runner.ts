// The noop runtime: jobs that run nothing, in-process, so that a benchmark of the mesh measures
// submitting, placing, reporting and settling, not the engine. For tests and benchmarks only:
// a peer offers it only when started with the hidden `gridx start --noop-executor`, which is
// refused under NODE_ENV=production (a noop executor is paid for work it never does).
import { availableParallelism, totalmem } from 'node:os'
import {
  handedBack,
  OUTPUT_STREAM_BYTES_MAX,
  type ExecutorLoad,
  type JobSpec,
  type RunnerOutcome,
} from '../../protocol/index.ts'
import type { ExecutorStatus } from './docker-executor.ts'
import type { JobRunner } from './executor-jobs.ts'

type RunRequest = Parameters<JobRunner['run']>[0]
type RunHooks = Parameters<JobRunner['run']>[1]

const MIB = 1024 * 1024

export interface NoopRunnerInit {
  /** Milliseconds on a monotonic clock, for the run's wall time (performance.now). */
  readonly now?: () => number
}

/** Runs noop jobs: each starts, writes nothing and exits 0 at once. A job of another runtime
 * is handed back (cause 'executor'), as the Docker executor hands back one it cannot run. */
export class NoopRunner implements JobRunner {
  readonly #now: () => number

  constructor(init: NoopRunnerInit = {}) {
    this.#now = init.now ?? (() => performance.now())
  }

  run(request: RunRequest, hooks: RunHooks): Promise<RunnerOutcome> {
    const { runtime } = request.spec
    if (runtime !== 'noop') {
      return Promise.resolve(handedBack(`this runner runs only noop jobs, not ${runtime}`))
    }
    if (hooks.signal.aborted) return Promise.resolve({ ...handedBack(''), state: 'cancelled' })
    const startedMs = this.#now()
    hooks.onStarted?.()
    const wallMs = Math.max(0, Math.round(this.#now() - startedMs))
    return Promise.resolve({
      state: 'succeeded',
      cause: null,
      error: null,
      result: {
        ...handedBack('').result,
        exitCode: 0,
        outputCapBytes: OUTPUT_STREAM_BYTES_MAX,
        wallMs,
        cpuMs: 0,
      },
    })
  }
}

/** What withNoopRuntime needs of the engine's executor (DockerExecutor implements it). */
export interface EngineExecutor extends JobRunner {
  start(): Promise<unknown>
  stop(): Promise<void>
  status(): ExecutorStatus
  onStatusChange?(listener: (status: ExecutorStatus) => void): () => void
}

/** The engine's executor with the noop runtime beside it: noop jobs run in-process, every
 * other job goes to the engine. With no engine it still runs noop jobs, on a capacity of this
 * host's CPUs and memory, so that a benchmark needs no Docker. */
export function withNoopRuntime(engine: EngineExecutor, init: NoopRunnerInit = {}) {
  const noop = new NoopRunner(init)
  const running = new Map<string, JobSpec>()
  const host = { cpus: availableParallelism(), memoryMb: Math.floor(totalmem() / MIB) }
  const combined = (status: ExecutorStatus): ExecutorStatus => {
    let { runningJobs, cpusInUse, memoryMbInUse } = status.load
    for (const spec of running.values()) {
      runningJobs += 1
      cpusInUse += spec.cpus
      memoryMbInUse += spec.memoryMb
    }
    const load: ExecutorLoad = { runningJobs, cpusInUse, memoryMbInUse }
    const { cpus, memoryMb, runtimes } = status.capacity
    return {
      available: true,
      problem: status.problem,
      capacity: {
        cpus: Math.max(cpus, host.cpus),
        memoryMb: Math.max(memoryMb, host.memoryMb),
        runtimes: [...runtimes, 'noop'],
      },
      load,
    }
  }
  const executor: EngineExecutor = {
    start: () => engine.start(),
    stop: () => engine.stop(),
    status: () => combined(engine.status()),
    async run(request, hooks) {
      if (request.spec.runtime !== 'noop') return engine.run(request, hooks)
      const key = `${request.jobId}@${request.fence}`
      running.set(key, request.spec)
      try {
        return await noop.run(request, hooks)
      } finally {
        running.delete(key)
      }
    },
  }
  const { onStatusChange } = engine
  if (onStatusChange !== undefined) {
    executor.onStatusChange = (listener) =>
      onStatusChange.call(engine, (status) => listener(combined(status)))
  }
  return executor
}
