// Files as blobs (DESIGN section 6): the per-peer store, and the `/gridx/blob/2.0.0` protocol
// that fetches a blob from whichever admitted peer has it.
export { blobFile, BlobStore } from './blob-store.ts'

/** The blob store's directory under a daemon's data dir. */
export const BLOBS_DIR = 'blobs'
export type { BlobStoreInit, StoredBlob, WriteOptions } from './blob-store.ts'
export * from './errors.ts'
export { BlobService, blobService } from './blob-service.ts'
export type {
  BlobServiceComponents,
  BlobServiceInit,
  FetchAttempt,
  FetchOptions,
} from './blob-service.ts'
export { JobWorkspaces } from './job-workspaces.ts'
export type { JobWorkspacesInit } from './job-workspaces.ts'
