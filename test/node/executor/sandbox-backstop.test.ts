// The container's own hard stop, on the real engine: what is left when the daemon that started
// a job is gone (killed with -9 and not restarted) and no timer of its own will kill it.
import type { Duplex } from 'node:stream'
import { expect, it } from 'vitest'
import { JOB_TIMEOUT_BACKSTOP_S, jobLabels, sandboxOptions } from '../../../node/executor/index.ts'
import { describeWithDocker, spec, testExecutorId, testJobId } from '../../fixtures/docker.ts'

const TIMEOUT_S = 1
/** Room for the engine on a shared, loaded machine, past the container's own stop. */
const WAIT_SLACK_MS = 30_000

describeWithDocker(
  'sandbox backstop',
  (docker) => {
    it('should kill itself past its timeout when no daemon watches it', async () => {
      const options = sandboxOptions(spec({ runtime: 'bash', code: '', timeoutS: TIMEOUT_S }), {
        image: 'gridx/runtime-bash:latest',
        labels: jobLabels(testExecutorId('backstop'), testJobId(), 1),
      })
      const container = await docker.createContainer(options)
      try {
        const stream = (await container.attach({
          stream: true,
          stdin: true,
          stdout: true,
          stderr: true,
          hijack: true,
        })) as Duplex
        stream.resume()
        await container.start()
        const began = Date.now()
        // What a daemon does before it dies: the code goes in; then nobody is left to kill it.
        stream.end('sleep 600\n')
        const exit = (await container.wait({
          condition: 'not-running',
          abortSignal: AbortSignal.timeout(
            (TIMEOUT_S + JOB_TIMEOUT_BACKSTOP_S) * 1000 + WAIT_SLACK_MS,
          ),
        })) as { StatusCode: number }
        console.info(
          `an unwatched job of timeout ${TIMEOUT_S} s ended after ${Date.now() - began} ms`,
        )
        expect(exit.StatusCode).toBe(137)
        expect(Date.now() - began).toBeGreaterThanOrEqual(TIMEOUT_S * 1000)
      } finally {
        await container.remove({ force: true, v: true })
      }
    }, 60_000)
  },
  ['bash'],
)
