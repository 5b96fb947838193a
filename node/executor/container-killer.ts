// Kills a job's container once, for the first reason that comes (timeout or cancel), and
// learns whether the kill landed or the job had already exited on its own.

import type Docker from 'dockerode'
import { ENGINE_CALL_TIMEOUT_MS } from './constants.ts'

export type KillReason = 'timeout' | 'cancelled'

export class ContainerKiller {
  private reason: KillReason | null = null
  private landed: Promise<boolean> = Promise.resolve(false)
  private failure: Error | null = null

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
          // Anything else is kept so the caller can report it.
          if (!isNotRunning(error))
            this.failure = error instanceof Error ? error : new Error(String(error))
          return false
        },
      )
  }

  /** Why the container was killed, once the kill has been answered; null if it never was. */
  async settled(): Promise<KillReason | null> {
    return (await this.landed) ? this.reason : null
  }

  /** The engine's error if a kill failed for another reason than the job having exited. */
  get error(): Error | null {
    return this.failure
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
