// The coordinator's side of `/gridx/logs/1.0.0`: each admitted peer keeps one stream open, and
// follows over it the jobs its clients follow; the server answers from this peer's LiveLogs,
// which the scheduler feeds while this peer leads. A peer that follows a job here after this
// peer stepped down gets nothing new, and moves to the new coordinator by itself.
import type { Connection, Startable, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import {
  LOGS_DIAL_TIMEOUT_MS,
  LOGS_FOLLOWS_PER_STREAM_MAX,
  LOGS_FRAME_BYTES_MAX,
  LOGS_PROTOCOL,
  LOGS_STREAMS_PER_CONNECTION_MAX,
  LOGS_WRITE_QUEUE_MAX,
} from '../../protocol/index.ts'
import type { JobState } from '../../protocol/index.ts'
import { FrameChannel } from './executor-channel.ts'
import type { ExecutorServerComponents } from './executor-server-init.ts'
import type { LiveLogs } from './live-logs.ts'
import { followerFrameSchema } from './logs-frames.ts'
import type { CoordinatorFrame, FollowerFrame } from './logs-frames.ts'

export interface LogsServerInit {
  readonly liveLogs: LiveLogs
  /** Admission, from the replicated state: other peers' streams are closed at once. */
  readonly isAdmitted: (peerId: string) => boolean
  /** The job's state when it is final here, else null: its end is told at once. */
  readonly finalState: (jobId: string) => JobState | null
  readonly logger: Logger
}

type Channel = FrameChannel<FollowerFrame, CoordinatorFrame>

export class LogsServer implements Startable {
  readonly #components: ExecutorServerComponents
  readonly #init: LogsServerInit
  readonly #channels = new Set<Channel>()

  constructor(components: ExecutorServerComponents, init: LogsServerInit) {
    this.#components = components
    this.#init = init
  }

  async start(): Promise<void> {
    await this.#components.registrar.handle(
      LOGS_PROTOCOL,
      (stream, connection) => void this.#serve(stream, connection),
      {
        maxInboundStreams: LOGS_STREAMS_PER_CONNECTION_MAX,
        maxOutboundStreams: LOGS_STREAMS_PER_CONNECTION_MAX,
      },
    )
  }

  async stop(): Promise<void> {
    await this.#components.registrar.unhandle(LOGS_PROTOCOL)
    for (const channel of this.#channels) channel.abort(new Error('the logs server stopped'))
    this.#channels.clear()
  }

  async #serve(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    if (!this.#init.isAdmitted(peer)) {
      stream.abort(new Error('not admitted to this mesh'))
      return
    }
    const channel: Channel = new FrameChannel({
      stream,
      schema: followerFrameSchema,
      frameBytesMax: LOGS_FRAME_BYTES_MAX,
      writeQueueMax: LOGS_WRITE_QUEUE_MAX,
      writeTimeoutMs: LOGS_DIAL_TIMEOUT_MS,
    })
    this.#channels.add(channel)
    const follows = new Map<string, () => void>()
    try {
      for (;;) {
        const frame = await channel.read()
        if (frame === null) break
        follows.get(frame.jobId)?.()
        follows.delete(frame.jobId)
        if (frame.type === 'follow') this.#follow(channel, frame, follows)
      }
    } catch (error) {
      // A bad frame or a broken stream ends this stream only; the peer dials again.
      this.#init.logger.info({ peer, err: error }, 'a logs stream ended')
      channel.abort(error instanceof Error ? error : new Error(String(error)))
    } finally {
      for (const stop of follows.values()) stop()
      this.#channels.delete(channel)
      await channel.close(LOGS_DIAL_TIMEOUT_MS)
    }
  }

  #follow(
    channel: Channel,
    frame: FollowerFrame & { type: 'follow' },
    follows: Map<string, () => void>,
  ): void {
    const { jobId } = frame
    const send = (out: CoordinatorFrame): void => {
      // A full queue aborts the stream: the follower resumes from its last chunk.
      if (!channel.closed) channel.send(out)
    }
    const final = this.#init.finalState(jobId)
    if (final !== null) return send({ type: 'end', jobId, state: final })
    if (follows.size >= LOGS_FOLLOWS_PER_STREAM_MAX) {
      throw new Error(`more than ${LOGS_FOLLOWS_PER_STREAM_MAX} jobs followed on one stream`)
    }
    const stop = this.#init.liveLogs.follow(
      jobId,
      (event) => {
        try {
          if ('end' in event) send({ type: 'end', jobId, state: event.state })
          else send({ type: 'output', jobId, ...event })
        } catch {
          // The channel aborted itself (its queue overflowed); the read loop cleans up.
        }
      },
      frame.after,
    )
    follows.set(jobId, stop)
  }
}
