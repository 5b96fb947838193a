// The deterministic Raft simulator's command line, `npm run sim`. It lives beside the simulator
// in test/, since nothing outside test/ may import test code. `--seeds 2000` runs seeds 1..2000;
// `--seed N` replays one seed exactly. A failing seed is printed with its violation and the
// command that replays it. Exits 1 on any violation.
import { parseArgs } from 'node:util'
// The daemon's polyfills (Promise.withResolvers on Node 20), as vitest loads them for tests.
import '../setup/polyfills.ts'
import { BUG_NAMES, bugOptions, isBugName } from './knobs.ts'
import { percentile, runSeeds } from './run-seeds.ts'
import { CHAOS_TICKS_DEFAULT, ELECTION_TICKS } from './profile.ts'

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100' },
    seed: { type: 'string' },
    first: { type: 'string', default: '1' },
    ticks: { type: 'string' },
    knob: { type: 'string' },
    json: { type: 'boolean', default: false },
    'stop-at-violation': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})

if (values.help) {
  process.stdout.write(
    [
      'usage: npm run sim -- [options]',
      '',
      'Runs whole Raft clusters under faults from seeds, then heals them; exits 1 on a violation.',
      '',
      '  --seeds N              how many seeds to run (default 100)',
      '  --first N              the first seed (default 1)',
      '  --seed N               replay one seed exactly',
      `  --ticks N              ticks of faults before healing (default ${CHAOS_TICKS_DEFAULT})`,
      `  --knob NAME            switch a known bug on: ${BUG_NAMES.join(', ')}`,
      '  --stop-at-violation    stop at the first violation',
      '  --json                 the report as one line of JSON (progress stays on stderr)',
      '',
    ].join('\n'),
  )
  process.exit(0)
}

function integer(name: string, text: string): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`--${name} must be a non-negative integer\n`)
    process.exit(2)
  }
  return value
}

const knob = values.knob
if (knob !== undefined && !isBugName(knob)) {
  process.stderr.write(`--knob must be one of ${BUG_NAMES.join(', ')}\n`)
  process.exit(2)
}
const knobs = knob === undefined ? {} : bugOptions(knob)

const single = values.seed === undefined ? undefined : integer('seed', values.seed)
const first = single ?? integer('first', values.first)
const count = single === undefined ? integer('seeds', values.seeds) : 1
const chaosTicks = values.ticks === undefined ? undefined : integer('ticks', values.ticks)
const started = performance.now()
let done = 0
let violations = 0
/** Election ticks after healing to the number of seeds that took them: it lets separate runs
 * (a campaign split over cores) be combined into exact percentiles. */
const electionTicks = new Map<number, number>()
const summary = await runSeeds({
  first,
  count,
  chaosTicks,
  ...knobs,
  stopAtViolation: values['stop-at-violation'],
  onResult: (result) => {
    done++
    const ticks = result.electionTicksAfterHeal
    if (ticks !== undefined) electionTicks.set(ticks, (electionTicks.get(ticks) ?? 0) + 1)
    if (result.violation !== undefined) {
      violations++
      process.stderr.write(`seed ${result.seed}: ${result.violation}\n`)
      process.stderr.write(`  run: ${result.profile}\n`)
      process.stderr.write(`  replay: npm run sim -- --seed ${result.seed}\n`)
    } else if (done % 1000 === 0) {
      // Progress goes to stderr, so a long --json run can be watched without spoiling stdout.
      process.stderr.write(`${progress()}\n`)
    }
  },
})
const seconds = (performance.now() - started) / 1000
const report = {
  ...summary,
  /** The minimum election timeout, for reading the ticks above in election timeouts. */
  electionTicks: ELECTION_TICKS,
  electionTicksHistogram: Object.fromEntries([...electionTicks].sort(([a], [b]) => a - b)),
  seconds: Number(seconds.toFixed(1)),
  knob: values.knob ?? null,
}
process.stdout.write(`${JSON.stringify(report, null, values.json ? undefined : 2)}\n`)
process.exit(summary.violations.length === 0 ? 0 : 1)

/** One line on how far a run is: seeds, time, violations, liveness so far. */
function progress(): string {
  const sorted: number[] = []
  for (const [ticks, seeds] of [...electionTicks].sort(([a], [b]) => a - b)) {
    for (let i = 0; i < seeds; i++) sorted.push(ticks)
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  const p = (q: number) => percentile(sorted, q)
  return (
    `${done} seeds, ${seconds} s, ${violations} violations, election ticks after healing ` +
    `p50 ${p(0.5)} p99 ${p(0.99)} max ${sorted[sorted.length - 1] ?? 0}`
  )
}
