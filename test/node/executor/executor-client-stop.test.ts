// A graceful stop of an executor in a mesh: its running jobs finish within the drain or go back
// to the coordinator at once, instead of being killed and found lost a lease later.
import { afterEach, describe, expect, it } from 'vitest'
import {
  FakeRunner,
  jobId,
  spec,
  startCoordinator,
  startExecutor,
  succeeded,
  type ServerEvent,
  type TestCoordinator,
} from '../coordinator/fixtures/executor-mesh.ts'

type Joined = Extract<ServerEvent, { type: 'joined' }>
type Reported = Extract<ServerEvent, { type: 'report' }>

describe('ExecutorClient when it stops', () => {
  const stops: (() => void | Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()))
  })

  async function connected() {
    const at: TestCoordinator = await startCoordinator()
    stops.push(() => at.node.stop())
    const runner = new FakeRunner()
    const started = await startExecutor(() => Promise.resolve(at.address), runner)
    stops.push(() => started.node.stop())
    const { link } = (await at.events.next((event) => event.type === 'joined')) as Joined
    return { at, runner, client: started.client, link }
  }

  const finishedOn = (at: TestCoordinator, job: string) =>
    at.events.next(
      (event) =>
        event.type === 'report' && event.report.type === 'finished' && event.report.jobId === job,
    ) as Promise<Reported>

  it('should hand its running jobs back to the coordinator when it stops', async () => {
    const { at, runner, client, link } = await connected()
    await link.assign({ jobId: jobId(1), fence: 3, spec })
    await runner.started(jobId(1))
    await client.stop()
    expect(runner.cancelled.seen).toEqual([jobId(1)])
    const { report } = await finishedOn(at, jobId(1))
    expect(report).toMatchObject({ fence: 3, outcome: { state: 'failed', cause: 'executor' } })
    // The hand-back came before the stream closed, and was acknowledged: nothing is left.
    expect(client.reportBuffer.size).toBe(0)
  })

  it('should let a job finish and report it when it ends within the drain', async () => {
    const { at, runner, client, link } = await connected()
    await link.assign({ jobId: jobId(2), fence: 4, spec })
    const run = await runner.started(jobId(2))
    const stopping = client.stop(60_000)
    // A stopping executor takes nothing new.
    expect(await link.assign({ jobId: jobId(3), fence: 5, spec })).toMatchObject({
      acknowledged: false,
    })
    run.finish(succeeded('drained\n'))
    await stopping
    const { report } = await finishedOn(at, jobId(2))
    expect(report).toMatchObject({ fence: 4, outcome: { state: 'succeeded' } })
    expect(runner.cancelled.seen).toEqual([])
    expect(client.reportBuffer.size).toBe(0)
  })
})
