// The executor service: owns the connection to the local engine, knows what it can run, runs
// jobs in sandboxes and accounts for their load. Scheduling (who runs what, queueing) is the
// coordinator's: run() starts what it is given, and status() tells the scheduler what fits.

import assert from 'node:assert/strict'
import { setTimeout } from 'node:timers/promises'
import type Docker from 'dockerode'
import {
  CONTAINER_RUNTIMES,
  isContainerRuntime,
  OPTIONAL_RUNTIMES,
  type ContainerRuntime,
  type ExecutorCapacity,
  type ExecutorLoad,
} from '../../protocol/index.ts'
import { type CgroupLayout, cgroupLayout } from './cgroup-sampler.ts'
import { ENGINE_CALL_TIMEOUT_MS, ENGINE_RECHECK_MS, STOP_TIMEOUT_MS } from './constants.ts'
import { type SweptContainer, sweepContainers } from './container-sweep.ts'
import { connectEngine, engineInfo, inspectImage } from './engine-connection.ts'
import {
  CapacityExceededError,
  errorMessage,
  ExecutorNotRunningError,
  ImageMissingError,
} from './errors.ts'
import { StreamCapture } from './output-capture.ts'
import { executorFailure } from './outcome.ts'
import { runWithFiles } from './job-files.ts'
import type { JobFiles, JobMounts } from './job-files.ts'
import { runSandboxed } from './run-sandboxed.ts'
import { DEFAULT_RUNTIME_IMAGES, jobLabels } from './sandbox-options.ts'
import type { RunHooks, RunOutcome, RunRequest } from './types.ts'

export interface DockerExecutorInit {
  /** This peer's id; it labels every container so only our own orphans are ever swept. */
  readonly executorId: string
  /** The caller's DOCKER_HOST, if any; otherwise the usual local sockets are tried. */
  readonly dockerHost?: string | undefined
  /** An engine client to use instead of connecting (tests, embedding). */
  readonly docker?: Docker
  /** Image per runtime; defaults to gridx/runtime-<name>:latest. */
  readonly images?: Partial<Record<ContainerRuntime, string>>
  /** How often to look again for a missing engine or runtime image (ENGINE_RECHECK_MS). */
  readonly recheckMs?: number
}

export type { ExecutorCapacity, ExecutorLoad } from '../../protocol/index.ts'

export interface ExecutorStatus {
  /** True when at least one runtime can run jobs here. */
  readonly available: boolean
  /** Why some or all jobs cannot run here and how to fix it; null when all is well. */
  readonly problem: string | null
  readonly capacity: ExecutorCapacity
  readonly load: ExecutorLoad
}

/** What start() found: the jobs whose containers a previous daemon left behind. */
export interface ExecutorStartReport {
  readonly orphans: readonly SweptContainer[]
}

interface Engine {
  readonly docker: Docker
  readonly cgroup: CgroupLayout | null
  readonly cpus: number
  readonly memoryMb: number
  readonly runtimes: readonly ContainerRuntime[]
}

interface ActiveRun {
  readonly cpus: number
  readonly memoryMb: number
  readonly controller: AbortController
  readonly done: Promise<RunOutcome>
}

const NO_CAPACITY: ExecutorCapacity = { cpus: 0, memoryMb: 0, runtimes: [] }

export class DockerExecutor {
  private readonly init: DockerExecutorInit
  private readonly images: Readonly<Record<ContainerRuntime, string>>
  private engine: Engine | null = null
  private problem: string | null = 'the executor has not started'
  private phase: 'new' | 'running' | 'stopping' | 'stopped' = 'new'
  private readonly active = new Map<string, ActiveRun>()
  /** Containers a run could not remove; swept again at stop. */
  private readonly leftovers = new Set<string>()
  /** Removals of finished jobs' containers still under way: results are reported before
   * the container is gone, since removal is cleanup the user need not wait for. */
  private readonly removals = new Set<Promise<void>>()
  /** While the engine or an image is missing, the next look for it. */
  private recheckTimer: ReturnType<typeof globalThis.setTimeout> | null = null
  private readonly statusListeners = new Set<(status: ExecutorStatus) => void>()
  /** Where jobs' inputs come from and outputs go; without it jobs get neither. */
  private files: JobFiles | null = null

