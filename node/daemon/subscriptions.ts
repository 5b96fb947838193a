// Subscriptions of the API: job states and balances follow the applied log; logs follow the
// live output of a running job; peers are polled, since membership changes off the log too.
import { balanceView, jobView } from '../../ledger/index.ts'
import type { Job, RaftDriver } from '../../ledger/index.ts'
import { GridxError, isFinalJobState } from '../../protocol/index.ts'
import type { Params, Results, SubscriptionEvent, SubscriptionTopic } from '../../protocol/index.ts'
import type { LiveLogs } from '../coordinator/index.ts'
import type { CallContext } from '../gateway/index.ts'

export interface SubscriptionsInit {
  readonly ledger: RaftDriver
  readonly liveLogs: LiveLogs
  readonly meshPeers: () => Results['mesh.peers']
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
    return ledger.onApplied((entry, result) => {
      if (!result.ok || !('jobId' in entry.command)) return
      if (id !== undefined && entry.command.jobId !== id) return
      const job = ledger.localRead().jobs.get(entry.command.jobId)
      if (job === undefined || job.submitter !== context.account) return
      push({ topic: 'jobs', job: jobView(job) })
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
    // Live output reaches only the coordinator, which runs the scheduler; on any other peer the
    // job's end arrives through the log, with the kept tails. Whichever comes first ends it.
    let streamed = false
    let ended = false
    const stopLive = this.#init.liveLogs.follow(id, (event) => {
      if (ended) return
      if ('end' in event) {
        ended = true
        push({ topic: 'logs', id, end: true, state: event.state })
      } else {
        streamed = true
        push({ topic: 'logs', id, stream: event.stream, data: event.data })
      }
    })
    const stopApplied = this.#init.ledger.onApplied((entry) => {
      if (ended || !('jobId' in entry.command) || entry.command.jobId !== id) return
      const now = this.#init.ledger.localRead().jobs.get(id)
      if (now === undefined || !isFinalJobState(now.state)) return
      ended = true
      if (streamed) push({ topic: 'logs', id, end: true, state: now.state })
      else pushTails(id, now, push)
    })
    return () => {
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
    const send = (): void => {
      const { peers } = this.#init.meshPeers()
      const text = JSON.stringify(peers)
      if (text === last) return
      last = text
      push({ topic: 'peers', peers })
    }
    queueMicrotask(send)
    const timer = setInterval(send, this.#init.peersPollMs ?? 2000)
    timer.unref()
    return () => clearInterval(timer)
  }
}

/** A finished job's kept output, then its end. */
function pushTails(id: string, job: Job, push: Push): void {
  const { result, state } = job
  if (result?.stdoutTail) push({ topic: 'logs', id, stream: 'stdout', data: result.stdoutTail })
  if (result?.stderrTail) push({ topic: 'logs', id, stream: 'stderr', data: result.stderrTail })
  push({ topic: 'logs', id, end: true, state })
}
