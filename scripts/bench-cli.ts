// cli: how long a `gridx` call takes, as a user runs it (bin/gridx.js, a child process):
// `gridx --help`, and `gridx jobs` against a daemon this bench starts on loopback with its
// data dir in a temp dir and a few noop jobs in its list. The baseline, measured in the same
// run, is `node -e ''`: what any Node command costs before it does anything. The three are
// interleaved, each trial in a new order, so a load that comes and goes (the machine may be
// shared) weighs on all of them alike. The target is at most 150 ms over the baseline.
// Each run's CPU time (user + sys, from bash's `times`) is reported beside its wall-clock
// time: on a shared machine the CPU time says what the command costs, the wall-clock time
// also what it waited for. `gridx --help` run from source (GRIDX_FROM_SOURCE=1) is measured
// too, as the figure before the build.
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
  readonly env?: NodeJS.ProcessEnv
}

interface Samples {
  readonly wallMs: number[]
  readonly cpuMs: number[]
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
      { name: 'source', args: [GRIDX_BIN, '--help'], env: { GRIDX_FROM_SOURCE: '1' } },
    ]
    const samples = await measure(cases, options.trials, env)
    const baseline = figures(samples.get('baseline'))
    const against = (name: string) => {
      const measured = figures(samples.get(name))
      const overheadP50Ms = round(measured.p50Ms - baseline.p50Ms)
      return {
        ...measured,
        overheadP50Ms,
        overheadP90Ms: round(measured.p90Ms - baseline.p90Ms),
        cpuOverheadP50Ms: round(measured.cpu.p50Ms - baseline.cpu.p50Ms),
        withinTarget: overheadP50Ms <= TARGET_OVERHEAD_MS,
        // On an idle machine a command's wall-clock time comes close to its CPU time.
        withinTargetByCpu: measured.cpu.p50Ms - baseline.cpu.p50Ms <= TARGET_OVERHEAD_MS,
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
      helpFromSource: { command: 'GRIDX_FROM_SOURCE=1 gridx --help', ...against('source') },
    }
  } finally {
    daemon.child.kill('SIGTERM')
    await daemon.exited
    await rm(dataDir, { recursive: true, force: true })
  }
}

function figures(samples: Samples | undefined) {
  return { ...summary(samples?.wallMs ?? []), cpu: summary(samples?.cpuMs ?? []) }
}

/** Bash runs the command and then `times`, whose second line is its children's CPU time. */
const TIMED = '"$@" >/dev/null; status=$?; times; exit $status'

/** Each case's runs, warm-up runs left out: wall-clock from spawn to exit, and CPU time. */
async function measure(
  cases: readonly Case[],
  trials: number,
  env: NodeJS.ProcessEnv,
): Promise<Map<string, Samples>> {
  const samples = new Map(cases.map((entry) => [entry.name, { wallMs: [], cpuMs: [] } as Samples]))
  for (let trial = -WARMUP_TRIALS; trial < trials; trial += 1) {
    const offset = ((trial % cases.length) + cases.length) % cases.length
    for (let index = 0; index < cases.length; index += 1) {
      const entry = cases[(index + offset) % cases.length] as Case
      const args = ['-c', TIMED, 'bash', process.execPath, ...entry.args]
      const started = performance.now()
      const result = await runCommand('bash', args, { env: { ...env, ...entry.env } })
      const wallMs = performance.now() - started
      if (result.code !== 0) throw new Error(`${entry.name} failed: ${result.stderr}`)
      if (trial < 0) continue
      samples.get(entry.name)?.wallMs.push(wallMs)
      samples.get(entry.name)?.cpuMs.push(childrenCpuMs(result.stdout))
    }
  }
  return samples
}

/** User plus system milliseconds from the last line of `times` ("0m0.041s 0m0.012s"). */
function childrenCpuMs(output: string): number {
  const line = output.trim().split('\n').at(-1) ?? ''
  const parts = [...line.matchAll(/(\d+)m([\d.]+)s/g)]
  if (parts.length !== 2) throw new Error(`cannot read the CPU time from "${line}"`)
  return parts.reduce((total, [, minutes, seconds]) => {
    return total + (Number(minutes) * 60 + Number(seconds)) * 1000
  }, 0)
}

const round = (value: number): number => Math.round(value * 10) / 10
