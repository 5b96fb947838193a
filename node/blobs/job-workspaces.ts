// The executor's JobFiles over this peer's blob store: a job's directories under the data dir,
// `inputs/` made of hard links to the store's read-only files (a copy where a link cannot be
// made), and `outputs/` owned by the job's user. Collecting walks outputs/ without following
// links: a job that leaves a symbolic link there must not make the daemon read a host file.
import { copyFile, chmod, chown, link, lstat, mkdir, opendir, rm } from 'node:fs/promises'
import { createReadStream } from 'node:fs'
import { dirname, join } from 'node:path'
import {
  fileNameSchema,
  JOB_OUTPUTS_MAX,
  type JobFile,
  type JobSpec,
} from '../../protocol/index.ts'
import { OutputsRefusedError } from '../executor/index.ts'
import type { JobFiles, JobWorkspace, RunRequest } from '../executor/index.ts'
import type { BlobService } from './blob-service.ts'
import type { BlobStore } from './blob-store.ts'

/** The user jobs run as (node/executor's JOB_USER): it must be able to write outputs/. */
const JOB_UID = 65534
const JOB_GID = 65534

export interface JobWorkspacesInit {
  /** Where jobs' directories go (the daemon's `<data dir>/jobs`). */
  readonly root: string
  readonly store: BlobStore
  /** Fetches a blob this peer lacks from another. */
  readonly fetch: BlobService['fetch']
}

export class JobWorkspaces implements JobFiles {
  readonly #init: JobWorkspacesInit

  constructor(init: JobWorkspacesInit) {
    this.#init = init
  }

  async prepare(request: RunRequest, signal: AbortSignal): Promise<JobWorkspace> {
    const dir = join(this.#init.root, `${request.jobId}-${request.fence}`)
    await rm(dir, { recursive: true, force: true })
    const outputsDir = join(dir, 'outputs')
    await mkdir(outputsDir, { recursive: true, mode: 0o700 })
    await ownedByJob(outputsDir)
    const inputs = request.spec.inputs ?? []
    const inputsDir = inputs.length === 0 ? null : join(dir, 'inputs')
    try {
      if (inputsDir !== null) await this.#layInputs(inputsDir, request.spec, signal)
    } catch (error) {
      await rm(dir, { recursive: true, force: true })
      throw error
    }
    return new Workspace(dir, inputsDir, outputsDir, this.#init.store)
  }

  async #layInputs(inputsDir: string, spec: JobSpec, signal: AbortSignal): Promise<void> {
    for (const input of spec.inputs ?? []) {
      await this.#init.fetch(input.cid, { size: input.size, signal })
      const target = join(inputsDir, ...input.name.split('/'))
      await mkdir(dirname(target), { recursive: true, mode: 0o755 })
      const source = this.#init.store.path(input.cid)
      await link(source, target).catch(async (error: NodeJS.ErrnoException) => {
        // Another file system (a data dir split over mounts): a read-only copy then.
        if (error.code !== 'EXDEV') throw error
        await copyFile(source, target)
        await chmod(target, 0o444)
      })
    }
  }
}

class Workspace implements JobWorkspace {
  readonly #dir: string
  readonly #store: BlobStore
  readonly inputsDir: string | null
  readonly outputsDir: string

  constructor(dir: string, inputsDir: string | null, outputsDir: string, store: BlobStore) {
    this.#dir = dir
    this.inputsDir = inputsDir
    this.outputsDir = outputsDir
    this.#store = store
  }

  async outputBytes(): Promise<number> {
    let bytes = 0
    for await (const file of walk(this.outputsDir, '')) bytes += file.size
    return bytes
  }

  async collect(quotaBytes: number): Promise<JobFile[]> {
    const found: { name: string; path: string; size: number }[] = []
    let bytes = 0
    for await (const file of walk(this.outputsDir, '')) {
      if (!fileNameSchema.safeParse(file.name).success) {
        throw new OutputsRefusedError(`outputs/${JSON.stringify(file.name)} is not a file name`)
      }
      found.push(file)
      bytes += file.size
      if (found.length > JOB_OUTPUTS_MAX) {
        throw new OutputsRefusedError(`more than ${JOB_OUTPUTS_MAX} files under outputs/`)
      }
      if (bytes > quotaBytes) {
        throw new OutputsRefusedError(`more than the ${quotaBytes} bytes of the disk quota`)
      }
    }
    const outputs: JobFile[] = []
    for (const file of found.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const stored = await this.#store.write(null, file.size, createReadStream(file.path))
      outputs.push({ name: file.name, cid: stored.cid, size: stored.size })
    }
    return outputs
  }

  async release(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true })
  }
}

interface FoundFile {
  readonly name: string
  readonly path: string
  readonly size: number
}

/** Regular files under `dir`, depth first; a link or a device is refused, not followed. */
async function* walk(dir: string, prefix: string): AsyncGenerator<FoundFile> {
  for await (const entry of await opendir(dir)) {
    const path = join(dir, entry.name)
    const name = prefix === '' ? entry.name : `${prefix}/${entry.name}`
    const found = await lstat(path)
    if (found.isDirectory()) yield* walk(path, name)
    else if (found.isFile()) yield { name, path, size: found.size }
    else throw new OutputsRefusedError(`outputs/${name} is not a regular file or a directory`)
  }
}

/** Gives a directory to the job's user; a daemon that is not root leaves it open to all. */
async function ownedByJob(dir: string): Promise<void> {
  try {
    await chown(dir, JOB_UID, JOB_GID)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error
    await chmod(dir, 0o777)
  }
}
