// An engine started after the daemon is found without a restart: the executor looks again
// every recheckMs, sweeps what an earlier daemon left, says so, and runs jobs.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it, vi } from 'vitest'
import { DockerExecutor } from '../../../node/executor/index.ts'
import type { ExecutorStatus } from '../../../node/executor/index.ts'
import { openEngineProxy } from '../../fixtures/engine-proxy.ts'
import { CONTAINER_RUNTIMES } from '../../../protocol/index.ts'
import {
  describeWithDocker,
  dockerProbe,
  runJob,
  stopAndCheckClean,
  testExecutorId,
} from '../../fixtures/docker.ts'

describeWithDocker('DockerExecutor when the engine appears after start', (docker) => {
  it('should find the engine at its next look, report the change and run jobs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gridx-late-engine-'))
    const socket = join(dir, 'docker.sock')
    const executorId = testExecutorId('late-engine')
    const executor = new DockerExecutor({
      executorId,
      dockerHost: `unix://${socket}`,
      recheckMs: 50,
    })
    const proxy = { close: async () => undefined }
    try {
      await executor.start()
      const changes: ExecutorStatus[] = []
      executor.onStatusChange((status) => changes.push(status))
      // Several looks find nothing and report nothing: the problem stays the same.
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(executor.status().available).toBe(false)
      expect(executor.status().problem).toMatch(/no Docker engine answers/)
      expect(changes).toEqual([])

      Object.assign(proxy, await openEngineProxy(socket))
      await vi.waitFor(() => expect(executor.status().available).toBe(true), {
        timeout: 10_000,
        interval: 50,
      })
      expect(changes).toHaveLength(1)
      expect(changes[0]).toMatchObject({ available: true, problem: null })
      // Every runtime whose image this engine has (python-torch's is optional).
      const present = CONTAINER_RUNTIMES.filter(
        (runtime) => !dockerProbe.missingRuntimes.includes(runtime),
      )
      expect(executor.status().capacity.runtimes).toEqual(present)

      const outcome = await runJob(executor, { runtime: 'bash', code: 'echo late engine' })
      expect(outcome.state).toBe('succeeded')
      expect(outcome.live.stdout).toBe('late engine\n')
      await stopAndCheckClean(docker, executor, executorId)
    } finally {
      await executor.stop()
      await proxy.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
