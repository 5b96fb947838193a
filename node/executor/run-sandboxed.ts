// One job in one container, start to finish: create, attach, start, send the code on stdin,
// read output under its cap, kill at the timeout or on cancel, read the exit state, remove.
// Failures of the job or of the engine become a RunOutcome; nothing here throws for them.

import type { Duplex } from 'node:stream'
import type Docker from 'dockerode'
import type { JobSpec } from '../../protocol/index.ts'
import { type CgroupLayout, type CgroupReading, CgroupSampler } from './cgroup-sampler.ts'
import { ENGINE_CALL_TIMEOUT_MS } from './constants.ts'
import { EngineCallError, errorMessage, ImageMissingError } from './errors.ts'
import { ContainerKiller } from './container-killer.ts'
import { AttachDemuxer, StreamCapture } from './output-capture.ts'
import { type Execution, executorFailure, outcomeOf } from './outcome.ts'
import type { JobMounts } from './job-files.ts'
import { sandboxOptions } from './sandbox-options.ts'
import type { RunHooks, RunOutcome } from './types.ts'

/** How long the attach stream may take to close after the container has exited. */
const OUTPUT_DRAIN_TIMEOUT_MS = 5_000

export interface SandboxedJob {
  readonly docker: Docker
  readonly spec: JobSpec
  readonly image: string
  readonly labels: Readonly<Record<string, string>>
  /** The job's inputs/ and outputs/ on this host, when the executor keeps files. */
  readonly mounts?: JobMounts
  /** Where to read CPU time and peak memory; null reports them as null. */
  readonly cgroup: CgroupLayout | null
  /** A container that could not be removed: the caller sweeps it later by its labels. */
  readonly onCleanupError?: (containerId: string, error: Error) => void
  /** When given, the outcome is returned as soon as it is known and the container's removal
   * goes on in the background, handed to this callback to await (at stop, say). Without it,
   * runSandboxed returns only once the container is gone. */
  readonly trackRemoval?: (removal: Promise<void>) => void
}

/** Runs one job in a fresh sandbox. Never throws for a failure of the job or the engine. */
export async function runSandboxed(job: SandboxedJob, hooks: RunHooks): Promise<RunOutcome> {
  const began = performance.now()
  const stdout = new StreamCapture({ name: 'stdout', onOutput: hooks.onOutput })
  const stderr = new StreamCapture({ name: 'stderr', onOutput: hooks.onOutput })
  if (hooks.signal.aborted) {
    return outcomeOf(job.spec, cancelledBeforeStart(), stdout.finish(), stderr.finish())
  }
  let container: Docker.Container | null = null
  try {
    container = await createContainer(job)
    const execution = await execute(container, job, hooks, { stdout, stderr })
    return outcomeOf(job.spec, execution, stdout.finish(), stderr.finish())
  } catch (error) {
    const wallMs = performance.now() - began
    return executorFailure(error, wallMs, stdout.finish(), stderr.finish())
  } finally {
    if (container !== null) {
      const removal = removeContainer(container, job.onCleanupError)
      if (job.trackRemoval === undefined) await removal
      else job.trackRemoval(removal)
    }
  }
}

function cancelledBeforeStart(): Execution {
  const reading: CgroupReading = { cpuMs: null, memoryPeakBytes: null, oomKills: null }
  return { exitCode: null, wallMs: 0, reading, oomKilled: false, killed: 'cancelled' }
}

async function createContainer(job: SandboxedJob): Promise<Docker.Container> {
  const { image, labels, mounts } = job
  const options = sandboxOptions(job.spec, { image, labels, ...(mounts ? { mounts } : {}) })
  try {
    return await job.docker.createContainer({
      ...options,
      abortSignal: AbortSignal.timeout(ENGINE_CALL_TIMEOUT_MS),
    })
  } catch (error) {
    if (statusCode(error) === 404) {
      throw new ImageMissingError(
        job.image,
        `the runtime image ${job.image} is missing on this executor; ` +
          'build it with scripts/setup.sh (or `npm start`, which runs it)',
      )
    }
    throw new EngineCallError(
      'create',
      `the engine refused the container: ${errorMessage(error)}`,
      {
        cause: error,
      },
    )
  }
}

