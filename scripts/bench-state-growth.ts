// state-growth: a token holder's submit-then-cancel loop against a real daemon (API over the
// WebSocket, ledger on LevelDB in a temp dir). Each cycle submits distinct code, so no
// content addressing can hide it, and cancels the job while it is still queued. Every `every`
// cycles it prints the process's RSS and the bytes of the data dir's ledger; both must level
// off after a warm-up. The baseline is the first sample after the warm-up, taken in this run.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RunOutcome } from '../ledger/index.ts'
import { RAFT_DIR } from '../node/daemon/index.ts'
import type { LocalExecutor } from '../node/daemon/index.ts'
import { emptyJobResult, GridxError, RpcClient } from '../protocol/index.ts'
import { benchDaemon } from './lib/bench-daemon.ts'

export interface StateGrowthOptions {
  readonly cycles: number
  readonly every: number
  readonly codeBytes: number
}

const MIB = 1024 * 1024

interface Sample {
  readonly cycles: number
  readonly rssMb: number
  readonly heapMb: number
  readonly heapTotalMb: number
  readonly externalMb: number
  readonly ledgerMb: number
}

/** Holds every job it is given until it is cancelled: one job that fills its only CPU keeps
 * every later job queued, which is what a submit-then-cancel loop costs the ledger. */
function holdingExecutor(): LocalExecutor {
  const capacity = { cpus: 1, memoryMb: 1024, runtimes: ['python'] as const }
  const idle = { runningJobs: 0, cpusInUse: 0, memoryMbInUse: 0 }
  return {
    start: async () => undefined,
    stop: async () => undefined,
    status: () => ({ available: true, capacity, problem: null, load: idle }),
    run: (_request, hooks) => {
      hooks.onStarted?.()
      return new Promise((resolve) => {
        hooks.signal.addEventListener('abort', () => resolve(cancelledRun()), { once: true })
      })
    },
  }
}

function cancelledRun(): { state: 'cancelled' } & Omit<RunOutcome, 'state'> {
  return { state: 'cancelled', cause: null, error: null, result: emptyJobResult() }
}

/** Bytes of the files in `path`. LevelDB deletes files as it compacts, so one listed may be
 * gone when it is looked at: it holds nothing any more. */
async function directoryBytes(path: string): Promise<number> {
  let total = 0
  for (const name of await readdir(path)) {
    try {
      total += (await stat(join(path, name))).size
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }
  return total
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** A Python comment of `bytes` seeded pseudo-random characters: LevelDB compresses its blocks,
 * and code that compresses to nothing would hide what real code costs. */
/** Waits this long after a RATE_LIMITED answer: the token's bucket refills at 200 a second. */
const RATE_LIMITED_WAIT_MS = 100

/** Makes a call, waiting out the API's rate limit: both calls the bench makes are idempotent
 * by their idempotency id, so a retry is the same request. Counts the waits in `rate`. */
async function paced<T>(call: () => Promise<T>, rate: { waits: number }): Promise<T> {
  for (;;) {
    try {
      return await call()
    } catch (error) {
      if (!(error instanceof GridxError) || error.name !== 'RATE_LIMITED') throw error
      rate.waits++
      await new Promise((resolve) => setTimeout(resolve, RATE_LIMITED_WAIT_MS))
    }
  }
}

function codeOf(cycle: number, bytes: number): string {
  const head = `# cycle ${cycle}\n# `
  const chars: string[] = [head]
  let seed = cycle * 2_654_435_761
  for (let i = head.length; i < bytes - 1; i++) {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0
    chars.push(ALPHABET[seed >>> 26] as string)
  }
  chars.push('\n')
  return chars.join('')
}

export async function benchStateGrowth(options: StateGrowthOptions): Promise<object> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gridx-bench-growth-'))
  const daemon = benchDaemon(dataDir, { createExecutor: () => holdingExecutor() })
  await daemon.start()
  const client = new RpcClient({ url: daemon.address.url, token: daemon.token })
  const samples: Sample[] = []
  const rate = { waits: 0 }
  const began = performance.now()
  try {
    await client.connect()
    // The blocker takes the executor's one CPU; it runs (held) until the daemon stops.
    await client.call('job.submit', {
      idempotencyId: 'blocker',
      spec: { runtime: 'python', code: 'pass', cpus: 1, memoryMb: 16, timeoutS: 60 },
    })
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      const spec = { runtime: 'python', code: codeOf(cycle, options.codeBytes), cpus: 1 } as const
      const submit = {
        idempotencyId: `cycle-${cycle}`,
        spec: { ...spec, memoryMb: 16, timeoutS: 1 },
      }
      const { job } = await paced(() => client.call('job.submit', submit), rate)
      if (job.state !== 'queued') throw new Error(`cycle ${cycle}: job is ${job.state}`)
      const cancel = { id: job.id, idempotencyId: `cancel-${cycle}` }
      await paced(() => client.call('job.cancel', cancel), rate)
      if (cycle % options.every === 0) {
        // With node --expose-gc (NODE_OPTIONS), collect first, so the sample is what is kept
        // rather than how much garbage the collector let pile up.
        ;(globalThis as { gc?: () => void }).gc?.()
        const memory = process.memoryUsage()
        samples.push({
          cycles: cycle,
          rssMb: Math.round((memory.rss / MIB) * 10) / 10,
          heapMb: Math.round((memory.heapUsed / MIB) * 10) / 10,
          heapTotalMb: Math.round((memory.heapTotal / MIB) * 10) / 10,
          externalMb: Math.round((memory.external / MIB) * 10) / 10,
          ledgerMb: Math.round(((await directoryBytes(join(dataDir, RAFT_DIR))) / MIB) * 10) / 10,
        })
      }
    }
  } finally {
    client.close()
    await daemon.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
  return { ...report(options, samples, performance.now() - began), rateLimitedWaits: rate.waits }
}

function report(options: StateGrowthOptions, samples: Sample[], elapsedMs: number): object {
  // The first half is the warm-up: the growth that matters is what the second half adds.
  const baseline = samples[Math.floor((samples.length - 1) / 2)]
  const last = samples.at(-1)
  const growth =
    baseline === undefined || last === undefined || last.cycles === baseline.cycles
      ? null
      : {
          fromCycles: baseline.cycles,
          toCycles: last.cycles,
          rssMb: Math.round((last.rssMb - baseline.rssMb) * 10) / 10,
          ledgerMb: Math.round((last.ledgerMb - baseline.ledgerMb) * 10) / 10,
        }
  return {
    benchmark: 'state-growth',
    cycles: options.cycles,
    codeBytes: options.codeBytes,
    elapsedS: Math.round(elapsedMs / 100) / 10,
    collectedBeforeSamples: typeof (globalThis as { gc?: unknown }).gc === 'function',
    samples,
    growthAfterWarmup: growth,
  }
}
