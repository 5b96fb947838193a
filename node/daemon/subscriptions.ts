// Subscriptions of the API: job states and balances follow the applied log; logs follow the
// live output of a running job wherever it runs (the coordinator has it; other peers relay
// it); peers are polled, since membership changes off the log too.
import type { Logger } from 'pino'
import { balanceView, jobView } from '../../ledger/index.ts'
import type { Job, RaftDriver, State } from '../../ledger/index.ts'
import { GridxError, isFinalJobState, LOGS_END_GRACE_MS } from '../../protocol/index.ts'
import type { Params, Results, SubscriptionEvent, SubscriptionTopic } from '../../protocol/index.ts'
import type { RelayEvent } from '../coordinator/index.ts'
import type { CallContext } from '../gateway/index.ts'

/** Live output of a job wherever it runs (a LogsRelay): replayed from its start, then live,
 * with a gap where chunks are missing (they reached only a coordinator that died). */
export interface LiveOutput {
  follow(jobId: string, listener: (event: RelayEvent) => void): () => void
}

/** The line a logs subscription shows on stderr where output is missing: the client (`gridx
 * logs -f`, the web app) cannot tell a hole from a quiet spell otherwise. */
export function gapNotice(missing: number): string {
  const chunks = missing === 1 ? '1 chunk' : `${missing} chunks`
  return `[gridx] output may be missing here: ${chunks} did not reach this peer\n`
}

export interface SubscriptionsInit {
  readonly ledger: RaftDriver
  readonly liveLogs: LiveOutput
  /** How long a subscription waits for the live end once the job's end is applied here. */
  readonly endGraceMs?: number
  readonly meshPeers: () => Results['mesh.peers'] | Promise<Results['mesh.peers']>
  /** Where a failed look of the peers topic is told; it tries again at the next poll. */
  readonly logger?: Pick<Logger, 'warn'>
  /** How often the peers topic looks for a change. */
  readonly peersPollMs?: number
}

type Push = (event: SubscriptionEvent) => void

export class Subscriptions {
  readonly #init: SubscriptionsInit

  constructor(init: SubscriptionsInit) {
    this.#init = init
  }

  subscribe(
    topic: SubscriptionTopic,
    params: Params<'subscribe'>,
    context: CallContext,
    push: Push,
  ): () => void {
    switch (topic) {
      case 'jobs':
        return this.#jobs(params.id, context, push)
      case 'logs':
        return this.#logs(params.id, context, push)
      case 'balance':
        return this.#balance(context, push)
      case 'peers':
        return this.#peers(push)
    }
  }

