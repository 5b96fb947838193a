// `npm run chaos -- --minutes 20 [--seed N] [--json]`: issue 9's chaos test for any duration,
// on real daemons on this machine's loopback (see scripts/lib/chaos-scenario.ts). Prints the
// seed first, so that a run can be replayed, and its counts and violations at the end; exits
// non-zero when anything that must hold did not.
import '../node/polyfills.ts'
import { randomInt } from 'node:crypto'
import { parseArgs } from 'node:util'
import { runChaos } from './lib/chaos-scenario.ts'

const USAGE = `usage: npm run chaos -- [--minutes M] [--seed N] [--json] [--root DIR] [--keep]
  --minutes M          how long the kills go on (default 2), then a quiet period and checks
  --seed N             the seed of the kill schedule and the job mix (default: a random one)
  --submit-every-ms N  the clients' submission interval (default: what their funds last)
  --json               print the report as one JSON object on stdout
  --root DIR           where the data dirs and logs go (kept); default a temporary directory,
                       removed when the run passes
  --keep               keep the temporary directory when the run passes too
`

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}`)
  process.exit(2)
}

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '2' },
    seed: { type: 'string' },
    'submit-every-ms': { type: 'string' },
    json: { type: 'boolean', default: false },
    root: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})
if (values.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}
const minutes = Number(values.minutes)
if (!Number.isFinite(minutes) || minutes <= 0) fail(`--minutes takes a positive number`)
const seed = values.seed === undefined ? randomInt(2 ** 31) : Number(values.seed)
if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) fail('--seed takes an integer')
const submitEveryMs =
  values['submit-every-ms'] === undefined ? undefined : Number(values['submit-every-ms'])
if (submitEveryMs !== undefined && !(submitEveryMs >= 50)) fail('--submit-every-ms: at least 50')

process.stderr.write(`chaos seed ${seed} (replay with --seed ${seed})\n`)
const startedAt = Date.now()
const report = await runChaos({
  durationMs: Math.round(minutes * 60_000),
  seed,
  keepRoot: values.keep,
  ...(values.root === undefined ? {} : { root: values.root }),
  ...(submitEveryMs === undefined ? {} : { submitEveryMs }),
  log: (line) =>
    process.stderr.write(`[${((Date.now() - startedAt) / 1000).toFixed(1)} s] ${line}\n`),
})
if (values.json) {
  process.stdout.write(`${JSON.stringify(report)}\n`)
} else {
  const { counts } = report
  const lines = [
    `seed ${report.seed}, ${minutes} min of kills, a submission every ${report.submitEveryMs} ms`,
    `submissions ${counts.client.submissions}, acknowledged ${counts.client.acknowledged} ` +
      `(${counts.client.replayedAcknowledgements} by a retry's replay), refused ` +
      `${counts.client.refused}, unacknowledged ${counts.client.unacknowledged}`,
    `jobs by state ${JSON.stringify(counts.jobsByState)}`,
    `kills ${counts.kills} (${counts.coordinatorKills} of the coordinator), restarts ` +
      `${counts.restarts}, terms ${counts.terms}, retries ${counts.client.retries}`,
    `balance reads ${counts.client.balanceReads} (${counts.client.balanceReadsFailed} failed), ` +
      `containers ${counts.containerRuns}, jobs completed twice ${counts.jobsCompletedTwice} ` +
      `(${counts.jobsCompletedTwiceOnLiveExecutors} with a run on an executor not killed)`,
    ...report.completedTwice.map((line) => `  completed twice: ${line}`),
    report.agreedAt === null
      ? 'replicas never lined up at one index'
      : `replicas agree at index ${report.agreedAt.appliedIndex}: ${report.agreedAt.stateHash}`,
    report.violations.length === 0
      ? 'no violations'
      : `${report.violations.length} violations:\n  ${report.violations.join('\n  ')}`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}
if (report.violations.length > 0) {
  process.stderr.write(`data dirs and logs kept in ${report.root}\n`)
  process.exitCode = 1
}
