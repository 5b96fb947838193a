// The three runtimes, their arguments and environment, resources used, and jobs side by side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DockerExecutor } from '../../../node/executor/index.ts'
import {
  describeWithDocker,
  runJob,
  startedExecutor,
  stopAndCheckClean,
  testExecutorId,
} from '../../fixtures/docker.ts'

describeWithDocker('runtimes', (docker) => {
  const executorId = testExecutorId('runtimes')
  let executor: DockerExecutor

  beforeAll(async () => {
    executor = await startedExecutor(docker, executorId)
  })

  afterAll(async () => {
    await stopAndCheckClean(docker, executor, executorId)
  })

  describe.concurrent('each runtime', () => {
    it('should import numpy and scikit-learn and load iris when the job is python', async () => {
      const outcome = await runJob(executor, {
        runtime: 'python',
        code: `
import sys, numpy, sklearn
from sklearn.datasets import load_iris
iris = load_iris()
print(iris.data.shape, sys.argv[1:], __import__('os').environ['GREETING'])
`,
        args: ['a b', '--flag'],
        env: { GREETING: 'hello' },
      })
      expect(outcome.error).toBeNull()
      expect(outcome.state).toBe('succeeded')
      expect(outcome.result.stdoutTail).toBe("(150, 4) ['a b', '--flag'] hello\n")
    })

    it('should pass args and env when the job is node', async () => {
      const outcome = await runJob(executor, {
        runtime: 'node',
        code: 'console.log(JSON.stringify([process.argv.slice(2), process.env.GREETING]))',
        args: ['a b', '$HOME'],
        env: { GREETING: 'hello' },
      })
      expect(outcome.state).toBe('succeeded')
      expect(outcome.result.stdoutTail).toBe('[["a b","$HOME"],"hello"]\n')
    })

    it('should pass args and env when the job is bash', async () => {
      const outcome = await runJob(executor, {
        runtime: 'bash',
        code: 'printf "%s|" "$@"; echo "$GREETING $HOME $(pwd)"',
        args: ['a b', '*'],
        env: { GREETING: 'hello' },
      })
      expect(outcome.state).toBe('succeeded')
      expect(outcome.result.stdoutTail).toBe('a b|*|hello /work /work\n')
      expect(outcome.live.stdout).toBe(outcome.result.stdoutTail)
    })

    it('should report CPU time and peak memory when the job burns both', async () => {
      const outcome = await runJob(executor, {
        runtime: 'python',
        code: `
import time
hoard = b'x' * (40 << 20)
end = time.process_time() + 0.6
while time.process_time() < end:
    pass
`,
      })
      expect(outcome.state).toBe('succeeded')
      expect(outcome.result.wallMs).toBeGreaterThanOrEqual(600)
      expect(outcome.result.cpuMs).toBeGreaterThanOrEqual(400)
      expect(outcome.result.memoryPeakBytes).toBeGreaterThan(40 << 20)
    })
  })

  it('should run several jobs at once when they are started together', async () => {
    const jobs = 4
    let peakRunning = 0
    const began = performance.now()
    const outcomes = await Promise.all(
      Array.from({ length: jobs }, () =>
        runJob(
          executor,
          { runtime: 'bash', code: 'sleep 1', cpus: 0.25, memoryMb: 32 },
          {
            onStarted: () => {
              peakRunning = Math.max(peakRunning, executor.status().load.runningJobs)
            },
          },
        ),
      ),
    )
    const elapsedMs = performance.now() - began
    expect(outcomes.map((outcome) => outcome.state)).toEqual(Array(jobs).fill('succeeded'))
    expect(peakRunning).toBe(jobs)
    // One after another would take four seconds.
    expect(elapsedMs).toBeLessThan(3000)
    expect(executor.status().load).toEqual({ runningJobs: 0, cpusInUse: 0, memoryMbInUse: 0 })
  })

  it('should hand a noop job back without a container when it lacks the noop runtime', async () => {
    const outcome = await runJob(executor, { runtime: 'noop', code: '' })
    expect(outcome.state).toBe('failed')
    expect(outcome.cause).toBe('executor')
    expect(outcome.error).toMatch(/runs no noop jobs: they need --noop-executor/)
    expect(executor.status().capacity.runtimes).not.toContain('noop')
  })
})
