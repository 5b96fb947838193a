// gridx get, and the files parts of gridx submit and gridx status.
import { Command } from 'commander'
import { join } from 'node:path'
import { GLOBAL_DIR } from '../../protocol/index.ts'
import type { JobFile, JobView, ParentView } from '../../protocol/index.ts'
import { call, target } from './api.ts'
import { downloadBlob, uploadInputs } from './blob-transfer.ts'
import { CliError } from './connect.ts'
import type { ApiTarget } from './connect.ts'
import type { CliContext, CommonOptions } from './context.ts'
import { expandInputs } from './input-files.ts'
import { createProgress } from './progress.ts'
import { parentOrNull } from './shard-commands.ts'

type Decorate = (command: Command) => Command

/** Uploads what `--input` names (only what the daemon lacks) and returns the spec's inputs. */
export async function submitInputs(
  context: CliContext,
  api: ApiTarget,
  patterns: readonly string[],
  json: boolean,
): Promise<JobFile[] | undefined> {
  if (patterns.length === 0) return undefined
  const files = await expandInputs(patterns)
  const progress = createProgress(context.stderr, !json)
  const report = await uploadInputs(api, files, (text) => progress.update(text)).finally(() =>
    progress.done(),
  )
  if (!json) {
    const bytes = files.reduce((sum, file) => sum + file.size, 0)
    context.stderr.write(
      `inputs: ${files.length} files, ${bytes} bytes; uploaded ${report.uploaded}, ` +
        `${report.alreadyThere} already on the daemon\n`,
    )
  }
  return report.inputs
}

/** The outputs `name` picks: the file of that name, or every file under that directory. */
function picked(job: JobView, name: string | undefined): readonly JobFile[] {
  const outputs = job.result?.outputs ?? []
  if (outputs.length === 0) {
    throw new CliError(`job ${job.id} has no outputs (it is ${job.state})`)
  }
  if (name === undefined) return outputs
  const chosen = outputs.filter((file) => file.name === name || file.name.startsWith(`${name}/`))
  if (chosen.length === 0) {
    const names = outputs.map((file) => file.name).join(', ')
    throw new CliError(`job ${job.id} has no output ${name}; it has ${names}`)
  }
  return chosen
}

export function getCommand(context: CliContext, decorate: Decorate): Command {
  return decorate(new Command('get'))
    .description('download a job’s outputs (all, or NAME) into a directory, checked by hash')
    .argument('<job>', 'job id (of a sharded job: its reduce’s outputs; of a training: its model)')
    .argument('[name]', 'one output file, or a directory of them')
    .option('-o, --output <dir>', 'where to write them', '.')
    .action(
      async (id: string, name: string | undefined, options: CommonOptions & { output: string }) => {
        const api = await target(context, options)
        const from = await outputsJobOf(api, id)
        const job = await call(api, 'job.get', { id: from.id })
        const files = picked(job, name ?? from.under)
        const written: { name: string; path: string; size: number; cid: string }[] = []
        for (const file of files) {
          const relative =
            from.under === undefined ? file.name : file.name.slice(from.under.length + 1)
          const path = join(options.output, ...relative.split('/'))
          await downloadBlob(api, file, job.executor, path)
          written.push({ ...file, path })
          if (!options.json) context.stdout.write(`${path}  ${file.size} bytes\n`)
        }
        if (options.json) context.stdout.write(`${JSON.stringify(written, null, 2)}\n`)
      },
    )
}

/** The job whose outputs `gridx get ID` fetches: the job itself, or for a sharded job its
 * reduce, the one result of the whole run; for a training job its last aggregate's `global/`
 * (the final model), written without that directory. */
async function outputsJobOf(api: ApiTarget, id: string): Promise<{ id: string; under?: string }> {
  const parent = await parentOrNull(api, id)
  if (parent === null) return { id }
  const training = parent.training
  if (training !== undefined) {
    const last = training.history.at(-1)?.aggregateJob
    if (training.model === null || last === null || last === undefined) {
      throw new CliError(
        `training job ${id} has no model yet (it is ${parent.state}, round ` +
          `${training.round}/${training.rounds}): gridx status ${id}`,
      )
    }
    return { id: last, under: GLOBAL_DIR }
  }
  if (parent.reduce !== null) return { id: parent.reduce }
  const last = (shard: ParentView['shards'][number]) => shard.jobs.at(-1) ?? '?'
  throw new CliError(
    parent.hasReduce
      ? `sharded job ${id} has no reduce yet (it is ${parent.state}): gridx status ${id}`
      : `sharded job ${id} has no reduce: get each shard's outputs, e.g. gridx get ` +
          last(parent.shards[0]!),
  )
}
