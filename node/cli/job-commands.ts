// gridx submit | jobs | status | logs | cancel
import { Command, InvalidArgumentError, Option } from 'commander'
import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { CONTAINER_RUNTIMES, JOB_STATES, RUNTIMES } from '../../protocol/index.ts'
import type { JobSpecInput, JobView, Runtime } from '../../protocol/index.ts'
import { call, target } from './api.ts'
import { CliError } from './connect.ts'
import type { CliContext, CommonOptions } from './context.ts'
import { getCommand, submitInputs } from './file-commands.ts'
import { exitCodeOf, followJob } from './follow.ts'
import { JOB_HEADER, credits, jobDetails, jobLine, table } from './format.ts'
import {
  PARENT_HEADER,
  parentDetails,
  parentLine,
  parentOrNull,
  parentSummary,
  shardCount,
  submitSharded,
} from './shard-commands.ts'

type Decorate = (command: Command) => Command

const RUNTIME_BY_EXTENSION: Readonly<Record<string, Runtime>> = {
  '.py': 'python',
  '.js': 'node',
  '.mjs': 'node',
  '.cjs': 'node',
  '.sh': 'bash',
  '.bash': 'bash',
}

export interface SubmitOptions extends CommonOptions {
  readonly code?: string
  readonly runtime?: Runtime
  readonly cpus?: string
  readonly memory?: string
  readonly timeout?: string
  readonly pids?: string
  readonly env: string[]
  readonly arg: string[]
  readonly input: string[]
  readonly disk?: string
  readonly follow?: boolean
  readonly idempotencyId?: string
  readonly shards?: string
  readonly reduce?: string
}