  constructor(init: DockerExecutorInit) {
    assert(init.executorId.length > 0, 'executorId must not be empty')
    this.init = init
    this.images = { ...DEFAULT_RUNTIME_IMAGES, ...init.images }
  }

  /**
   * Connects to the engine, finds the runtime images and removes this executor's orphaned
   * containers. An absent engine is not an error: status() then explains, runs fail with cause
   * 'executor', and the executor looks again every `recheckMs` until the engine and every
   * image are there (onStatusChange tells when that changes). Throws only if the orphan sweep
   * cannot remove what it found.
   */
  async start(): Promise<ExecutorStartReport> {
    assert(this.phase === 'new', 'start() is called once')
    this.phase = 'running'
    const { engine, problem } = await this.connect()
    this.problem = problem
    const orphans = engine ? await sweepContainers(engine.docker, this.init.executorId) : []
    this.engine = engine
    this.scheduleRecheck()
    return { orphans }
  }

  /** Gives jobs their inputs/ and outputs/ through `files` (the daemon's blob store), from
   * the next run on. */
  useFiles(files: JobFiles): void {
    this.files = files
  }

  /** Calls `listener` whenever `available` or `problem` changes after start. */
  onStatusChange(listener: (status: ExecutorStatus) => void): () => void {
    this.statusListeners.add(listener)
    return () => this.statusListeners.delete(listener)
  }

  /** The engine with what it can run (or null), and what stops jobs from running, if anything. */
  private async connect(): Promise<{ engine: Engine | null; problem: string | null }> {
    try {
      const docker =
        this.engine?.docker ??
        this.init.docker ??
        (await connectEngine(this.init.dockerHost)).docker
      const info = await engineInfo(docker, ENGINE_CALL_TIMEOUT_MS)
      const runtimes = await this.presentRuntimes(docker)
      const engine = {
        docker,
        cgroup: cgroupLayout(info),
        cpus: Number(info.NCPU),
        memoryMb: Math.floor(Number(info.MemTotal) / (1024 * 1024)),
        runtimes,
      }
      return { engine, problem: this.imageProblem(runtimes) }
    } catch (error) {
      return { engine: null, problem: errorMessage(error) }
    }
  }

  private scheduleRecheck(): void {
    // A missing optional image is looked for too, so one built later is offered without a
    // restart (the heartbeat carries the new runtimes; it is no problem, so nothing is said).
    const complete =
      this.problem === null && this.engine?.runtimes.length === CONTAINER_RUNTIMES.length
    if (this.phase !== 'running' || complete) return
    const recheckMs = this.init.recheckMs ?? ENGINE_RECHECK_MS
    this.recheckTimer = globalThis.setTimeout(() => void this.recheck(), recheckMs)
    this.recheckTimer.unref()
  }

  private async recheck(): Promise<void> {
    this.recheckTimer = null
    const before = this.status()
    try {
      const hadEngine = this.engine !== null
      const { engine, problem } = await this.connect()
      if (this.phase !== 'running') return
      // Containers of an earlier daemon could not be swept while the engine was away (and a
      // sweep must never touch the containers of runs under way).
      if (engine !== null && !hadEngine && this.active.size === 0) {
        await sweepContainers(engine.docker, this.init.executorId)
      }
      if (this.phase !== 'running') return
      this.engine = engine
      this.problem = problem
    } catch (error) {
      // The sweep failed: the engine is there, but its leftovers block new runs for now.
      if (this.phase !== 'running') return
      this.problem = errorMessage(error)
    }
    const after = this.status()
    if (after.available !== before.available || after.problem !== before.problem) {
      for (const listener of this.statusListeners) listener(after)
    }
    this.scheduleRecheck()
  }

