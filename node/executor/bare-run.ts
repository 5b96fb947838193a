// The least dockerode can do to run a job in the same sandbox: the benchmark's baseline, against
// which the executor's own overhead (output capture, cgroup sampling, timers) is measured.

import type { Duplex } from 'node:stream'
import type Docker from 'dockerode'
import { ENGINE_CALL_TIMEOUT_MS } from './constants.ts'

export interface BareRunResult {
  readonly exitCode: number
  /** From create to removed, the span the executor's run() also covers. */
  readonly wallMs: number
  /** From create to the exit being known (before the removal): when a result could be told. */
  readonly exitedMs: number
}

/**
 * Create (with `options`, e.g. from sandboxOptions), attach stdin, start, send `code`, wait,
 * remove. Output is read and dropped. Throws on any engine error: this is a measuring tool,
 * not a job runner.
 */
export async function runBare(
  docker: Docker,
  options: Docker.ContainerCreateOptions,
  code: string,
): Promise<BareRunResult> {
  const began = performance.now()
  const container = await docker.createContainer({ ...options })
  let exitCode: number
  let exitedMs: number
  try {
    const stream = (await container.attach({
      stream: true,
      stdin: true,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as Duplex
    stream.resume()
    stream.once('error', (error) => stream.destroy(error))
    await container.start({ abortSignal: AbortSignal.timeout(ENGINE_CALL_TIMEOUT_MS) })
    stream.end(code)
    const exit = (await container.wait({ condition: 'not-running' })) as { StatusCode: number }
    stream.destroy()
    exitCode = exit.StatusCode
    exitedMs = performance.now() - began
  } finally {
    await container.remove({
      force: true,
      v: true,
      abortSignal: AbortSignal.timeout(ENGINE_CALL_TIMEOUT_MS),
    })
  }
  return { exitCode, exitedMs, wallMs: performance.now() - began }
}
