// Every container our executors start, seen from the engine's event stream rather than from
// the daemons: a daemon killed with -9 cannot lie about what it ran. Each container carries
// its job and fence in its labels, so runs are counted per assignment.
import type { Readable } from 'node:stream'
import { connectEngine, LABEL_EXECUTOR, LABEL_FENCE, LABEL_JOB } from '../../node/executor/index.ts'
import { LABEL_MANAGED } from '../../node/executor/index.ts'

export interface ContainerRun {
  readonly executor: string
  readonly jobId: string
  readonly fence: number
  /** Exit code from the engine's `die` event; null while it runs (or if it was never seen). */
  exitCode: number | null
  /** When this process saw the `start` and `die` events (ms since the epoch). */
  readonly startedAt: number
  diedAt: number | null
}

interface EngineEvent {
  readonly Type?: string
  readonly Action?: string
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Record<string, string> }
}

export class ContainerRuns {
  /** Runs by container id, in the order they started. */
  readonly runs = new Map<string, ContainerRun>()
  readonly #executors: ReadonlySet<string>
  #stream: Readable | null = null

  private constructor(executors: ReadonlySet<string>) {
    this.#executors = executors
  }

  /** Watches the local engine for the containers of these executors (PeerIds); others'
   * containers on the same engine are ignored. */
  static async watch(executors: readonly string[]): Promise<ContainerRuns> {
    const watcher = new ContainerRuns(new Set(executors))
    const { docker } = await connectEngine(process.env.DOCKER_HOST)
    const stream = (await docker.getEvents({
      filters: {
        type: ['container'],
        event: ['start', 'die'],
        label: [`${LABEL_MANAGED}=true`],
      },
    })) as unknown as Readable
    watcher.#stream = stream
    let buffered = ''
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) if (line.trim() !== '') watcher.#seen(JSON.parse(line))
    })
    stream.on('error', () => {
      // Ends with destroy() in stop(); an engine that goes away shows as missing runs.
    })
    return watcher
  }

  stop(): void {
    this.#stream?.destroy()
    this.#stream = null
  }

  /** Assignments (job@fence) that more than one container ran. */
  assignmentsRunTwice(): string[] {
    const counts = new Map<string, number>()
    for (const run of this.runs.values()) {
      const key = `${run.jobId}@${run.fence}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    return [...counts].filter(([, count]) => count > 1).map(([key]) => key)
  }

  /** Jobs whose code ran to exit 0 in more than one container, with those runs. */
  jobsCompletedTwice(): Map<string, ContainerRun[]> {
    const completed = new Map<string, ContainerRun[]>()
    for (const run of this.runs.values()) {
      if (run.exitCode !== 0) continue
      completed.set(run.jobId, [...(completed.get(run.jobId) ?? []), run])
    }
    for (const [jobId, runs] of completed) if (runs.length < 2) completed.delete(jobId)
    return completed
  }

  #seen(event: EngineEvent): void {
    const id = event.Actor?.ID
    const labels = event.Actor?.Attributes ?? {}
    const executor = labels[LABEL_EXECUTOR]
    const jobId = labels[LABEL_JOB]
    if (id === undefined || executor === undefined || jobId === undefined) return
    if (!this.#executors.has(executor)) return
    if (event.Action === 'start') {
      const fence = Number(labels[LABEL_FENCE])
      this.runs.set(id, {
        executor,
        jobId,
        fence,
        exitCode: null,
        startedAt: Date.now(),
        diedAt: null,
      })
    } else if (event.Action === 'die') {
      const run = this.runs.get(id)
      if (run === undefined) return
      run.exitCode = Number(labels.exitCode ?? NaN)
      run.diedAt = Date.now()
    }
  }
}