interface Captures {
  readonly stdout: StreamCapture
  readonly stderr: StreamCapture
}

async function execute(
  container: Docker.Container,
  job: SandboxedJob,
  hooks: RunHooks,
  captures: Captures,
): Promise<Execution> {
  const stream = (await engineCall('attach', () =>
    container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true }),
  )) as Duplex
  const drained = drain(stream, new AttachDemuxer(captures.stdout, captures.stderr))
  const sampler = new CgroupSampler(job.cgroup, container.id)
  const killer = new ContainerKiller(container)
  const cancel = () => killer.kill('cancelled')
  let timer: NodeJS.Timeout | undefined
  try {
    await engineCall('start', () =>
      container.start({ abortSignal: AbortSignal.timeout(ENGINE_CALL_TIMEOUT_MS) }),
    )
    const started = performance.now()
    sampler.start()
    hooks.signal.addEventListener('abort', cancel, { once: true })
    if (hooks.signal.aborted) cancel()
    timer = setTimeout(() => killer.kill('timeout'), job.spec.timeoutS * 1000)
    hooks.onStarted?.()
    stream.end(job.spec.code)
    const exit = (await engineCall('wait', () => container.wait({ condition: 'not-running' }))) as {
      StatusCode: number
    }
    const wallMs = performance.now() - started
    clearTimeout(timer)
    await boundedWait(drained, OUTPUT_DRAIN_TIMEOUT_MS)
    const reading = await sampler.stop()
    const killed = await killer.settled()
    // Only a killed process can have met the OOM killer: a clean exit needs no inspect.
    const oomKilled = exit.StatusCode !== 0 && (await inspectOomKilled(container))
    return { exitCode: exit.StatusCode, wallMs, reading, oomKilled, killed }
  } finally {
    clearTimeout(timer)
    hooks.signal.removeEventListener('abort', cancel)
    await sampler.stop()
    stream.destroy()
  }
}

async function inspectOomKilled(container: Docker.Container): Promise<boolean> {
  const state = (await engineCall('inspect', () =>
    container.inspect({ abortSignal: AbortSignal.timeout(ENGINE_CALL_TIMEOUT_MS) }),
  )) as Docker.ContainerInspectInfo
  return state.State.OOMKilled
}

/** Feeds the attach stream to the demuxer until the engine closes it. Never rejects: a broken
 * stream (the container was killed while we wrote its code) just ends the output. */
function drain(stream: Duplex, demuxer: AttachDemuxer): Promise<void> {
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => demuxer.push(chunk))
    stream.once('end', () => resolve())
    stream.once('close', () => resolve())
    stream.once('error', () => resolve())
  })
}

function boundedWait(promise: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

async function engineCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw new EngineCallError(
      operation,
      `the engine failed to ${operation}: ${errorMessage(error)}`,
      {
        cause: error,
      },
    )
  }
}

async function removeContainer(
  container: Docker.Container,
  onCleanupError: SandboxedJob['onCleanupError'],
): Promise<void> {
  try {
    await container.remove({
      force: true,
      v: true,
      abortSignal: AbortSignal.timeout(ENGINE_CALL_TIMEOUT_MS),
    })
  } catch (error) {
    if (statusCode(error) === 404) return
    const failure = new EngineCallError('remove', `could not remove ${container.id}`, {
      cause: error,
    })
    onCleanupError?.(container.id, failure)
  }
}

/** The HTTP status of a dockerode error, when it carries one. */
export function statusCode(error: unknown): number | null {
  if (typeof error !== 'object' || error === null || !('statusCode' in error)) return null
  return typeof error.statusCode === 'number' ? error.statusCode : null
}