  #jobs(id: string | undefined, context: CallContext, push: Push): () => void {
    const { ledger } = this.#init
    const send = (state: State, jobId: string): void => {
      if (id !== undefined && jobId !== id) return
      const job = state.jobs.get(jobId)
      if (job !== undefined && job.submitter === context.account) {
        push({ topic: 'jobs', job: jobView(job) })
      }
    }
    return ledger.onApplied((entry, result) => {
      if (!result.ok) return
      const state = ledger.localRead()
      // The jobs the entry moved, named by its command or not (a parent's cancel ends its
      // children), and the one it names, whose record it may change in place (a result).
      for (const jobId of state.changedJobs) send(state, jobId)
      const named = 'jobId' in entry.command ? entry.command.jobId : undefined
      if (named !== undefined && !state.changedJobs.has(named)) send(state, named)
    })
  }

  #logs(id: string | undefined, context: CallContext, push: Push): () => void {
    if (id === undefined) {
      throw new GridxError('INVALID_PARAMS', 'the logs topic needs the job id', { field: 'id' })
    }
    const job = this.#init.ledger.localRead().jobs.get(id)
    if (job === undefined || job.submitter !== context.account) {
      throw new GridxError('NOT_FOUND', `no job ${id}`, { field: 'id' })
    }
    if (isFinalJobState(job.state)) {
      // Already over: replay the kept tails, then the end, from the next tick.
      queueMicrotask(() => pushTails(id, job, push))
      return () => undefined
    }
    // The live output and the log race: the end applied here may come before the last chunks
    // the coordinator relays, so it waits for the live end a little before it ends alone. A
    // live end with no output before it ends with the kept tails, once the end is applied.
    let streamed = false
    let liveEnded = false
    let ended = false
    let grace: ReturnType<typeof setTimeout> | null = null
    /** Whether the output pushed so far ends a line: a notice starts on a line of its own. */
    let atLineStart = true
    const finish = (job: Job): void => {
      if (ended) return
      ended = true
      if (grace !== null) clearTimeout(grace)
      if (streamed) push({ topic: 'logs', id, end: true, state: job.state })
      else pushTails(id, job, push)
    }
    const finalJob = (): Job | null => {
      const now = this.#init.ledger.localRead().jobs.get(id)
      return now !== undefined && isFinalJobState(now.state) ? now : null
    }
    const stopLive = this.#init.liveLogs.follow(id, (event) => {
      if (ended) return
      if ('gap' in event) {
        const data = (atLineStart ? '' : '\n') + gapNotice(event.missing)
        atLineStart = true
        push({ topic: 'logs', id, stream: 'stderr', data })
        return
      }
      if (!('end' in event)) {
        streamed = true
        if (event.data !== '') atLineStart = event.data.endsWith('\n')
        push({ topic: 'logs', id, stream: event.stream, data: event.data })
        return
      }
      liveEnded = true
      const now = finalJob()
      if (streamed) {
        ended = true
        if (grace !== null) clearTimeout(grace)
        push({ topic: 'logs', id, end: true, state: event.state })
      } else if (now !== null) finish(now)
    })
    const stopApplied = this.#init.ledger.onApplied(() => {
      if (ended || grace !== null || !this.#init.ledger.localRead().changedJobs.has(id)) return
      const now = finalJob()
      if (now === null) return
      if (liveEnded) return finish(now)
      grace = setTimeout(() => finish(now), this.#init.endGraceMs ?? LOGS_END_GRACE_MS)
    })
    return () => {
      if (grace !== null) clearTimeout(grace)
      stopLive()
      stopApplied()
    }
  }

  #balance(context: CallContext, push: Push): () => void {
    const { ledger } = this.#init
    let last = ''
    const send = (): void => {
      const balance = balanceView(ledger.localRead(), context.account)
      const text = JSON.stringify(balance)
      if (text === last) return
      last = text
      push({ topic: 'balance', balance })
    }
    queueMicrotask(send)
    return ledger.onApplied(() => send())
  }

  #peers(push: Push): () => void {
    let last = ''
    let stopped = false
    // One look at a time: on a follower each asks the coordinator, which may be slow.
    let looking = false
    const send = async (): Promise<void> => {
      if (looking) return
      looking = true
      try {
        const { peers } = await this.#init.meshPeers()
        const text = JSON.stringify(peers)
        if (stopped || text === last) return
        last = text
        push({ topic: 'peers', peers })
      } finally {
        looking = false
      }
    }
    const look = (): void => {
      send().catch((error: unknown) => {
        this.#init.logger?.warn({ err: error }, 'the peers subscription could not look')
      })
    }
    queueMicrotask(look)
    const timer = setInterval(look, this.#init.peersPollMs ?? 2000)
    timer.unref()
    return () => {
      stopped = true
      clearInterval(timer)
    }
  }
}

/** A finished job's kept output, then its end. */
function pushTails(id: string, job: Job, push: Push): void {
  const { result, state } = job
  if (result?.stdoutTail) push({ topic: 'logs', id, stream: 'stdout', data: result.stdoutTail })
  if (result?.stderrTail) push({ topic: 'logs', id, stream: 'stderr', data: result.stderrTail })
  push({ topic: 'logs', id, end: true, state })
}
