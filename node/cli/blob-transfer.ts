// The CLI's side of the blob routes: ask by hash, upload what the daemon lacks as a stream,
// download a blob to a file while checking it against its CID.
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { dirname } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { BLOBS_PATH, cidOfSha256 } from '../../protocol/index.ts'
import type { JobFile } from '../../protocol/index.ts'
import type { ApiTarget } from './connect.ts'
import { CliError } from './connect.ts'
import { fileCid } from './input-files.ts'
import type { LocalFile } from './input-files.ts'

function send(
  api: ApiTarget,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: NodeJS.ReadableStream,
): Promise<IncomingMessage> {
  const url = new URL(path, `${api.url}/`)
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const outgoing = request(url, {
      method,
      headers: { authorization: `Bearer ${api.token}`, ...headers },
    })
    outgoing.once('response', resolve)
    outgoing.once('error', (error) =>
      reject(new CliError(`cannot reach the Grid-X daemon at ${api.url} (${error.message})`)),
    )
    if (body === undefined) outgoing.end()
    else body.pipe(outgoing)
  })
}

async function refusal(response: IncomingMessage, what: string): Promise<CliError> {
  const chunks: Buffer[] = []
  for await (const chunk of response) chunks.push(chunk as Buffer)
  let message = Buffer.concat(chunks).toString('utf8')
  try {
    message = (JSON.parse(message) as { error?: string }).error ?? message
  } catch {
    // Not JSON (a proxy's page, say): show it as it came.
  }
  return new CliError(`${what}: the daemon answered ${response.statusCode}: ${message}`)
}

export interface UploadReport {
  readonly inputs: JobFile[]
  readonly uploaded: number
  readonly alreadyThere: number
}

/** Told how far an upload has come, as one line of text, each time its percentage grows. */
export type UploadProgress = (text: string) => void

const MIB = 1024 * 1024

/** The file's bytes, reporting to `progress` as they are read for sending. The request has no
 * timeout of its own: an upload on a slow link takes as long as it takes, and the daemon cuts
 * one only when it goes silent (BLOB_UPLOAD_IDLE_TIMEOUT_MS). */
function readWithProgress(file: LocalFile, progress: UploadProgress): NodeJS.ReadableStream {
  const stream = createReadStream(file.path)
  const mib = (bytes: number) => (bytes / MIB).toFixed(1)
  let sent = 0
  let shown = -1
  // The caller pipes the stream in this same tick, so no chunk flows past the request.
  stream.on('data', (chunk) => {
    sent += chunk.length
    const percent = file.size === 0 ? 100 : Math.floor((sent * 100) / file.size)
    if (percent === shown) return
    shown = percent
    progress(`uploading ${file.name}: ${mib(sent)} of ${mib(file.size)} MiB (${percent} %)`)
  })
  return stream
}

/** Hashes each file, asks the daemon whether it holds it, and uploads only what it lacks,
 * telling `progress` how far each upload has come. */
export async function uploadInputs(
  api: ApiTarget,
  files: readonly LocalFile[],
  progress: UploadProgress = () => undefined,
): Promise<UploadReport> {
  const inputs: JobFile[] = []
  let uploaded = 0
  for (const file of files) {
    const cid = await fileCid(file.path)
    const path = `${BLOBS_PATH}/${cid}`
    const asked = await send(api, 'HEAD', path)
    asked.resume()
    if (asked.statusCode !== 200) {
      if (asked.statusCode !== 404) throw await refusal(asked, `asking for ${file.path}`)
      const headers = {
        'content-length': String(file.size),
        'content-type': 'application/octet-stream',
      }
      const put = await send(api, 'PUT', path, headers, readWithProgress(file, progress))
      if (put.statusCode !== 201 && put.statusCode !== 200) {
        throw await refusal(put, `uploading ${file.path}`)
      }
      put.resume()
      uploaded += 1
    }
    inputs.push({ name: file.name, cid, size: file.size })
  }
  return { inputs, uploaded, alreadyThere: files.length - uploaded }
}

/** Downloads one blob to `path`, refusing bytes that do not hash to its CID. */
export async function downloadBlob(
  api: ApiTarget,
  file: JobFile,
  from: string | null,
  path: string,
): Promise<void> {
  const query = from === null ? '' : `?from=${encodeURIComponent(from)}`
  const response = await send(api, 'GET', `${BLOBS_PATH}/${file.cid}${query}`)
  if (response.statusCode !== 200) throw await refusal(response, `fetching ${file.name}`)
  await mkdir(dirname(path), { recursive: true })
  const partial = `${path}.partial`
  const hash = createHash('sha256')
  let bytes = 0
  response.on('data', (chunk: Buffer) => {
    hash.update(chunk)
    bytes += chunk.byteLength
  })
  try {
    await pipeline(response, createWriteStream(partial))
    if (bytes !== file.size || cidOfSha256(hash.digest('hex')) !== file.cid) {
      throw new CliError(`${file.name} arrived damaged (${bytes} bytes); nothing was kept`)
    }
    await rename(partial, path)
  } finally {
    await rm(partial, { force: true })
  }
}
