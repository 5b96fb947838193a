// Blob uploads and downloads on a slow link: an upload is cut only when it stops sending for
// the upload idle timeout, never for taking longer than the request timeout, and a stalled one
// leaves nothing behind; slow headers and slow bodies elsewhere are still cut on total time.
import { createHash, randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BLOBS_PATH, cidOfSha256 } from '../../../protocol/index.ts'
import { BlobStore } from '../../../node/blobs/index.ts'
import type { BlobBackend, GatewayLimits } from '../../../node/gateway/index.ts'
import { openRaw } from './fixtures/raw-socket.ts'
import type { RawSocket } from './fixtures/raw-socket.ts'
import { startGateway, TOKEN } from './fixtures/start-gateway.ts'
import type { TestGateway } from './fixtures/start-gateway.ts'

const REQUEST_TIMEOUT_MS = 200
const cidOf = (bytes: Buffer) => cidOfSha256(createHash('sha256').update(bytes).digest('hex'))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves once the connection ends, or rejects after `boundMs`. */
async function endedWithin(raw: RawSocket, boundMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`still open after ${boundMs} ms`)), boundMs)
  })
  try {
    await Promise.race([raw.ended(), bound])
  } finally {
    clearTimeout(timer)
  }
}

function putHead(raw: RawSocket, cid: string, length: number): string {
  return (
    `PUT ${BLOBS_PATH}/${cid} HTTP/1.1\r\nHost: ${raw.host}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
    `Content-Length: ${length}\r\nConnection: close\r\n\r\n`
  )
}

describe('gateway blob transfers on a slow link', () => {
  let dir: string
  let store: BlobStore
  let api: TestGateway | undefined

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gridx-gateway-uploads-'))
    store = new BlobStore({ dir, references: () => [] })
    await store.open()
  })
  afterEach(async () => {
    await api?.stop()
    api = undefined
    await rm(dir, { recursive: true, force: true })
  })

  async function start(limits: Partial<GatewayLimits>): Promise<TestGateway> {
    const blobs: BlobBackend = {
      has: async (cid) => store.size(cid),
      write: (cid, size, source) => store.write(cid, size, source),
      open: async (cid) => ({ size: store.size(cid) ?? 0, stream: store.read(cid) }),
    }
    api = await startGateway({ blobs, limits })
    return api
  }

  it('should store an upload byte-exact when it takes longer than the request timeout', async () => {
    const gateway = await start({
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      uploadIdleTimeoutMs: 2_000,
    })
    const bytes = randomBytes(512 * 1024)
    const cid = cidOf(bytes)
    const raw = await openRaw(gateway.address.port)
    raw.write(putHead(raw, cid, bytes.length))
    const started = performance.now()
    // 16 pieces 40 ms apart: at least three request timeouts, never idle for long.
    for (let offset = 0; offset < bytes.length; offset += 32 * 1024) {
      raw.write(bytes.subarray(offset, offset + 32 * 1024))
      await sleep(40)
    }
    expect(performance.now() - started).toBeGreaterThan(3 * REQUEST_TIMEOUT_MS)
    const answer = await raw.waitFor('"stored":true}')
    expect(answer).toMatch(/^HTTP\/1\.1 201 /)
    expect(store.size(cid)).toBe(bytes.length)
    const held = await readAll(store.read(cid))
    expect(held.equals(bytes)).toBe(true)
  })

  it('should cut an upload with a 408 and keep nothing when it stalls past the idle timeout', async () => {
    const idleMs = 300
    const gateway = await start({ requestTimeoutMs: 60_000, uploadIdleTimeoutMs: idleMs })
    const bytes = randomBytes(256 * 1024)
    const cid = cidOf(bytes)
    const raw = await openRaw(gateway.address.port)
    raw.write(putHead(raw, cid, bytes.length))
    raw.write(bytes.subarray(0, 100 * 1024))
    await endedWithin(raw, 10_000)
    expect(raw.received).toMatch(/^HTTP\/1\.1 408 /)
    expect(raw.received).toContain(`no bytes of the upload arrived for ${idleMs} ms`)
    expect(store.size(cid)).toBeNull()
    await expect(stat(store.path(cid))).rejects.toThrow(/ENOENT/)
    await expect.poll(() => readdir(join(dir, 'tmp'))).toEqual([])
    // The store is whole: the same blob uploads in full afterwards.
    const again = await openRaw(gateway.address.port)
    again.write(putHead(again, cid, bytes.length))
    again.write(bytes)
    expect(await again.waitFor('"stored":true}')).toMatch(/^HTTP\/1\.1 201 /)
  })

  it('should read a held blob sent again and cut it when it stalls past the idle timeout', async () => {
    const idleMs = 300
    const gateway = await start({ requestTimeoutMs: 60_000, uploadIdleTimeoutMs: idleMs })
    const bytes = randomBytes(64 * 1024)
    const { cid } = await store.write(null, bytes.length, Readable.from([bytes]))
    const whole = await openRaw(gateway.address.port)
    whole.write(putHead(whole, cid, bytes.length))
    whole.write(bytes)
    expect(await whole.waitFor('"stored":false}')).toMatch(/^HTTP\/1\.1 200 /)
    // Its body is not needed, but a trickle of it must not hold the connection for ever.
    const stalled = await openRaw(gateway.address.port)
    stalled.write(putHead(stalled, cid, bytes.length).replace('Connection: close\r\n', ''))
    stalled.write(bytes.subarray(0, 1024))
    await endedWithin(stalled, 10_000)
    expect(stalled.received).toMatch(/^HTTP\/1\.1 408 /)
  })

  it('should cut a slow body sent to a path that only spells the blob prefix', async () => {
    const gateway = await start({
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      uploadIdleTimeoutMs: 60_000,
    })
    const raw = await openRaw(gateway.address.port)
    raw.write(
      `PUT ${BLOBS_PATH}/../elsewhere HTTP/1.1\r\nHost: ${raw.host}\r\n` +
        `Authorization: Bearer ${TOKEN}\r\nContent-Length: 100000\r\n\r\n`,
    )
    const timer = setInterval(() => raw.write('x'), 50)
    try {
      await endedWithin(raw, REQUEST_TIMEOUT_MS * 10)
    } finally {
      clearInterval(timer)
    }
  })

  it('should still cut slow headers on the upload path after the request timeout', async () => {
    const gateway = await start({
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      uploadIdleTimeoutMs: 60_000,
    })
    const raw = await openRaw(gateway.address.port)
    raw.write(`PUT ${BLOBS_PATH}/${cidOf(Buffer.from('x'))} HTTP/1.1\r\nHost: ${raw.host}\r\n`)
    const timer = setInterval(() => raw.write('X-Slow: 1\r\n'), 50)
    try {
      await endedWithin(raw, REQUEST_TIMEOUT_MS * 10)
    } finally {
      clearInterval(timer)
    }
    expect(raw.received).not.toMatch(/^HTTP\/1\.1 2/)
  })

  it('should serve a download byte-exact when the client reads it slower than the timeout', async () => {
    const gateway = await start({
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      uploadIdleTimeoutMs: 2_000,
    })
    const bytes = randomBytes(8 * 1024 * 1024)
    const { cid } = await store.write(null, bytes.length, Readable.from([bytes]))
    const started = performance.now()
    const received = await new Promise<Buffer>((resolve, reject) => {
      const url = `${gateway.address.url}${BLOBS_PATH}/${cid}`
      const outgoing = request(url, { headers: { authorization: `Bearer ${TOKEN}` } })
      outgoing.once('error', reject)
      outgoing.once('response', (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk)
          // A slow reader: the server's writes wait on this client's window.
          response.pause()
          setTimeout(() => response.resume(), 5)
        })
        response.once('error', reject)
        response.once('end', () => resolve(Buffer.concat(chunks)))
      })
      outgoing.end()
    })
    expect(performance.now() - started).toBeGreaterThan(REQUEST_TIMEOUT_MS)
    expect(received.equals(bytes)).toBe(true)
  })
})

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}
