// The daemon's files (DESIGN section 6): its blob store under the data dir, the blob protocol
// on its libp2p node, the workspaces its executor lays jobs' files out in, and the store as the
// gateway's blob backend. A blob is referenced while an unfinished job lists it as an input,
// and for as long as a job lists it as an output: those are never collected.
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { RaftDriver, State } from '../../ledger/index.ts'
import { isFinalJobState } from '../../protocol/index.ts'
import {
  BLOBS_DIR,
  BlobNotFoundError,
  BlobService,
  BlobStore,
  JobWorkspaces,
} from '../blobs/index.ts'
import type { BlobServiceComponents } from '../blobs/index.ts'
import type { BlobBackend } from '../gateway/index.ts'

/** Jobs' directories under the data dir: gone with each run, and at start. */
export const JOBS_DIR = 'jobs'

export interface DaemonBlobs {
  readonly store: BlobStore
  readonly service: BlobService
  readonly workspaces: JobWorkspaces
  readonly backend: BlobBackend
  readonly stop: () => Promise<void>
}

/** Blobs some job still needs. */
export function referencedBlobs(state: State): Set<string> {
  const referenced = new Set<string>()
  for (const job of state.jobs.values()) {
    if (!isFinalJobState(job.state))
      for (const input of job.spec.inputs ?? []) referenced.add(input.cid)
    for (const output of job.result?.outputs ?? []) referenced.add(output.cid)
  }
  return referenced
}

export async function startDaemonBlobs(
  dataDir: string,
  components: BlobServiceComponents,
  ledger: RaftDriver,
  logger: Logger,
): Promise<DaemonBlobs> {
  const store = new BlobStore({
    dir: join(dataDir, BLOBS_DIR),
    references: () => referencedBlobs(ledger.localRead()),
  })
  await store.open()
  await rm(join(dataDir, JOBS_DIR), { recursive: true, force: true })
  const service = new BlobService(
    components,
    {
      store,
      isAdmitted: (peer) => ledger.localRead().peers.has(peer),
      peers: () => [...ledger.localRead().peers.keys()],
      addressesOf: (peer) => ledger.localRead().peers.get(peer)?.addresses ?? [],
      logger,
    },
    ledger.id,
  )
  await service.start()
  const workspaces = new JobWorkspaces({
    root: join(dataDir, JOBS_DIR),
    store,
    fetch: (cid, options) => service.fetch(cid, options),
  })
  const backend: BlobBackend = {
    has: async (cid) => {
      await store.touch(cid)
      return store.size(cid)
    },
    write: (cid, size, source) => store.write(cid, size, source),
    open: async (cid, from, signal) => {
      const stored = await service.fetch(cid, { preferred: from === null ? [] : [from], signal })
      if (store.size(cid) === null) throw new BlobNotFoundError(`${cid} was collected`)
      return { size: stored.size, stream: store.read(cid) }
    },
  }
  return { store, service, workspaces, backend, stop: () => service.stop() }
}
