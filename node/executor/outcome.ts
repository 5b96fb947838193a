// Turning what the engine reported into the state, cause and sentence a user sees.

import { constants as osConstants } from 'node:os'
import { OUTPUT_STREAM_BYTES_MAX, type JobResult, type JobSpec } from '../../protocol/index.ts'
import type { CgroupReading } from './cgroup-sampler.ts'
import type { KillReason } from './container-killer.ts'
import { errorMessage } from './errors.ts'
import type { StreamSummary } from './output-capture.ts'
import type { RunOutcome } from './types.ts'

/** What one container run amounted to, before it is judged. */
export interface Execution {
  readonly exitCode: number | null
  readonly wallMs: number
  readonly reading: CgroupReading
  /** The engine's State.OOMKilled. */
  readonly oomKilled: boolean
  /** Set when we killed the container, and why. */
  readonly killed: KillReason | null
}

function result(
  execution: Execution,
  stdout: StreamSummary,
  stderr: StreamSummary,
  flags: { oomKilled: boolean; timedOut: boolean },
): JobResult {
  return {
    // A process we killed has no exit code of its own: 137 would only echo our SIGKILL.
    exitCode: execution.killed === null ? execution.exitCode : null,
    stdoutTail: stdout.tail,
    stderrTail: stderr.tail,
    stdoutBytes: stdout.bytes,
    stderrBytes: stderr.bytes,
    stdoutTruncated: stdout.truncated,
    stderrTruncated: stderr.truncated,
    outputCapBytes: OUTPUT_STREAM_BYTES_MAX,
    wallMs: Math.round(execution.wallMs),
    cpuMs: execution.reading.cpuMs === null ? null : Math.round(execution.reading.cpuMs),
    memoryPeakBytes: execution.reading.memoryPeakBytes,
    oomKilled: flags.oomKilled,
    timedOut: flags.timedOut,
  }
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name]))

function exitSentence(exitCode: number): string {
  // Shells and the runtime report death by signal N as 128 + N.
  const signal = exitCode > 128 ? SIGNAL_NAMES.get(exitCode - 128) : undefined
  return signal === undefined
    ? `exit code ${exitCode}`
    : `killed by ${signal} (exit code ${exitCode})`
}

/** Judges a finished container run. */
export function outcomeOf(
  spec: JobSpec,
  execution: Execution,
  stdout: StreamSummary,
  stderr: StreamSummary,
): RunOutcome {
  const exitCode = execution.exitCode
  // The engine's flag, or the kernel's own count when the engine missed it (cgroup v2 kills
  // of a child process, for one). A job whose main process still exited 0 has succeeded.
  const outOfMemory =
    exitCode !== 0 && (execution.oomKilled || (execution.reading.oomKills ?? 0) > 0)
  const flags = { oomKilled: outOfMemory, timedOut: execution.killed === 'timeout' }
  const jobResult = result(execution, stdout, stderr, flags)
  if (execution.killed === 'cancelled') {
    return { state: 'cancelled', cause: null, result: jobResult, error: 'cancelled on request' }
  }
  if (outOfMemory) {
    const error = `killed: out of memory (limit ${spec.memoryMb} MiB)`
    return { state: 'failed', cause: 'code', result: jobResult, error }
  }
  if (execution.killed === 'timeout') {
    const error = `killed at the ${spec.timeoutS} s timeout`
    return { state: 'timed_out', cause: 'code', result: jobResult, error }
  }
  if (exitCode === 0) return { state: 'succeeded', cause: null, result: jobResult, error: null }
  const error = exitCode === null ? 'ended without an exit code' : exitSentence(exitCode)
  return { state: 'failed', cause: 'code', result: jobResult, error }
}

/** A run the executor or its engine could not carry out: the submitter is not charged. */
export function executorFailure(
  error: unknown,
  wallMs: number,
  stdout: StreamSummary,
  stderr: StreamSummary,
): RunOutcome {
  const reading: CgroupReading = { cpuMs: null, memoryPeakBytes: null, oomKills: null }
  const execution: Execution = { exitCode: null, wallMs, reading, oomKilled: false, killed: null }
  const jobResult = result(execution, stdout, stderr, { oomKilled: false, timedOut: false })
  return { state: 'failed', cause: 'executor', result: jobResult, error: errorMessage(error) }
}
