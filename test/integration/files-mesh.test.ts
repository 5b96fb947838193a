// Files between peers of a mesh of real `gridx start` processes on loopback and the real
// engine: a job submitted on a peer without an executor runs on another, which fetches its
// input over /gridx/blob/2.0.0 from the peer it was uploaded to; `gridx get` on the submitter
// fetches the outputs from the executor the same way; a copy damaged on a peer's disk is refused
// and the blob fetched from another peer.
import { createHash, randomBytes } from 'node:crypto'
import { access, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cidOfSha256 } from '../../protocol/index.ts'
import type { JobView } from '../../protocol/index.ts'
import { hasEngine } from '../fixtures/engine.ts'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')
const JOB_DONE_TIMEOUT_MS = 60_000
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  )

/** Prints the hash of its input and writes it, reversed, as its output. */
const JOB = [
  'import hashlib',
  'data = open("inputs/data.bin", "rb").read()',
  'print(hashlib.sha256(data).hexdigest())',
  'open("outputs/reversed.bin", "wb").write(data[::-1])',
].join('\n')

describe.skipIf(!hasEngine)('files between peers of a mesh', () => {
  let cluster: MeshCluster
  let work: string

  beforeAll(async () => {
    // Peer 0 founds the mesh and coordinates; only peer 1 runs jobs; jobs are submitted on 2.
    cluster = await MeshCluster.create({ peers: 3, executors: (index) => index === 1 })
    await cluster.startMesh(1)
    work = await mkdtemp(join(tmpdir(), 'gridx-files-mesh-'))
    await writeFile(join(work, 'job.py'), JOB)
  }, 180_000)

  afterAll(async () => {
    await cluster?.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
    await rm(work, { recursive: true, force: true })
  })

  const peerId = (index: number) => cluster.peers[index]?.daemon?.peerId

  async function runOn2(data: Buffer): Promise<JobView> {
    await writeFile(join(work, 'data.bin'), data)
    const args = ['submit', join(work, 'job.py'), '--input', join(work, 'data.bin')]
    const submitted = await cluster.cli(2, args)
    expect(submitted.code, submitted.stderr).toBe(0)
    const { id } = (JSON.parse(submitted.stdout) as { job: JobView }).job
    return cluster.waitFor<JobView>(
      2,
      ['status', id],
      (job) => ['succeeded', 'failed', 'timed_out'].includes(job.state),
      JOB_DONE_TIMEOUT_MS,
    )
  }

  it('should fetch the input from the submitter and the outputs from the executor', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17)
    const cid = cidOfSha256(sha256(data))
    const job = await runOn2(data)
    expect(job.state, job.reason ?? '').toBe('succeeded')
    expect(job.executor).toBe(peerId(1))
    expect(job.result?.stdoutTail).toBe(`${sha256(data)}\n`)
    // The executor holds the input now, fetched from peer 2; peer 0 never had it.
    expect(await exists(cluster.blobFile(1, cid))).toBe(true)
    expect(await exists(cluster.blobFile(0, cid))).toBe(false)

    const reversed = Buffer.from(data).reverse()
    const [output] = job.result?.outputs ?? []
    expect(output).toEqual({
      name: 'reversed.bin',
      cid: cidOfSha256(sha256(reversed)),
      size: reversed.length,
    })
    expect(await exists(cluster.blobFile(2, output!.cid))).toBe(false)
    const out = join(work, 'out')
    const got = await cluster.cli(2, ['get', job.id, '-o', out])
    expect(got.code, got.stderr).toBe(0)
    expect((await readFile(join(out, 'reversed.bin'))).equals(reversed)).toBe(true)
    expect(await exists(cluster.blobFile(2, output!.cid))).toBe(true)
  }, 120_000)

  it('should refuse a copy damaged on a peer’s disk and fetch the input elsewhere', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 5)
    const cid = cidOfSha256(sha256(data))
    // Peer 0 is asked first (peers are asked in the order they were admitted): its copy rots.
    expect(await cluster.putBlob(0, cid, data)).toBe(201)
    const file = cluster.blobFile(0, cid)
    const rotten = Buffer.from(data)
    rotten[1_500_000] = (rotten[1_500_000] ?? 0) ^ 0x40
    await chmod(file, 0o644)
    await writeFile(file, rotten)

    const job = await runOn2(data)
    expect(job.state, job.reason ?? '').toBe('succeeded')
    expect(job.result?.stdoutTail).toBe(`${sha256(data)}\n`)
    // Peer 0 found its copy damaged as it served it, and dropped it.
    expect(await exists(file)).toBe(false)
    const executorLog = await readFile(cluster.peers[1]!.daemonLogFile, 'utf8')
    expect(executorLog).toMatch(/a blob fetch from a peer failed/)
  }, 120_000)
})
