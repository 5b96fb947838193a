// A job that writes 100 MB: the user gets the first MiB live and the last 64 KiB as the tail,
// every byte is counted, and the daemon's memory does not grow with the flood. Alone in its
// file, so no other test's allocations blur the measurement.
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { DockerExecutor } from '../../../node/executor/index.ts'
import { OUTPUT_STREAM_BYTES_MAX, OUTPUT_TAIL_BYTES_MAX } from '../../../protocol/index.ts'
import {
  describeWithDocker,
  runJob,
  startedExecutor,
  stopAndCheckClean,
  testExecutorId,
} from '../../fixtures/docker.ts'

const FLOOD_BYTES = 100_000_000
const MIB = 1024 * 1024

describeWithDocker(
  'output flood',
  (docker) => {
    const executorId = testExecutorId('flood')
    let executor: DockerExecutor

    beforeAll(async () => {
      executor = await startedExecutor(docker, executorId)
    })

    afterAll(async () => {
      await stopAndCheckClean(docker, executor, executorId)
    })

    it('should cut stdout at the cap, count it all and keep the tail when a job writes 100 MB', async () => {
      const before = process.memoryUsage()
      let peakRss = before.rss
      let peakHeap = before.heapUsed
      const sampler = setInterval(() => {
        const now = process.memoryUsage()
        peakRss = Math.max(peakRss, now.rss)
        peakHeap = Math.max(peakHeap, now.heapUsed)
      }, 20)
      let liveBytes = 0
      const outcome = await runJob(
        executor,
        {
          runtime: 'bash',
          code: `head -c ${FLOOD_BYTES} /dev/zero | tr '\\0' x; echo; echo the-end`,
          timeoutS: 60,
        },
        { onOutput: (_stream, text) => (liveBytes += Buffer.byteLength(text)) },
      )
      clearInterval(sampler)
      expect(outcome.state).toBe('succeeded')
      const result = outcome.result
      expect(result.stdoutTruncated).toBe(true)
      expect(result.stdoutBytes).toBe(FLOOD_BYTES + '\nthe-end\n'.length)
      expect(liveBytes).toBe(OUTPUT_STREAM_BYTES_MAX)
      expect(Buffer.byteLength(result.stdoutTail)).toBe(OUTPUT_TAIL_BYTES_MAX)
      expect(result.stdoutTail.endsWith('xxx\nthe-end\n')).toBe(true)
      expect(result.stderrTruncated).toBe(false)
      // The flood is 100 MB; the daemon may hold its 1 MiB of live output, the tail and socket
      // buffers. Growth anywhere near the flood's size would mean output is being accumulated.
      expect(peakRss - before.rss).toBeLessThan(50 * MIB)
      expect(peakHeap - before.heapUsed).toBeLessThan(10 * MIB)
      console.info(
        `flood: ${(result.wallMs / 1000).toFixed(2)} s, rss +${((peakRss - before.rss) / MIB).toFixed(1)} MiB, ` +
          `heap +${((peakHeap - before.heapUsed) / MIB).toFixed(1)} MiB`,
      )
    })
  },
  ['bash'],
)
