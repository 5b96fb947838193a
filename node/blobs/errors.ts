// One error class per failure of the blob store and the blob protocol, each with `name` set,
// so that the API and the executor tell them apart without parsing messages.

/** The store would grow past its cap even after collecting every unreferenced blob. */
export class BlobStoreFullError extends Error {
  override name = 'BlobStoreFullError'
}

/** Bytes that do not hash to the CID they were sent as: refused, never stored. */
export class BlobHashMismatchError extends Error {
  override name = 'BlobHashMismatchError'
}

/** More or fewer bytes than announced, or more than the bound of what is being written. */
export class BlobSizeError extends Error {
  override name = 'BlobSizeError'
}

/** Neither this store nor any peer asked has the blob. */
export class BlobNotFoundError extends Error {
  override name = 'BlobNotFoundError'
}

/** A peer answered with what the blob protocol never sends. */
export class BlobProtocolError extends Error {
  override name = 'BlobProtocolError'
}
