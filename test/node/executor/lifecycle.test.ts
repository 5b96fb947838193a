// The executor as a service: what start() finds, the orphans of a crashed daemon, a missing
// image, and stop() while jobs run.
import { describe, expect, it } from 'vitest'
import {
  DockerExecutor,
  jobLabels,
  runtimeCommand,
  sandboxOptions,
} from '../../../node/executor/index.ts'
import {
  containersOf,
  describeWithDocker,
  runJob,
  spec,
  startedExecutor,
  stopAndCheckClean,
  testExecutorId,
  testJobId,
} from '../../fixtures/docker.ts'

describeWithDocker(
  'executor lifecycle',
  (docker) => {
    describe.concurrent('service', () => {
      it('should report capacity and runtimes when it starts', async () => {
        const executorId = testExecutorId('capacity')
        const executor = new DockerExecutor({ executorId, docker })
        expect(executor.status().available).toBe(false)
        expect(await executor.start()).toEqual({ orphans: [] })
        const status = executor.status()
        expect(status.available).toBe(true)
        expect(status.capacity.cpus).toBeGreaterThanOrEqual(1)
        expect(status.capacity.memoryMb).toBeGreaterThan(256)
        expect(status.capacity.runtimes).toContain('bash')
        expect(status.load).toEqual({ runningJobs: 0, cpusInUse: 0, memoryMbInUse: 0 })
        await executor.stop()
        expect(status.problem === null || status.problem.includes('scripts/setup.sh')).toBe(true)
      })

      it('should remove orphaned containers and report their jobs when it starts', async () => {
        const executorId = testExecutorId('orphans')
        const jobId = testJobId()
        // What a daemon killed with -9 leaves: a running, labelled container nobody waits on.
        // `cat` waits forever for code that never comes, so it keeps running.
        const options = sandboxOptions(spec({ runtime: 'bash', code: '' }), {
          image: 'gridx/runtime-bash:latest',
          labels: jobLabels(executorId, jobId, 42),
        })
        const orphan = await docker.createContainer({ ...options, Cmd: runtimeCommand('bash', []) })
        await orphan.start()
        const other = testExecutorId('bystander')
        const bystander = await docker.createContainer({
          ...options,
          Labels: jobLabels(other, testJobId(), 1),
        })
        try {
          const executor = new DockerExecutor({ executorId, docker })
          const report = await executor.start()
          expect(report.orphans).toEqual([
            { containerId: orphan.id, jobId, fence: 42, wasRunning: true },
          ])
          expect(await containersOf(docker, executorId)).toEqual([])
          // Another executor's container on the same engine is not ours to touch.
          expect(await containersOf(docker, other)).toEqual([bystander.id])
          await executor.stop()
        } finally {
          await bystander.remove({ force: true, v: true })
        }
      })

      it('should fail with cause executor and say how to fix it when an image is missing', async () => {
        const executorId = testExecutorId('no-image')
        const executor = new DockerExecutor({
          executorId,
          docker,
          images: { python: 'gridx/runtime-absent:none' },
        })
        await executor.start()
        expect(executor.status().problem).toMatch(/gridx\/runtime-absent:none.*scripts\/setup\.sh/)
        expect(executor.status().capacity.runtimes).not.toContain('python')
        const outcome = await runJob(executor, { runtime: 'python', code: 'print(1)' })
        expect(outcome.state).toBe('failed')
        expect(outcome.cause).toBe('executor')
        expect(outcome.error).toMatch(/python runtime image .* is missing.*scripts\/setup\.sh/)
        await stopAndCheckClean(docker, executor, executorId)
      })

      it('should refuse with cause executor when a job asks for more CPUs than the machine has', async () => {
        const executorId = testExecutorId('too-big')
        const executor = await startedExecutor(docker, executorId)
        const cpus = executor.status().capacity.cpus + 1
        const outcome = await runJob(executor, { runtime: 'bash', code: 'true', cpus })
        expect(outcome.state).toBe('failed')
        expect(outcome.cause).toBe('executor')
        expect(outcome.error).toMatch(new RegExp(`asks for ${cpus} CPUs`))
        await stopAndCheckClean(docker, executor, executorId)
      })

      it('should kill running jobs and remove their containers when it stops', async () => {
        const executorId = testExecutorId('stop')
        const executor = await startedExecutor(docker, executorId)
        const started = Promise.withResolvers<void>()
        const running = runJob(
          executor,
          { runtime: 'bash', code: 'sleep 60' },
          { onStarted: () => started.resolve() },
        )
        await started.promise
        const began = performance.now()
        await executor.stop()
        const outcome = await running
        expect(performance.now() - began).toBeLessThan(5000)
        expect(outcome.state).toBe('failed')
        expect(outcome.cause).toBe('executor')
        expect(outcome.error).toMatch(/shut down/)
        expect(await containersOf(docker, executorId)).toEqual([])
        await expect(
          executor.run(
            { jobId: testJobId(), fence: 1, spec: spec({ runtime: 'bash', code: 'true' }) },
            { signal: new AbortController().signal },
          ),
        ).rejects.toThrow(/started executor/)
      })
    })
  },
  ['bash'],
)
