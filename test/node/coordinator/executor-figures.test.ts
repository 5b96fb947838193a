// Figures of the executor protocol on loopback: the assign -> ack round trip, and reports per
// second. Printed as one JSON line each; the bounds only catch a protocol gone badly wrong
// (a stream or a round trip per message), not a slow machine: the test machine is shared,
// its load average was 16 to 34 on 2 cores when these bounds were set.
import { afterEach, describe, expect, it } from 'vitest'
import {
  FakeRunner,
  jobId,
  spec,
  startCoordinator,
  startExecutor,
  type ServerEvent,
} from './fixtures/executor-mesh.ts'

type Joined = Extract<ServerEvent, { type: 'joined' }>

describe('executor protocol figures', () => {
  const stops: (() => void | Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()))
  })

  async function pair() {
    const coordinator = await startCoordinator()
    const runner = new FakeRunner()
    const executor = await startExecutor(() => Promise.resolve(coordinator.address), runner)
    stops.push(
      () => coordinator.node.stop(),
      () => executor.node.stop(),
    )
    const { link } = (await coordinator.events.next((event) => event.type === 'joined')) as Joined
    return { coordinator, runner, link }
  }

  const percentile = (sorted: number[], p: number) =>
    round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!)
  const round = (ms: number) => Math.round(ms * 1000) / 1000

  it('should acknowledge an assignment within a few milliseconds when on loopback', async () => {
    const { link, runner } = await pair()
    const trials = 2000
    const roundTripsMs: number[] = []
    for (let at = 0; at < trials; at += 1) {
      const start = performance.now()
      const result = await link.assign({ jobId: jobId(at), fence: at + 1, spec })
      roundTripsMs.push(performance.now() - start)
      expect(result.acknowledged).toBe(true)
      // Finished at once, so the executor stays under its EXECUTOR_JOBS_MAX.
      ;(await runner.started(jobId(at))).finish()
    }
    roundTripsMs.sort((a, b) => a - b)
    const figure = {
      figure: 'executor-assign-ack-ms',
      trials,
      p50: percentile(roundTripsMs, 50),
      p99: percentile(roundTripsMs, 99),
      max: round(roundTripsMs.at(-1)!),
    }
    console.log(JSON.stringify(figure))
    expect(figure.p50).toBeLessThan(25)
  })

  it('should carry thousands of reports per second when on loopback', async () => {
    const { coordinator, runner, link } = await pair()
    const jobs = 1000
    await Promise.all(
      Array.from({ length: jobs }, (_, at) => link.assign({ jobId: jobId(at), fence: 1, spec })),
    )
    const runs = await Promise.all(
      Array.from({ length: jobs }, (_, at) => runner.started(jobId(at))),
    )
    const outputs = 20_000
    const last = jobId(jobs - 1)
    const outputStart = performance.now()
    for (let at = 0; at < outputs; at += 1) runs[0]!.hooks.onOutput?.('stdout', `line ${at}\n`)
    await coordinator.events.next(
      (event) =>
        event.type === 'report' &&
        event.report.type === 'output' &&
        event.report.data === `line ${outputs - 1}\n`,
      20_000,
    )
    const outputMs = performance.now() - outputStart
    const finishStart = performance.now()
    for (const run of runs) run.finish()
    await coordinator.events.next(
      (event) =>
        event.type === 'report' && event.report.type === 'finished' && event.report.jobId === last,
      20_000,
    )
    const finishMs = performance.now() - finishStart
    const figure = {
      figure: 'executor-reports-per-s',
      outputReports: outputs,
      outputPerS: Math.round((outputs / outputMs) * 1000),
      finishedReports: jobs,
      finishedPerS: Math.round((jobs / finishMs) * 1000),
    }
    console.log(JSON.stringify(figure))
    expect(figure.outputPerS).toBeGreaterThan(2000)
    expect(figure.finishedPerS).toBeGreaterThan(200)
  })
})
