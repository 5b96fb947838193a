// The noop runtime's runner: the same contract as the Docker executor's run (an outcome the wire
// takes for every end of a run, 'cancelled' when the signal ended it), with nothing executed.
import { describe, expect, it } from 'vitest'
import { DockerExecutor, NoopRunner, withNoopRuntime } from '../../../node/executor/index.ts'
import { jobSpecSchema, runOutcomeSchema, type JobSpecInput } from '../../../protocol/index.ts'

function request(spec: Partial<JobSpecInput> = {}, jobId = 'jnoop00001') {
  return { jobId, fence: 7, spec: jobSpecSchema.parse({ runtime: 'noop', code: 'x', ...spec }) }
}

function engineless(executorId: string): DockerExecutor {
  return new DockerExecutor({ executorId, dockerHost: 'unix:///nonexistent/docker.sock' })
}

describe('NoopRunner', () => {
  it('should succeed at once with empty output when the job is noop', async () => {
    let starts = 0
    const output: string[] = []
    const outcome = await new NoopRunner().run(request(), {
      signal: new AbortController().signal,
      onStarted: () => starts++,
      onOutput: (_stream, text) => output.push(text),
    })
    expect(starts).toBe(1)
    expect(output).toEqual([])
    expect(outcome.state).toBe('succeeded')
    expect(outcome.cause).toBeNull()
    expect(outcome.error).toBeNull()
    expect(outcome.result).toMatchObject({ exitCode: 0, stdoutTail: '', stdoutBytes: 0 })
    expect(outcome.result.wallMs).toBeGreaterThanOrEqual(0)
    // The shape the Docker runner gives and the executor protocol carries.
    expect(runOutcomeSchema.parse(outcome)).toEqual(outcome)
  })

  it('should report the wall time its clock measured when given a clock', async () => {
    const times = [1000, 1003.4]
    const runner = new NoopRunner({ now: () => times.shift() ?? 2000 })
    const outcome = await runner.run(request(), { signal: new AbortController().signal })
    expect(outcome.result.wallMs).toBe(3)
  })

  it('should resolve as cancelled without starting when the signal is already aborted', async () => {
    const controller = new AbortController()
    controller.abort()
    let starts = 0
    const outcome = await new NoopRunner().run(request(), {
      signal: controller.signal,
      onStarted: () => starts++,
    })
    expect(outcome.state).toBe('cancelled')
    expect(starts).toBe(0)
  })

  it('should fail with cause executor when the job needs a container', async () => {
    const outcome = await new NoopRunner().run(request({ runtime: 'python' }), {
      signal: new AbortController().signal,
    })
    expect(outcome.state).toBe('failed')
    expect(outcome.cause).toBe('executor')
    expect(outcome.error).toMatch(/runs only noop jobs, not python/)
    expect(runOutcomeSchema.parse(outcome)).toEqual(outcome)
  })
})

describe('withNoopRuntime', () => {
  it('should offer noop and run noop jobs when the Docker engine is absent', async () => {
    const executor = withNoopRuntime(engineless('noop-alone'))
    await executor.start()
    const status = executor.status()
    expect(status.available).toBe(true)
    expect(status.capacity.runtimes).toEqual(['noop'])
    expect(status.capacity.cpus).toBeGreaterThan(0)
    expect(status.capacity.memoryMb).toBeGreaterThan(0)
    const outcome = await executor.run(request(), { signal: new AbortController().signal })
    expect(outcome.state).toBe('succeeded')
    await executor.stop()
  })

  it('should hand container jobs to the engine executor when the job is not noop', async () => {
    const executor = withNoopRuntime(engineless('noop-beside'))
    await executor.start()
    const outcome = await executor.run(request({ runtime: 'bash' }), {
      signal: new AbortController().signal,
    })
    // The engineless executor's own refusal, not the noop runner's.
    expect(outcome.cause).toBe('executor')
    expect(outcome.error).toMatch(/no Docker engine answers/)
    await executor.stop()
  })

  it('should count running noop jobs in its load when one is under way', async () => {
    const executor = withNoopRuntime(engineless('noop-load'))
    await executor.start()
    let during: ReturnType<typeof executor.status>['load'] | null = null
    await executor.run(request({ cpus: 2, memoryMb: 256 }), {
      signal: new AbortController().signal,
      onStarted: () => (during = executor.status().load),
    })
    expect(during).toEqual({ runningJobs: 1, cpusInUse: 2, memoryMbInUse: 256 })
    expect(executor.status().load).toEqual({ runningJobs: 0, cpusInUse: 0, memoryMbInUse: 0 })
    await executor.stop()
  })
})
