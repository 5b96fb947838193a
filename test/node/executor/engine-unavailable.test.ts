// Without an engine the daemon still starts; the executor says why it cannot run jobs and
// every run fails with cause 'executor' instead of throwing.
import { describe, expect, it } from 'vitest'
import { DockerExecutor } from '../../../node/executor/index.ts'
import { jobSpecSchema } from '../../../protocol/index.ts'

describe('DockerExecutor without an engine', () => {
  it('should start, explain the problem and fail runs with cause executor when no engine answers', async () => {
    const executor = new DockerExecutor({
      executorId: 'no-engine',
      dockerHost: 'unix:///nonexistent/docker.sock',
    })
    expect(await executor.start()).toEqual({ orphans: [] })
    const status = executor.status()
    expect(status.available).toBe(false)
    expect(status.problem).toMatch(/no Docker engine answers at DOCKER_HOST=.*unset DOCKER_HOST/)
    expect(status.capacity).toEqual({ cpus: 0, memoryMb: 0, runtimes: [] })
    const outcome = await executor.run(
      {
        jobId: 'jnoengine1',
        fence: 1,
        spec: jobSpecSchema.parse({ runtime: 'bash', code: 'true' }),
      },
      { signal: new AbortController().signal },
    )
    expect(outcome.state).toBe('failed')
    expect(outcome.cause).toBe('executor')
    expect(outcome.error).toBe(status.problem)
    await executor.stop()
  })

  it('should throw when run is called before start', async () => {
    const executor = new DockerExecutor({ executorId: 'not-started' })
    await expect(
      executor.run(
        { jobId: 'jnotstart1', fence: 1, spec: jobSpecSchema.parse({ runtime: 'bash', code: '' }) },
        { signal: new AbortController().signal },
      ),
    ).rejects.toThrow(/needs a started executor/)
  })
})
