// Protocol ids, frame layout constants, limits and timeouts of the mesh's protocols (js-libp2p's
// constants.ts). The values live in protocol/; this names what each module of node/mesh uses.
export { JOIN_PROTOCOL, RAFT_PROTOCOL } from '../../protocol/index.ts'
export {
  JOIN_FRAME_BYTES_MAX,
  JOIN_STRANGERS_MAX,
  JOIN_TIMEOUT_MS,
  JOIN_WINDOW_MS,
  RAFT_FRAME_BYTES_MAX,
  RAFT_PEER_QUEUE_BYTES_MAX,
  RAFT_PEER_QUEUE_MESSAGES_MAX,
  RAFT_RECONNECT_BACKOFF_MS_MAX,
  RAFT_RECONNECT_BACKOFF_MS_MIN,
  RAFT_SNAPSHOT_ACK_TIMEOUT_MS,
  RAFT_SNAPSHOT_CHUNK_BYTES,
  RAFT_STREAM_OPEN_TIMEOUT_MS,
  RAFT_WRITE_TIMEOUT_MS,
} from '../../protocol/index.ts'

/** Raft streams per connection and direction: one in use, and one more while a stream that
 * broke is replaced before the peer has noticed (the libp2p ping spec allows two as well). */
export const RAFT_STREAMS_PER_CONNECTION_MAX = 2

/** A join is one request and one reply; a few at once from one connection is already odd. */
export const JOIN_STREAMS_PER_CONNECTION_MAX = 2

/** Frames queued for one write: enough to batch a burst of appends into one system call. */
export const RAFT_FRAMES_PER_WRITE_MAX = 256
