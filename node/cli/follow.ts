// Following a job: its output live on stdout and stderr, its state as progress, and at the
// end the exit code a shell would expect from running the code itself.
import type { JobView } from '../../protocol/index.ts'
import { call, openSocket } from './api.ts'
import { CliError } from './connect.ts'
import type { ApiTarget } from './connect.ts'
import type { CliContext } from './context.ts'
import { createProgress } from './progress.ts'

/** Exit code for a finished job: its own, or the shell's conventions for a kill. */
export function exitCodeOf(job: JobView): number {
  if (job.state === 'succeeded') return 0
  if (job.state === 'timed_out') return 124
  if (job.state === 'cancelled') return 130
  const code = job.result?.exitCode
  return code === null || code === undefined || code === 0 ? 1 : code
}

export async function followJob(
  context: CliContext,
  api: ApiTarget,
  jobId: string,
  options: { readonly json: boolean },
): Promise<JobView> {
  const progress = createProgress(context.stderr, !options.json)
  progress.update(`job ${jobId}: waiting`)
  const client = await openSocket(api)
  let printed = false
  try {
    const ended = new Promise<void>((resolve, reject) => {
      // Ctrl+C stops the following, not the job (as `docker logs -f` does); 130 is what a
      // shell expects of a command ended by SIGINT.
      const interrupted = () =>
        reject(new CliError(`stopped following; job ${jobId} goes on (gridx cancel ${jobId})`, 130))
      if (context.stopSignal.aborted) interrupted()
      context.stopSignal.addEventListener('abort', interrupted, { once: true })
      void client
        .subscribe('jobs', { topic: 'jobs', id: jobId }, (event) => {
          if (event.topic === 'jobs' && !printed)
            progress.update(`job ${jobId}: ${event.job.state}`)
        })
        .then(() =>
          client.subscribe('logs', { topic: 'logs', id: jobId }, (event) => {
            if (event.topic !== 'logs') return
            if ('end' in event) return resolve()
            if (options.json) return
            if (!printed) progress.done()
            printed = true
            ;(event.stream === 'stdout' ? context.stdout : context.stderr).write(event.data)
          }),
        )
        .catch(reject)
    })
    await ended
  } finally {
    progress.done()
    client.close()
  }
  return call(api, 'job.get', { id: jobId })
}
