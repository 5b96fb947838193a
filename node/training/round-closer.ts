// The coordinator's side of training rounds' deadlines (ledger/state/training.ts): the state
// cannot read a clock, so the coordinator proposes `training.close-round` once a round's
// deadline has passed, and apply checks it again against log time.
import type { Logger } from 'pino'
import { roundDeadline } from '../../ledger/index.ts'
import type { Clock, Command, Job, Parent, RaftDriver, State } from '../../ledger/index.ts'
import { ROUND_CHECK_MS } from '../../protocol/index.ts'

/** The rounds whose deadline is at or before `nowMs`, as the commands that close them. */
export function dueRoundCloses(state: State, nowMs: number): Command[] {
  const due: Command[] = []
  for (const parent of state.parents.values()) {
    const deadline = roundDeadline(parent)
    if (deadline === null || deadline > nowMs) continue
    const round = parent.training?.history.length as number
    due.push({ type: 'training.close-round', parentId: parent.id, round })
  }
  return due
}

/** The stragglers the applied close of `round` cut off that an executor was given: their
 * containers must be killed. */
export function cutToStop(state: State, parent: Parent, round: number): string[] {
  const closed = parent.training?.history[round - 1]
  if (closed === undefined) return []
  return closed.cut.flatMap((shard) => {
    const job = state.jobs.get(closed.jobs[shard]?.at(-1) as string) as Job | undefined
    return job !== undefined && job.assignedAt !== null ? [job.id] : []
  })
}

export interface RoundCloserInit {
  readonly ledger: RaftDriver
  readonly clock: Clock
  readonly logger: Logger
  readonly checkMs?: number
}

/** Proposes the close of every round past its deadline, once per round while it is in
 * flight. Started and stopped with the scheduler: only the coordinator proposes it. */
export class RoundCloser {
  readonly #init: RoundCloserInit
  readonly #inFlight = new Set<string>()
  #timer: ReturnType<typeof setInterval> | null = null

  constructor(init: RoundCloserInit) {
    this.#init = init
  }

  start(): void {
    if (this.#timer !== null) return
    this.#timer = setInterval(() => this.#check(), this.#init.checkMs ?? ROUND_CHECK_MS)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    this.#inFlight.clear()
  }

  #check(): void {
    const state = this.#init.ledger.localRead()
    for (const command of dueRoundCloses(state, this.#init.clock.now())) {
      if (command.type !== 'training.close-round') continue
      const key = `${command.parentId}/${command.round}`
      if (this.#inFlight.has(key)) continue
      this.#inFlight.add(key)
      this.#init.ledger
        .propose(command)
        .then(
          (result) => {
            if (!result.ok) this.#init.logger.info({ command, error: result.error }, 'close-round')
          },
          (error: unknown) => this.#init.logger.error({ err: error, command }, 'close-round'),
        )
        .finally(() => this.#inFlight.delete(key))
    }
  }
}