async function readStdin(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function number(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (!Number.isFinite(parsed)) throw new CliError(`${flag} takes a number, not "${value}"`)
  return parsed
}

export async function buildSpec(
  context: CliContext,
  file: string | undefined,
  options: SubmitOptions,
) {
  let code: string
  let runtime = options.runtime
  if (options.code !== undefined) {
    if (file !== undefined) throw new CliError('give a FILE or -c CODE, not both')
    code = options.code
  } else if (file === '-') {
    code = await readStdin(context.stdin())
  } else if (file !== undefined) {
    code = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read ${file}: ${error.code ?? error.message}`)
    })
    runtime ??= RUNTIME_BY_EXTENSION[extname(file).toLowerCase()]
  } else {
    throw new CliError('nothing to run: give a FILE, -c CODE, or - to read the code from stdin')
  }
  const env: Record<string, string> = {}
  for (const pair of options.env) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new CliError(`--env takes NAME=VALUE, not "${pair}"`)
    env[pair.slice(0, at)] = pair.slice(at + 1)
  }
  const spec: JobSpecInput = {
    runtime: runtime ?? 'python',
    code,
    args: options.arg,
    env,
    cpus: number(options.cpus, '--cpus'),
    memoryMb: number(options.memory, '--memory'),
    timeoutS: number(options.timeout, '--timeout'),
    pids: number(options.pids, '--pids'),
    diskMb: number(options.disk, '--disk'),
  }
  for (const key of Object.keys(spec) as (keyof JobSpecInput)[]) {
    if (spec[key] === undefined) delete spec[key]
  }
  return spec
}

export function print(
  context: CliContext,
  json: boolean | undefined,
  value: unknown,
  text: string,
) {
  context.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`)
}

/** A runtime name. `noop` (benchmarks and tests: only a peer started with the hidden
 * --noop-executor runs it) is accepted but, like that flag, not offered in help or errors. */
export function runtimeOf(value: string): Runtime {
  const known = (RUNTIMES as readonly string[]).includes(value)
  if (!known) throw new InvalidArgumentError(`choose one of ${CONTAINER_RUNTIMES.join(', ')}.`)
  return value as Runtime
}

function submitCommand(context: CliContext, decorate: Decorate): Command {
  return decorate(new Command('submit'))
    .description('submit code as a job (a FILE, -c CODE, or - for stdin) and print its id')
    .argument('[file]', 'file with the code; its extension picks the runtime')
    .option('-c, --code <code>', 'the code itself')
    .addOption(
      // The choices are what help and completion offer; the parser also takes noop.
      new Option('--runtime <runtime>', 'python, node, bash or python-torch')
        .choices(CONTAINER_RUNTIMES)
        .argParser(runtimeOf),
    )
    .option('--cpus <n>', 'CPUs reserved for the job')
    .option('--memory <mb>', 'memory limit in MB (swap is not allowed past it)')
    .option('--timeout <s>', 'wall-clock limit in seconds; the job is killed at it')
    .option('--pids <n>', 'process limit')
    .option('--env <name=value>', 'environment variable (repeatable)', collect, [])
    .option('--arg <value>', 'argument passed to the code (repeatable, in order)', collect, [])
    .option(
      '--input <path>',
      'a file, directory or glob the job reads under inputs/ (repeatable)',
      collect,
      [],
    )
    .option('--disk <mb>', 'disk quota of what the job writes under outputs/, in MB')
    .option('--idempotency-id <id>', 'resubmitting with the same id creates nothing new')
    .option('-f, --follow', 'stream the output and exit with the job’s exit code')
    .option('--shards <n>', 'split the --input dataset by rows and run the code on each shard')
    .option('--reduce <file>', 'with --shards: code run over every shard’s outputs')
    .action(async (file: string | undefined, options: SubmitOptions) => {
      const spec = await buildSpec(context, file, options)
      const shards = shardCount(options.shards)
      if (options.reduce !== undefined && shards === undefined) {
        throw new CliError('--reduce goes with --shards')
      }
      if (shards !== undefined && options.follow) throw new CliError('--follow is for one job')
      const api = await target(context, options)
      const inputs = await submitInputs(context, api, options.input, options.json ?? false)
      if (inputs !== undefined) spec.inputs = inputs
      const idempotencyId = options.idempotencyId ?? randomUUID()
      if (shards !== undefined) {
        const sharded = await submitSharded(api, spec, shards, options.reduce, idempotencyId)
        return print(context, options.json, sharded, parentSummary(sharded.parent))
      }
      const { job, created } = await call(api, 'job.submit', { idempotencyId, spec })
      if (!options.follow) {
        const note = created ? '' : ' (already submitted with this idempotency id)'
        const escrow = `${credits(job.maxPriceMc)} credits escrowed`
        return print(context, options.json, { job, created }, `${job.id}${note}  ${escrow}`)
      }
      if (!options.json) context.stderr.write(`submitted ${job.id}\n`)
      const final = await followJob(context, api, job.id, { json: options.json ?? false })
      finish(context, options, final)
    })
}

function finish(context: CliContext, options: CommonOptions, job: JobView): void {
  context.setExitCode(exitCodeOf(job))
  if (options.json) return print(context, true, job, '')
  if (job.state !== 'succeeded') {
    const reason = job.reason ? `: ${job.reason}` : ''
    context.stderr.write(`job ${job.id} ${job.state}${reason}\n`)
  }
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

export function jobCommands(context: CliContext, decorate: Decorate): Command[] {
  const jobs = decorate(new Command('jobs'))
    .description('list your jobs, newest first')
    .addOption(new Option('--state <state>', 'only jobs in this state').choices(JOB_STATES))
    .option('--limit <n>', 'how many', '50')
    .action(async (options: CommonOptions & { state?: string; limit: string }) => {
      const api = await target(context, options)
      const params = {
        limit: number(options.limit, '--limit'),
        ...(options.state ? { state: options.state } : {}),
      }
      const { jobs: list } = await call(api, 'job.list', params as never)
      const { parents } = await call(api, 'job.parents', { limit: params.limit })
      const text = list.length === 0 ? 'no jobs yet' : table([JOB_HEADER, ...list.map(jobLine)])
      const sharded = parents.length === 0 ? '' : table([PARENT_HEADER, ...parents.map(parentLine)])
      const both = sharded === '' ? text : `${sharded}\n\n${text}`
      // --json keeps its shape, the list of jobs; `gridx status --json` shows a parent.
      print(context, options.json, list, both)
    })
  const status = decorate(new Command('status'))
    .description('show one job: state, timings, resources, price')
    .argument('<job>', 'job id')
    .action(async (id: string, options: CommonOptions) => {
      const api = await target(context, options)
      const parent = await parentOrNull(api, id)
      if (parent !== null) return print(context, options.json, parent, parentDetails(parent))
      const job = await call(api, 'job.get', { id })
      print(context, options.json, job, jobDetails(job))
    })
  const logs = decorate(new Command('logs'))
    .description('print a job’s output (the kept tail once it ended)')
    .argument('<job>', 'job id')
    .option('-f, --follow', 'stream the output live until the job ends; exit with its code')
    .action(async (id: string, options: CommonOptions & { follow?: boolean }) => {
      const api = await target(context, options)
      if (options.follow)
        return finish(
          context,
          options,
          await followJob(context, api, id, { json: options.json ?? false }),
        )
      const result = await call(api, 'job.logs', { id })
      if (options.json) return print(context, true, result, '')
      context.stdout.write(result.stdout)
      context.stderr.write(result.stderr)
      if (result.result?.stdoutTruncated || result.result?.stderrTruncated) {
        context.stderr.write(
          `[output was cut at ${result.result.outputCapBytes} bytes per stream]\n`,
        )
      }
    })
  const cancel = decorate(new Command('cancel'))
    .description('cancel a job; a running one is killed and pays for the time it ran')
    .argument('<job>', 'job id')
    .action(async (id: string, options: CommonOptions) => {
      const api = await target(context, options)
      if ((await parentOrNull(api, id)) !== null) {
        const parent = await call(api, 'job.cancel-parent', { id, idempotencyId: randomUUID() })
        return print(context, options.json, parent, `${parent.id} ${parent.state}`)
      }
      const job = await call(api, 'job.cancel', { id, idempotencyId: randomUUID() })
      print(context, options.json, job, `${job.id} ${job.state}`)
    })
  return [
    submitCommand(context, decorate),
    jobs,
    status,
    logs,
    cancel,
    getCommand(context, decorate),
  ]
}
