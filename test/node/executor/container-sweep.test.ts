// The orphan sweep on the real engine: many containers of one executor at once.
import { expect, it } from 'vitest'
import { jobLabels, sandboxOptions, sweepContainers } from '../../../node/executor/index.ts'
import {
  containersOf,
  describeWithDocker,
  spec,
  testExecutorId,
  testJobId,
} from '../../fixtures/docker.ts'

/** More than Node's default of 10 listeners on one signal, the count that warns. */
const ORPHANS = 12

describeWithDocker(
  'container sweep',
  (docker) => {
    it('should remove every orphan without a listener warning when it finds more than ten', async () => {
      const executorId = testExecutorId('many-orphans')
      const options = sandboxOptions(spec({ runtime: 'bash', code: '' }), {
        image: 'gridx/runtime-bash:latest',
        labels: {},
      })
      for (let fence = 1; fence <= ORPHANS; fence += 1) {
        await docker.createContainer({
          ...options,
          Labels: jobLabels(executorId, testJobId(), fence),
        })
      }
      const warnings: Error[] = []
      const onWarning = (warning: Error) => warnings.push(warning)
      process.on('warning', onWarning)
      try {
        const swept = await sweepContainers(docker, executorId)
        expect(swept).toHaveLength(ORPHANS)
        // Node emits the warning on a later tick than the listener that crossed the limit.
        await new Promise((resolve) => setImmediate(resolve))
      } finally {
        process.off('warning', onWarning)
      }
      expect(await containersOf(docker, executorId)).toEqual([])
      expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning')
    })
  },
  ['bash'],
)
