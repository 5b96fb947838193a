// Kills a job's container once, for the first reason that comes (timeout or cancel), and
// learns whether the kill landed or the job had already exited on its own.

import type Docker from 'dockerode'
import { ENGINE_CALL_TIMEOUT_MS } from './constants.ts'

export type KillReason = 'timeout' | 'cancelled'

export class ContainerKiller {
  private reason: KillReason | null = null
  /** Resolves, never rejects (nobody may be awaiting it yet): true if the kill landed. */
  private landed: Promise<boolean | Error> = Promise.resolve(false)

  constructor(private readonly container: Docker.Container) {}

  /** Sends SIGKILL; later calls, for any reason, do nothing. Never throws. */
  kill(reason: KillReason): void {
    if (this.reason !== null) return
    this.reason = reason
    this.landed = this.container
      .kill({ signal: 'SIGKILL', abortSignal: AbortSignal.timeout(ENGINE_CALL_TIMEOUT_MS) })
      .then(
        () => true,
        (error: unknown) => {
          // 409 means the container was no longer running: it exited first, nothing was killed.
          // Anything else means the engine itself is failing: kept for settled() to raise.
          if (isNotRunning(error)) return false
          return error instanceof Error ? error : new Error(String(error))
        },
      )
  }

  /** Why the container was killed, once the kill has been answered; null if it never was.
   * Rejects with the engine's error when the kill failed for another reason. */
  async settled(): Promise<KillReason | null> {
    const landed = await this.landed
    if (landed instanceof Error) throw landed
    return landed ? this.reason : null
  }
}

function isNotRunning(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'statusCode' in error &&
    (error.statusCode === 409 || error.statusCode === 304)
  )
}
