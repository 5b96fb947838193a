// The sharded parts of gridx submit (--shards, --reduce), status, jobs and cancel.
import { readFile } from 'node:fs/promises'
import { GridxError, SHARDS_MAX } from '../../protocol/index.ts'
import type { JobSpecInput, ParentView } from '../../protocol/index.ts'
import { call } from './api.ts'
import { CliError } from './connect.ts'
import type { ApiTarget } from './connect.ts'
import { credits, table } from './format.ts'
import { trainingDetails } from './train-commands.ts'

/** `--shards` as a count of shards within the bounds. */
export function shardCount(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const count = Number(value)
  if (!Number.isInteger(count) || count < 1 || count > SHARDS_MAX) {
    throw new CliError(`--shards takes a whole number from 1 to ${SHARDS_MAX}, not "${value}"`)
  }
  return count
}

export async function submitSharded(
  api: ApiTarget,
  spec: JobSpecInput,
  shards: number,
  reduceFile: string | undefined,
  idempotencyId: string,
): Promise<{ parent: ParentView; created: boolean }> {
  if (spec.inputs === undefined) {
    throw new CliError('--shards splits the dataset --input names: give one')
  }
  const reduceCode =
    reduceFile === undefined
      ? undefined
      : await readFile(reduceFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new CliError(`cannot read ${reduceFile}: ${error.code ?? error.message}`)
        })
  return call(api, 'job.submit-sharded', {
    idempotencyId,
    spec,
    shards,
    ...(reduceCode !== undefined ? { reduceCode } : {}),
  })
}

/** The sharded job of this id, or null when the id is not one (it may be a plain job's). */
export async function parentOrNull(api: ApiTarget, id: string): Promise<ParentView | null> {
  try {
    return await call(api, 'job.parent', { id })
  } catch (error) {
    if (error instanceof GridxError && error.name === 'NOT_FOUND') return null
    throw error
  }
}

function progress(parent: ParentView): string {
  return `${parent.shardsDone}/${parent.shards.length}`
}

export function parentSummary(parent: ParentView): string {
  return (
    `${parent.id}  ${parent.shards.length} shards${parent.hasReduce ? ' and a reduce' : ''}  ` +
    `${credits(parent.maxPriceMc)} credits escrowed`
  )
}

export function parentDetails(parent: ParentView): string {
  const lines: [string, string][] = [
    ['job', `${parent.id} (${parent.training !== undefined ? 'training' : 'sharded'})`],
    ['state', parent.state + (parent.reason !== null ? ` (${parent.reason})` : '')],
    ['progress', `${progress(parent)} shards done`],
    ['cost', `${credits(parent.costMc)} credits (of ${credits(parent.maxPriceMc)} escrowed)`],
    ['reduce', parent.reduce ?? (parent.hasReduce ? 'waits for every shard' : 'none')],
  ]
  const width = Math.max(...lines.map(([key]) => key.length))
  const head = lines.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n')
  const rows = parent.shards.map((shard) => [
    String(shard.index),
    shard.state,
    shard.jobs.join(' '),
  ])
  const shards = table([['SHARD', 'STATE', 'JOBS'], ...rows])
  if (parent.training === undefined) return `${head}\n\n${shards}`
  return `${head}\n${trainingDetails(parent.training)}\n\n${shards}`
}

export const PARENT_HEADER = ['SHARDED', 'STATE', 'PROGRESS', 'CREDITS', 'REDUCE']

export function parentLine(parent: ParentView): string[] {
  return [
    parent.id,
    parent.state,
    progress(parent),
    credits(parent.costMc),
    parent.reduce ?? (parent.hasReduce ? 'waiting' : '-'),
  ]
}
