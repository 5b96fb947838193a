// A peer's content-addressed blob store (DESIGN section 6): one file per blob under the data
// dir, named by its SHA-256, written to a temporary file first and renamed into place only once
// its bytes hashed to the name it was written under, so a blob in the store is always whole and
// right. The store is capped; blobs that no job references are collected (after a grace, so that
// an upload waiting for its job is kept) when a write needs room, and on collect().
import { createHash, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createReadStream } from 'node:fs'
import type { ReadStream } from 'node:fs'
import { chmod, mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import {
  BLOB_STORE_BYTES_MAX_DEFAULT,
  BLOB_UNREFERENCED_GRACE_MS,
  cidOfSha256,
  sha256OfCid,
} from '../../protocol/index.ts'
import { BlobHashMismatchError, BlobSizeError, BlobStoreFullError } from './errors.ts'

export interface BlobStoreInit {
  /** The store's directory (the daemon's is `<data dir>/blobs`); created if missing. */
  readonly dir: string
  /** Bytes the store may hold; BLOB_STORE_BYTES_MAX_DEFAULT. */
  readonly bytesMax?: number
  /** CIDs some job still needs: never collected. Asked at each collection. */
  readonly references: () => Iterable<string>
  /** Wall-clock milliseconds, for the grace of unreferenced blobs. */
  readonly now?: () => number
  readonly graceMs?: number
}

export interface StoredBlob {
  readonly cid: string
  readonly size: number
}

export interface WriteOptions {
  /** Called once each piece of the source is hashed and before it is written, with the bytes
   * hashed so far and a function that gives their SHA-256. Throwing refuses the write, which
   * then rejects with that error and stores nothing. The blob protocol checks each chunk's
   * digest this way, on the hash the store computes anyway, so a fetched byte is hashed once. */
  readonly onHashed?: (bytes: number, sha256: () => Uint8Array) => void
}

/** Blobs are readable by anyone (a job's user reads its inputs through hard links to them)
 * and writable by no one: a blob never changes once stored. */
const BLOB_MODE = 0o444

/** Bytes of a blob being written that may wait for the disk: four chunks of the protocol. */
const WRITE_AHEAD_BYTES = 4 * 1024 * 1024

export class BlobStore {
  readonly #init: BlobStoreInit
  readonly #bytesMax: number
  /** Size of every stored blob by CID. */
  readonly #sizes = new Map<string, number>()
  #bytes = 0
  /** Bytes promised to writes under way, so that concurrent writes cannot pass the cap. */
  #reserved = 0

  constructor(init: BlobStoreInit) {
    this.#init = init
    this.#bytesMax = init.bytesMax ?? BLOB_STORE_BYTES_MAX_DEFAULT
  }

  /** Reads what the directory holds and removes what a crash left half written. */
  async open(): Promise<void> {
    await rm(this.#tmpDir(), { recursive: true, force: true })
    await mkdir(this.#tmpDir(), { recursive: true })
    await mkdir(this.#blobDir(), { recursive: true })
    for (const prefix of await readdir(this.#blobDir())) {
      for (const name of await readdir(join(this.#blobDir(), prefix))) {
        const size = (await stat(join(this.#blobDir(), prefix, name))).size
        this.#sizes.set(cidOfSha256(name), size)
        this.#bytes += size
      }
    }
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes
  }

  /** The blob's size, or null when the store does not hold it. */
  size(cid: string): number | null {
    return this.#sizes.get(cid) ?? null
  }

  /** The file of a stored blob: read-only; link or read it, never write it. */
  path(cid: string): string {
    return blobFile(this.#init.dir, cid)
  }

  /** Restarts an unreferenced blob's grace: an upload is kept until its job is submitted. */
  async touch(cid: string): Promise<void> {
    if (!this.#sizes.has(cid)) return
    const now = new Date(this.#now())
    await utimes(this.path(cid), now, now)
  }

  /** Streams a stored blob from `offset`, in pieces of at most `pieceBytes`. */
  read(cid: string, offset = 0, pieceBytes = 64 * 1024): ReadStream {
    return createReadStream(this.path(cid), { start: offset, highWaterMark: pieceBytes })
  }

  /**
   * Stores `size` bytes read from `source` under `cid` (or under the CID of whatever arrives,
   * when `cid` is null). Rejects, storing nothing, with BlobSizeError when the source gives
   * other than `size` bytes, BlobHashMismatchError when they hash to another CID, and
   * BlobStoreFullError when the store has no room even after collecting. A blob already held
   * is not read again.
   */
  async write(
    cid: string | null,
    size: number,
    source: AsyncIterable<Uint8Array>,
    options: WriteOptions = {},
  ): Promise<StoredBlob> {
    if (cid !== null && this.#sizes.has(cid)) return { cid, size: this.#sizes.get(cid) as number }
    await this.#reserve(size)
    const temporary = join(this.#tmpDir(), randomUUID())
    try {
      const written = await writeHashed(temporary, size, source, options)
      if (cid !== null && written !== cid) {
        throw new BlobHashMismatchError(`the bytes sent as ${cid} hash to ${written}`)
      }
      if (!this.#sizes.has(written)) {
        await mkdir(join(this.path(written), '..'), { recursive: true })
        await chmod(temporary, BLOB_MODE)
        await rename(temporary, this.path(written))
        this.#sizes.set(written, size)
        this.#bytes += size
      }
      return { cid: written, size }
    } finally {
      this.#reserved -= size
      await rm(temporary, { force: true })
    }
  }

  /** Removes a stored blob (one found damaged on disk, say). */
  async remove(cid: string): Promise<void> {
    const size = this.#sizes.get(cid)
    if (size === undefined) return
    this.#sizes.delete(cid)
    this.#bytes -= size
    await rm(this.path(cid), { force: true })
  }

  /** Removes every blob no job references whose grace is over; returns the bytes freed. */
  async collect(): Promise<number> {
    const referenced = new Set(this.#init.references())
    const oldest = this.#now() - (this.#init.graceMs ?? BLOB_UNREFERENCED_GRACE_MS)
    let freed = 0
    for (const [cid, size] of [...this.#sizes]) {
      if (referenced.has(cid)) continue
      const modified = await stat(this.path(cid)).then(
        (found) => found.mtimeMs,
        () => 0,
      )
      if (modified > oldest) continue
      await this.remove(cid)
      freed += size
    }
    return freed
  }

  async #reserve(size: number): Promise<void> {
    if (size > this.#bytesMax) {
      throw new BlobStoreFullError(
        `a blob of ${size} bytes is larger than this peer's blob store (${this.#bytesMax} bytes)`,
      )
    }
    if (this.#bytes + this.#reserved + size > this.#bytesMax) await this.collect()
    if (this.#bytes + this.#reserved + size > this.#bytesMax) {
      throw new BlobStoreFullError(
        `this peer's blob store is full: it holds ${this.#bytes} of ${this.#bytesMax} bytes ` +
          'in blobs that jobs still need',
      )
    }
    this.#reserved += size
  }

  #now(): number {
    return this.#init.now?.() ?? Date.now()
  }

  #blobDir(): string {
    return join(this.#init.dir, 'sha256')
  }

  #tmpDir(): string {
    return join(this.#init.dir, 'tmp')
  }
}

/** Where a store in `dir` keeps the blob `cid` (whether it holds it or not). */
export function blobFile(dir: string, cid: string): string {
  const sha256 = sha256OfCid(cid)
  if (sha256 === null) throw new TypeError(`not a blob CID: ${cid}`)
  return join(dir, 'sha256', sha256.slice(0, 2), sha256)
}

/** Writes exactly `size` bytes to a new file, hashing them; returns their CID. */
async function writeHashed(
  path: string,
  size: number,
  source: AsyncIterable<Uint8Array>,
  options: WriteOptions,
): Promise<string> {
  const hash = createHash('sha256')
  const file = await open(path, 'wx', 0o600)
  // Buffered writes, so the next chunk is read from the source (the network) while the disk
  // writes the last ones; WRITE_AHEAD_BYTES bounds what waits for the disk.
  const out = file.createWriteStream({ highWaterMark: WRITE_AHEAD_BYTES, autoClose: false })
  const failed = new Promise<never>((_, reject) => out.once('error', reject))
  // Raced while the disk is written to. Once the source failed (a refused chunk, an abort), the
  // stream is destroyed with a write perhaps in flight, and it reports that write as an error
  // of its own that no one waits for: the source's error is the one the write rejects with.
  failed.catch(() => undefined)
  let received = 0
  try {
    for await (const chunk of source) {
      received += chunk.byteLength
      if (received > size) throw new BlobSizeError(`more than the ${size} bytes announced`)
      hash.update(chunk)
      options.onHashed?.(received, () => hash.copy().digest())
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed])
    }
    if (received !== size) {
      throw new BlobSizeError(`${received} bytes arrived of the ${size} announced`)
    }
    await Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed])
    await file.sync()
  } finally {
    // The stream closes the file once its write in flight is done; the temporary file is
    // removed after that, not while the disk still writes to it.
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', resolve).destroy())
    await file.close()
  }
  return cidOfSha256(hash.digest('hex'))
}