  /** Kills every running job (they end failed, cause 'executor') and removes every container
   * of this executor, within STOP_TIMEOUT_MS. */
  async stop(): Promise<void> {
    if (this.phase !== 'running') {
      this.phase = 'stopped'
      return
    }
    this.phase = 'stopping'
    if (this.recheckTimer !== null) clearTimeout(this.recheckTimer)
    this.recheckTimer = null
    for (const run of this.active.values()) run.controller.abort()
    // Bounded: a wedged engine must not hold the daemon's shutdown; the sweep below still
    // force-removes whatever those runs were waiting on.
    // Runs that end now hand their container's removal over as they return: await both.
    const runs = Promise.allSettled([...this.active.values()].map((run) => run.done)).then(() =>
      this.removalsSettled(),
    )
    await Promise.race([runs, setTimeout(STOP_TIMEOUT_MS, undefined, { ref: false })])
    try {
      if (this.engine !== null) await sweepContainers(this.engine.docker, this.init.executorId)
    } finally {
      this.leftovers.clear()
      this.phase = 'stopped'
      this.problem = 'the executor has stopped'
    }
  }

  /** Resolves when every finished job's container is removed (or its removal failed and it
   * was left for the sweep). */
  async removalsSettled(): Promise<void> {
    await Promise.allSettled([...this.removals])
  }

  status(): ExecutorStatus {
    const engine = this.engine
    const capacity =
      engine === null
        ? NO_CAPACITY
        : { cpus: engine.cpus, memoryMb: engine.memoryMb, runtimes: engine.runtimes }
    let cpusInUse = 0
    let memoryMbInUse = 0
    for (const run of this.active.values()) {
      cpusInUse += run.cpus
      memoryMbInUse += run.memoryMb
    }
    return {
      available: this.phase === 'running' && capacity.runtimes.length > 0,
      problem: this.problem,
      capacity,
      load: { runningJobs: this.active.size, cpusInUse, memoryMbInUse },
    }
  }

  /**
   * Runs one job to its end. Resolves with the outcome for every failure of the job or the
   * engine; throws only on misuse (not started, stopped, a malformed or duplicate request).
   */
  async run(request: RunRequest, hooks: RunHooks): Promise<RunOutcome> {
    if (this.phase !== 'running') {
      throw new ExecutorNotRunningError(`run() needs a started executor; it is ${this.phase}`)
    }
    assert(request.jobId.length > 0, 'jobId must not be empty')
    assert(Number.isSafeInteger(request.fence) && request.fence >= 0, 'fence is a log index')
    const key = `${request.jobId}@${request.fence}`
    assert(!this.active.has(key), `${key} is already running`)
    const refusal = this.refusal(request)
    if (refusal !== null) return refused(refusal)
    const controller = new AbortController()
    const forward = () => controller.abort()
    hooks.signal.addEventListener('abort', forward, { once: true })
    if (hooks.signal.aborted) controller.abort()
    const done = this.runInEngine(request, { ...hooks, signal: controller.signal })
    this.active.set(key, {
      cpus: request.spec.cpus,
      memoryMb: request.spec.memoryMb,
      controller,
      done,
    })
    try {
      const outcome = await done
      // stop() may have run while we awaited; the compiler cannot see that.
      const stopping = (this.phase as string) === 'stopping'
      return stopping && !hooks.signal.aborted ? shutDown(outcome) : outcome
    } finally {
      hooks.signal.removeEventListener('abort', forward)
      this.active.delete(key)
    }
  }

  private runInEngine(request: RunRequest, hooks: RunHooks): Promise<RunOutcome> {
    const files = this.files
    if (files === null) return this.runContainer(request, hooks, undefined)
    return runWithFiles({
      files,
      request,
      hooks,
      run: (mounts, runHooks) => this.runContainer(request, runHooks, mounts),
      failure: (error) => refused(error instanceof Error ? error : new Error(String(error))),
    })
  }

