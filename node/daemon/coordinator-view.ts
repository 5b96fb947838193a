// `/gridx/view/1.0.0`: what only the coordinator knows of the mesh, for the other peers'
// `gridx mesh` and `gridx peers`: each member's health and last contact (the autopilot's) and
// each executor's capacity, load and last heartbeat (the executor server's). One request
// frame, one reply, on a stream of its own; a peer that is not the coordinator says so with
// an empty reply, and the asking peer then says the view is not known there.
import type { Connection, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { z } from 'zod'
import {
  executorCapacitySchema,
  executorLoadSchema,
  MESH_VIEW_FRAME_BYTES_MAX,
  MESH_VIEW_TIMEOUT_MS,
  RAFT_MEMBERS_MAX,
  VIEW_PROTOCOL,
} from '../../protocol/index.ts'
import type { ExecutorCapacity, ExecutorLoad, MeshMemberView } from '../../protocol/index.ts'
import type { ExecutorServerComponents } from '../coordinator/index.ts'

const memberSchema = z
  .object({
    peerId: z.string().max(128),
    role: z.enum(['voter', 'learner']),
    healthy: z.boolean(),
    matchIndex: z.number().int().min(0),
    lastContactMs: z.number().nullable(),
  })
  .strict()

const executorSchema = z
  .object({
    peerId: z.string().max(128),
    capacity: executorCapacitySchema.nullable(),
    load: executorLoadSchema.nullable(),
    lastHeartbeatMs: z.number().nullable(),
  })
  .strict()

/** The reply; `coordinator` false (and nothing else) from a peer that does not lead. */
export const coordinatorViewSchema = z.discriminatedUnion('coordinator', [
  z
    .object({
      coordinator: z.literal(true),
      members: z.array(memberSchema).max(RAFT_MEMBERS_MAX),
      executors: z.array(executorSchema).max(RAFT_MEMBERS_MAX),
    })
    .strict(),
  z.object({ coordinator: z.literal(false) }).strict(),
])
export interface ExecutorViewEntry {
  readonly peerId: string
  readonly capacity: ExecutorCapacity | null
  readonly load: ExecutorLoad | null
  /** When the coordinator last had its heartbeat; null if never. */
  readonly lastHeartbeatMs: number | null
}

/** What the coordinator knows and the other peers do not. */
export interface KnownView {
  readonly members: readonly MeshMemberView[]
  readonly executors: readonly ExecutorViewEntry[]
}

export type CoordinatorView =
  ({ readonly coordinator: true } & KnownView) | { readonly coordinator: false }

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Answers view requests of admitted peers with `view()` (null while this peer does not lead). */
export async function serveCoordinatorView(
  components: ExecutorServerComponents,
  init: {
    readonly isAdmitted: (peer: string) => boolean
    readonly view: () => KnownView | null
    readonly logger: Logger
  },
): Promise<() => Promise<void>> {
  const serve = async (stream: Stream, connection: Connection): Promise<void> => {
    const peer = connection.remotePeer.toString()
    if (!init.isAdmitted(peer)) return void stream.abort(new Error('not admitted to this mesh'))
    const lp = lpStream(stream, { maxDataLength: MESH_VIEW_FRAME_BYTES_MAX })
    try {
      const signal = AbortSignal.timeout(MESH_VIEW_TIMEOUT_MS)
      await lp.read({ signal })
      const view = init.view()
      const reply: CoordinatorView =
        view === null ? { coordinator: false } : { coordinator: true, ...view }
      await lp.write(encoder.encode(JSON.stringify(reply)), { signal })
      await stream.close({ signal })
    } catch (error) {
      init.logger.info({ peer, err: error }, 'a view request broke off')
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }
  await components.registrar.handle(VIEW_PROTOCOL, (stream, connection) => {
    void serve(stream, connection)
  })
  return () => components.registrar.unhandle(VIEW_PROTOCOL)
}

export interface ViewDialer {
  readonly connectionManager: {
    openConnection(target: Multiaddr[], options?: { signal?: AbortSignal }): Promise<Connection>
  }
}

/** Asks `peer` (at `addresses`) for its view; rejects on a failure or past the timeout. */
export async function fetchCoordinatorView(
  components: ViewDialer,
  peer: string,
  addresses: readonly string[],
): Promise<CoordinatorView> {
  const signal = AbortSignal.timeout(MESH_VIEW_TIMEOUT_MS)
  const targets = addresses.map((address) => {
    const parsed = multiaddr(address)
    const named = parsed.getComponents().some((component) => component.name === 'p2p')
    return named ? parsed : parsed.encapsulate(`/p2p/${peer}`)
  })
  const connection = await components.connectionManager.openConnection(targets, { signal })
  const stream = await connection.newStream(VIEW_PROTOCOL, { signal })
  const lp = lpStream(stream, { maxDataLength: MESH_VIEW_FRAME_BYTES_MAX })
  await lp.write(encoder.encode('{}'), { signal })
  const reply = coordinatorViewSchema.parse(
    JSON.parse(decoder.decode((await lp.read({ signal })).subarray())),
  )
  await stream.close({ signal })
  return reply
}
