// cli: how long a `gridx` call takes, as a user runs it (bin/gridx.js, a child process):
// `gridx --help`, and `gridx jobs` against a daemon this bench starts on loopback with its
// data dir in a temp dir and a few noop jobs in its list. The baseline, measured in the same
// run, is `node -e ''`: what any Node command costs before it does anything. The three are
// interleaved, each trial in a new order, so a load that comes and goes (the machine may be
// shared) weighs on all of them alike. The target is at most 150 ms over the baseline.
//
// `npm run bench -- cli --json [--trials N]`.
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { staleReason } from '../bin/build-state.js'
import { summary } from './bench-stats.ts'
import { GRIDX_BIN, runCommand, runGridx, startGridxDaemon } from './lib/gridx-process.ts'

/** The overhead over `node -e ''` the issue sets as the goal (issue 11, "The CLI"). */
const TARGET_OVERHEAD_MS = 150
const SEEDED_JOBS = 5
const WARMUP_TRIALS = 2

interface Case {
  readonly name: string
  readonly args: readonly string[]
}

export async function benchCli(options: { trials: number }): Promise<object> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  // Read before any call: a call made on a stale build would rebuild it and hide that.
  const buildBefore = staleReason(root) ?? 'fresh'
  const dataDir = await mkdtemp(join(tmpdir(), 'gridx-bench-cli-'))
  const env = { GRIDX_API: '', GRIDX_TOKEN: '' }
  const daemon = await startGridxDaemon(dataDir, ['--noop-executor'], { env })
  try {
    for (let index = 0; index < SEEDED_JOBS; index += 1) {
      const submitted = await runGridx(
        ['submit', '--runtime', 'noop', '-c', '', '--data-dir', dataDir],
        { env },
      )
      if (submitted.code !== 0) throw new Error(`gridx submit failed: ${submitted.stderr}`)
    }
    const cases: readonly Case[] = [
      { name: 'baseline', args: ['-e', ''] },
      { name: 'help', args: [GRIDX_BIN, '--help'] },
      { name: 'jobs', args: [GRIDX_BIN, 'jobs', '--data-dir', dataDir] },
    ]
    const samples = await measure(cases, options.trials, env)
    const baseline = summary(samples.get('baseline') ?? [])
    const against = (name: string) => {
      const measured = summary(samples.get(name) ?? [])
      const overheadP50Ms = round(measured.p50Ms - baseline.p50Ms)
      return {
        ...measured,
        overheadP50Ms,
        overheadP90Ms: round(measured.p90Ms - baseline.p90Ms),
        withinTarget: overheadP50Ms <= TARGET_OVERHEAD_MS,
      }
    }
    return {
      benchmark: 'cli',
      node: process.version,
      build: buildBefore,
      trials: options.trials,
      targetOverheadMs: TARGET_OVERHEAD_MS,
      loadAverage: loadavg().map(round),
      baseline: { command: "node -e ''", ...baseline },
      help: { command: 'gridx --help', ...against('help') },
      jobs: { command: `gridx jobs (${SEEDED_JOBS} jobs)`, ...against('jobs') },
    }
  } finally {
    daemon.child.kill('SIGTERM')
    await daemon.exited
    await rm(dataDir, { recursive: true, force: true })
  }
}

/** Wall-clock milliseconds of each case's runs, from spawn to exit, warm-up runs left out. */
async function measure(
  cases: readonly Case[],
  trials: number,
  env: NodeJS.ProcessEnv,
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(cases.map((entry) => [entry.name, []]))
  for (let trial = -WARMUP_TRIALS; trial < trials; trial += 1) {
    const offset = ((trial % cases.length) + cases.length) % cases.length
    for (let index = 0; index < cases.length; index += 1) {
      const entry = cases[(index + offset) % cases.length] as Case
      const started = performance.now()
      const result = await runCommand(process.execPath, entry.args, { env })
      const tookMs = performance.now() - started
      if (result.code !== 0) throw new Error(`${entry.name} failed: ${result.stderr}`)
      if (trial >= 0) samples.get(entry.name)?.push(tookMs)
    }
  }
  return samples
}

const round = (value: number): number => Math.round(value * 10) / 10
