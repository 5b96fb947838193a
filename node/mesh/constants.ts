// Protocol ids, limits and timeouts of the mesh's protocols (js-libp2p's
// constants.ts). The values live in protocol/; this names what each module of node/mesh uses.
export { JOIN_PROTOCOL, RAFT_PROTOCOL } from '../../protocol/index.ts'
export {
  JOIN_FRAME_BYTES_MAX,
  JOIN_STRANGERS_MAX,
  JOIN_TIMEOUT_MS,
  JOIN_WINDOW_MS,
  JOIN_STREAMS_PER_CONNECTION_MAX,
  RAFT_FRAME_BYTES_MAX,
  RAFT_FRAMES_PER_WRITE_MAX,
  RAFT_PEER_QUEUE_BYTES_MAX,
  RAFT_PEER_QUEUE_MESSAGES_MAX,
  RAFT_RECONNECT_BACKOFF_MS_MAX,
  RAFT_RECONNECT_BACKOFF_MS_MIN,
  RAFT_SNAPSHOT_ACK_TIMEOUT_MS,
  RAFT_SNAPSHOT_CHUNK_BYTES,
  RAFT_STREAM_OPEN_TIMEOUT_MS,
  RAFT_STREAMS_PER_CONNECTION_MAX,
  RAFT_WRITE_TIMEOUT_MS,
} from '../../protocol/index.ts'
