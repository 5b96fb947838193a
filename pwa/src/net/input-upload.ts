// Uploads a job's input files to the daemon's blob store: each is hashed here (its CID is the
// SHA-256 of its bytes, as protocol/blob.ts names it), the daemon is asked whether it holds
// it, and only what it lacks is sent, one file at a time so that progress reads in order.
import { cidOfSha256 } from '../../../protocol/index.ts'
import type { JobFile } from '../../../protocol/index.ts'
import type { GridxClient } from './gridx-client.ts'

/** One input: a file picked in this page, or one a resubmitted job named (bytes not here). */
export interface PickedInput {
  readonly name: string
  readonly size: number
  readonly file: Blob | null
  /** Known for a resubmitted job's input; computed here for a picked file. */
  readonly cid: string | null
}

/** Where one file's upload is: `present` means the daemon had it and nothing was sent. */
export type UploadStage = 'hashing' | 'checking' | 'uploading' | 'sent' | 'present' | 'failed'

export interface UploadProgress {
  readonly stage: UploadStage
  readonly loaded: number
  readonly error?: string
}

export type BlobClient = Pick<GridxClient, 'hasBlob' | 'putBlob'>

/** The CID of a blob's bytes. The whole file is read at once: Web Crypto hashes no stream,
 * and a file is at most JOB_INPUT_FILE_BYTES_MAX. */
export async function cidOfBlob(blob: Blob): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()))
  return cidOfSha256([...digest].map((byte) => byte.toString(16).padStart(2, '0')).join(''))
}

/**
 * Makes sure the daemon holds every input and returns them as a spec's inputs. Reports each
 * file's progress by its index. Rejects on the first file that fails, with its name and why;
 * the files before it stay stored, so a retry sends only what is still missing.
 */
export async function uploadInputs(
  client: BlobClient,
  inputs: readonly PickedInput[],
  onProgress: (index: number, progress: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<JobFile[]> {
  const files: JobFile[] = []
  for (const [index, input] of inputs.entries()) {
    try {
      files.push(await uploadOne(client, input, (progress) => onProgress(index, progress), signal))
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error)
      onProgress(index, { stage: 'failed', loaded: 0, error: why })
      throw new Error(`${input.name} was not uploaded: ${why}`, { cause: error })
    }
  }
  return files
}

async function uploadOne(
  client: BlobClient,
  input: PickedInput,
  report: (progress: UploadProgress) => void,
  signal: AbortSignal | undefined,
): Promise<JobFile> {
  report({ stage: 'hashing', loaded: 0 })
  const cid = input.cid ?? (await cidOfBlob(input.file!))
  report({ stage: 'checking', loaded: 0 })
  if (await client.hasBlob(cid, signal)) {
    report({ stage: 'present', loaded: input.size })
    return { name: input.name, cid, size: input.size }
  }
  if (input.file === null) throw new Error('the daemon no longer holds it: pick the file again')
  report({ stage: 'uploading', loaded: 0 })
  await client.putBlob(cid, input.file, (loaded) => report({ stage: 'uploading', loaded }), signal)
  report({ stage: 'sent', loaded: input.size })
  return { name: input.name, cid, size: input.size }
}
