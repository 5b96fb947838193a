// The boundary between the Raft driver and the network (DESIGN section 2: the consumer owns the
// interface, the edge implements it). The driver hands over what `Ready.messages` says to send
// and steps what arrives; node/mesh carries the bytes over libp2p.
import type { Message, NodeId } from './raft/index.ts'

/** How the Raft driver reaches its peers. Declared here (the consumer), implemented by
 * node/mesh. */
export interface RaftTransport {
  /** Queues messages for their peers; per peer in order; never throws for an unreachable
   * peer (Raft retransmits); a 'snapshot' message is streamed in bounded chunks. */
  send(messages: readonly Message[]): void
  /** Installs the receiver before start; messages from one peer arrive in order. */
  listen(handler: RaftTransportHandler): void
}

export interface RaftTransportHandler {
  /** Steps a message from a peer. Resolves once it is stepped and, for a 'snapshot', once the
   * snapshot is persisted: only then does the sender learn it was delivered. */
  onMessage(message: Message): Promise<void>
  /** The outcome of a snapshot this peer sent to `to` (RawNode.reportSnapshot). */
  onSnapshotStatus(to: NodeId, delivered: boolean): void
}
