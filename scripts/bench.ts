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
  readonly trials: number
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
  cli: async (options) => {
    const { benchCli } = await import('./bench-cli.ts')
    return benchCli(options)
  },
  raft: async () => {
    const { benchRaft } = (await import('./bench-raft.ts')) as {
      benchRaft: (options: object) => Promise<object>
    }
    return benchRaft({})
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
    trials: { type: 'string', default: '30' },
    help: { type: 'boolean', default: false },
  },
})

const name = positionals[0]
const run = name === undefined ? undefined : BENCHMARKS[name]
if (values.help || run === undefined) {
  process.stderr.write(
    `usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}> [--json] [--jobs N]\n` +
      '  state-growth: [--cycles N (10000)] [--every N (1000)] [--code-bytes N (65536)]\n' +
      '  cli: [--trials N (30)]\n',
  )
  process.exit(values.help ? 0 : 2)
}
const report = await run({
  jobs: Number(values.jobs),
  cycles: Number(values.cycles),
  every: Number(values.every),
  codeBytes: Number(values['code-bytes']),
  trials: Number(values.trials),
})
process.stdout.write(
  values.json ? `${JSON.stringify(report)}\n` : `${JSON.stringify(report, null, 2)}\n`,
)
process.exit(0)