  private runContainer(
    request: RunRequest,
    hooks: RunHooks,
    mounts: JobMounts | undefined,
  ): Promise<RunOutcome> {
    const engine = this.engine
    assert(engine !== null, 'refusal() checks the engine first')
    const { runtime } = request.spec
    assert(isContainerRuntime(runtime), 'refusal() checks the runtime has a container')
    const job = {
      docker: engine.docker,
      spec: request.spec,
      image: this.images[runtime],
      labels: jobLabels(this.init.executorId, request.jobId, request.fence),
      cgroup: engine.cgroup,
      ...(mounts === undefined ? {} : { mounts }),
      onCleanupError: (containerId: string) => this.leftovers.add(containerId),
      trackRemoval: (removal: Promise<void>) => {
        this.removals.add(removal)
        void removal.finally(() => this.removals.delete(removal))
      },
    }
    return runSandboxed(job, hooks)
  }

  /** Why this executor cannot run the request at all, or null. */
  private refusal(request: RunRequest): Error | null {
    const engine = this.engine
    if (engine === null) return new Error(this.problem ?? 'no Docker engine')
    const { runtime, cpus, memoryMb } = request.spec
    if (!isContainerRuntime(runtime)) {
      return new Error(`this executor runs no ${runtime} jobs: they need --noop-executor`)
    }
    if (!engine.runtimes.includes(runtime)) {
      const image = this.images[runtime]
      return new ImageMissingError(
        image,
        `the ${runtime} runtime image ${image} is missing on this executor; ` +
          'build it with scripts/setup.sh (or `npm start`, which runs it)',
      )
    }
    if (cpus > engine.cpus || memoryMb > engine.memoryMb) {
      return new CapacityExceededError(
        `the job asks for ${cpus} CPUs and ${memoryMb} MiB; ` +
          `this executor has ${engine.cpus} CPUs and ${engine.memoryMb} MiB`,
      )
    }
    return null
  }

  private async presentRuntimes(docker: Docker): Promise<ContainerRuntime[]> {
    const checks = await Promise.allSettled(
      CONTAINER_RUNTIMES.map((runtime) =>
        inspectImage(docker, this.images[runtime], ENGINE_CALL_TIMEOUT_MS),
      ),
    )
    const failure = checks.find(
      (check) =>
        check.status === 'rejected' && (check.reason as { statusCode?: number }).statusCode !== 404,
    )
    if (failure !== undefined && failure.status === 'rejected') throw failure.reason
    return CONTAINER_RUNTIMES.filter((_, index) => checks[index]!.status === 'fulfilled')
  }

  private imageProblem(runtimes: readonly ContainerRuntime[]): string | null {
    const missing = CONTAINER_RUNTIMES.filter(
      (runtime) => !runtimes.includes(runtime) && !OPTIONAL_RUNTIMES.includes(runtime),
    )
    if (missing.length === 0) return null
    const images = missing.map((runtime) => this.images[runtime]).join(', ')
    const what = runtimes.length === 0 ? 'no job can run here' : 'those jobs cannot run'
    return (
      `runtime image(s) missing: ${images}, so ${what}; ` +
      'build them with scripts/setup.sh (or `npm start`, which runs it)'
    )
  }
}

function emptyCapture(name: 'stdout' | 'stderr') {
  return new StreamCapture({ name }).finish()
}

function refused(error: Error): RunOutcome {
  return executorFailure(error, 0, emptyCapture('stdout'), emptyCapture('stderr'))
}

/** A job killed because this daemon is shutting down: not the submitter's doing. */
function shutDown(outcome: RunOutcome): RunOutcome {
  if (outcome.state !== 'cancelled') return outcome
  const error = 'the executor shut down while the job ran; it can be retried elsewhere'
  return { ...outcome, state: 'failed', cause: 'executor', error }
}

export function createDockerExecutor(init: DockerExecutorInit): DockerExecutor {
  return new DockerExecutor(init)
}
