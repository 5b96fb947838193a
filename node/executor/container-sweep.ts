// Finding and removing this executor's containers by their labels: at start, the orphans of a
// daemon that crashed; at stop, anything a run could not remove itself.

import type Docker from 'dockerode'
import {
  ENGINE_CALL_TIMEOUT_MS,
  LABEL_EXECUTOR,
  LABEL_FENCE,
  LABEL_JOB,
  LABEL_MANAGED,
  STOP_TIMEOUT_MS,
} from './constants.ts'
import { ContainerCleanupError, errorMessage } from './errors.ts'

/** A container found and removed, with the job it ran (from its labels). */
export interface SweptContainer {
  readonly containerId: string
  readonly jobId: string | null
  readonly fence: number | null
  /** The container was still running when found. */
  readonly wasRunning: boolean
}

/** The label filter that selects exactly one executor's containers. */
export function executorFilter(executorId: string): { label: string[] } {
  return { label: [`${LABEL_MANAGED}=true`, `${LABEL_EXECUTOR}=${executorId}`] }
}

function swept(container: Docker.ContainerInfo): SweptContainer {
  const fence = Number(container.Labels[LABEL_FENCE])
  return {
    containerId: container.Id,
    jobId: container.Labels[LABEL_JOB] ?? null,
    fence: Number.isInteger(fence) ? fence : null,
    wasRunning: container.State === 'running',
  }
}

/**
 * Kills and removes every container of `executorId`, within STOP_TIMEOUT_MS. Returns what it
 * removed; throws ContainerCleanupError naming any it could not remove.
 */
export async function sweepContainers(
  docker: Docker,
  executorId: string,
): Promise<SweptContainer[]> {
  const deadlineAt = Date.now() + STOP_TIMEOUT_MS
  const deadline = AbortSignal.timeout(STOP_TIMEOUT_MS)
  const found = await docker.listContainers({
    all: true,
    filters: executorFilter(executorId),
    abortSignal: AbortSignal.any([deadline, AbortSignal.timeout(ENGINE_CALL_TIMEOUT_MS)]),
  })
  const removals = await Promise.allSettled(
    // A signal of its own for each removal, on the same deadline: one signal shared by many
    // removals collects a listener from each, and Node warns of a leak past ten.
    found.map((container) =>
      docker.getContainer(container.Id).remove({
        force: true,
        v: true,
        abortSignal: AbortSignal.timeout(Math.max(0, deadlineAt - Date.now())),
      }),
    ),
  )
  const failed: string[] = []
  const reasons: string[] = []
  removals.forEach((removal, index) => {
    if (removal.status === 'fulfilled') return
    const statusCode = (removal.reason as { statusCode?: number }).statusCode
    if (statusCode === 404) return
    // Another removal of it (a finished run's) is under way and will finish it.
    if (statusCode === 409 && /already in progress/.test(errorMessage(removal.reason))) return
    failed.push(found[index]!.Id)
    reasons.push(errorMessage(removal.reason))
  })
  if (failed.length > 0) {
    throw new ContainerCleanupError(
      failed,
      `could not remove ${failed.length} Grid-X container(s): ${reasons.join('; ')}`,
    )
  }
  return found.map(swept)
}
