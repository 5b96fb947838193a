// Benchmarks: `npm run bench -- <name> [--json] [...]`. Each prints one JSON object with --json
// and compares against a baseline measured in the same run, never against a fixed time.
import '../node/polyfills.ts'
import { parseArgs } from 'node:util'
import { benchJobOverhead } from './bench-job-overhead.ts'

const BENCHMARKS: Readonly<Record<string, (options: { jobs: number }) => Promise<object>>> = {
  'job-overhead': benchJobOverhead,
  pwa: async () => {
    const { benchPwa } = await import('./bench-pwa.ts')
    return benchPwa()
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
    help: { type: 'boolean', default: false },
  },
})

const name = positionals[0]
const run = name === undefined ? undefined : BENCHMARKS[name]
if (values.help || run === undefined) {
  process.stderr.write(
    `usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}> [--json] [--jobs N]\n`,
  )
  process.exit(values.help ? 0 : 2)
}
const report = await run({ jobs: Number(values.jobs) })
process.stdout.write(
  values.json ? `${JSON.stringify(report)}\n` : `${JSON.stringify(report, null, 2)}\n`,
)
process.exit(0)
