// One error class per failure of the mesh's protocols, each with `name` set (js-libp2p's
// errors.ts), so logs and callers tell them apart without parsing messages.

/** A peer opened one of our streams but is not admitted to the mesh. */
export class NotAdmittedError extends Error {
  constructor(peerId: string) {
    super(`peer ${peerId} is not admitted to the mesh`)
    this.name = 'NotAdmittedError'
  }
}

/** A frame that is not one this protocol sends: unknown kind, bad message, wrong sender. */
export class InvalidFrameError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'InvalidFrameError'
  }
}

/** A sender stopped sending in the middle of a snapshot for longer than the receiver waits. */
export class SnapshotIdleError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SnapshotIdleError'
  }
}

/** The receiver did not acknowledge a snapshot within its time, or the stream broke first. */
export class SnapshotNotAcknowledgedError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SnapshotNotAcknowledgedError'
  }
}

/** The transport is stopped; nothing more is sent or received. */
export class TransportStoppedError extends Error {
  constructor() {
    super('the Raft transport is stopped')
    this.name = 'TransportStoppedError'
  }
}

/** The peer at the dialled address holds another key than the token's issuer. */
export class ImpostorError extends Error {
  readonly address: string
  readonly peerId: string
  readonly issuer: string

  constructor(address: string, peerId: string, issuer: string) {
    super(`the peer at ${address} is ${peerId}, not the token's issuer ${issuer}`)
    this.name = 'ImpostorError'
    this.address = address
    this.peerId = peerId
    this.issuer = issuer
  }
}

/** The member refused the join; `code` is one of protocol's JOIN_REFUSALS. */
export class JoinRefusedError extends Error {
  readonly code: string

  constructor(code: string, message: string) {
    super(message)
    this.name = 'JoinRefusedError'
    this.code = code
  }
}

/** The join exchange broke off: no answer in time, a closed stream or an unreadable reply. */
export class JoinFailedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'JoinFailedError'
  }
}
