// Saves a blob as a file of the browser's downloads: fetched with the API token (a plain link
// could not carry it), checked against its size, handed over under its base name.
import type { JobFile } from '../../../protocol/index.ts'

/** Fetches one blob's bytes; `from` names the peer to ask first (the job's executor). */
export type BlobDownload = (cid: string, from: string | null) => Promise<Blob>

/** How long a saved file's object URL lives: the browser has begun the download by then. */
const OBJECT_URL_LIFETIME_MS = 60_000

/** Rejects with why when the bytes cannot be fetched or are not the file's size. */
export async function saveBlob(
  download: BlobDownload,
  file: JobFile,
  from: string | null,
): Promise<void> {
  const blob = await download(file.cid, from)
  if (blob.size !== file.size) throw new Error(`${blob.size} bytes came, not ${file.size}`)
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = file.name.split('/').pop() ?? file.name
  link.click()
  setTimeout(() => URL.revokeObjectURL(url), OBJECT_URL_LIFETIME_MS)
}

/** What the page says when saving `file` failed with `error` (saveBlob's or the download's). */
export function saveBlobFailure(file: JobFile, error: unknown): string {
  const why = error instanceof Error ? error.message : String(error)
  return `Could not download ${file.name}: ${why}`
}
