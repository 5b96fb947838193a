// Benchmarks: `npm run bench -- <name> [--json] [...]`. Each prints one JSON object with --json
// and compares against a baseline measured in the same run, never against a fixed time.
import '../node/polyfills.ts'
import { parseArgs } from 'node:util'
import { benchJobOverhead } from './bench-job-overhead.ts'

interface BenchOptions {
  readonly jobs: number
  readonly cycles: number
  readonly every: number
  readonly codeBytes: number
  readonly trials: number | undefined
  readonly seconds: number
  readonly startArgs: readonly string[]
  readonly profileDir?: string
  readonly inFlight?: number
}

const BENCHMARKS: Readonly<Record<string, (options: BenchOptions) => Promise<object>>> = {
  'job-overhead': benchJobOverhead,
  'state-growth': async (options) => {
    const { benchStateGrowth } = await import('./bench-state-growth.ts')
    return benchStateGrowth(options)
  },
  pwa: async () => {
    const { benchPwa } = await import('./bench-pwa.ts')
    return benchPwa()
  },
  'blob-transfer': async () => {
    const { benchBlob } = await import('./bench-blob.ts')
    return benchBlob()
  },
  cli: async (options) => {
    const { benchCli } = await import('./bench-cli.ts')
    return benchCli({ trials: options.trials ?? 30 })
  },
  raft: async () => {
    const { benchRaft } = (await import('./bench-raft.ts')) as {
      benchRaft: (options: object) => Promise<object>
    }
    return benchRaft({})
  },
  'mesh-throughput': async (options) => {
    const { benchMeshThroughput } = await import('./bench-mesh-throughput.ts')
    return benchMeshThroughput(options)
  },
  fedavg: async () => {
    const { benchFedavg } = await import('./bench-fedavg.ts')
    return benchFedavg()
  },
  failover: async (options) => {
    const { benchFailover } = await import('./bench-failover.ts')
    return benchFailover({ ...options, trials: options.trials ?? 50 })
  },
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: 'boolean', default: false },
    jobs: { type: 'string', default: '30' },
    cycles: { type: 'string', default: '10000' },
    every: { type: 'string', default: '1000' },
    'code-bytes': { type: 'string', default: String(64 * 1024) },
    // Each benchmark has its own default number of trials (cli 30, failover 50).
    trials: { type: 'string' },
    seconds: { type: 'string', default: '30' },
    // Flags every gridx start of the mesh benchmarks gets, to compare settings (repeatable).
    'start-arg': { type: 'string', multiple: true, default: [] },
    profile: { type: 'string' },
    'in-flight': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
})

const name = positionals[0]
const run = name === undefined ? undefined : BENCHMARKS[name]
if (values.help || run === undefined) {
  process.stderr.write(
    `usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}> [--json] [--jobs N]\n` +
      '  state-growth: [--cycles N (10000)] [--every N (1000)] [--code-bytes N (65536)]\n' +
      '  cli: [--trials N (30)]\n' +
      '  failover: [--trials N (50)] [--start-arg=FLAG]... (e.g. --start-arg=--raft-tick-ms=10)\n' +
      '  mesh-throughput: [--seconds N (30)] [--profile DIR (CPU profiles of every peer)]\n' +
      '    [--in-flight N (8 submissions unanswered per connection)]\n',
  )
  process.exit(values.help ? 0 : 2)
}
const report = await run({
  jobs: Number(values.jobs),
  cycles: Number(values.cycles),
  every: Number(values.every),
  codeBytes: Number(values['code-bytes']),
  trials: values.trials === undefined ? undefined : Number(values.trials),
  seconds: Number(values.seconds),
  startArgs: values['start-arg'],
  ...(values.profile === undefined ? {} : { profileDir: values.profile }),
  ...(values['in-flight'] === undefined ? {} : { inFlight: Number(values['in-flight']) }),
})
process.stdout.write(
  values.json ? `${JSON.stringify(report)}\n` : `${JSON.stringify(report, null, 2)}\n`,
)
process.exit(0)
