// A job's inputs/ and outputs/ against the real engine and a real blob store in a temp dir:
// inputs arrive read-only and byte-exact, outputs come back as blobs with their hashes, and the
// disk quota, links and the store's own refusals end the job with a sentence a user can act on.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { BlobNotFoundError, BlobStore, JobWorkspaces } from '../../../node/blobs/index.ts'
import type { DockerExecutor } from '../../../node/executor/index.ts'
import { cidOfSha256 } from '../../../protocol/index.ts'
import {
  describeWithDocker,
  runJob,
  startedExecutor,
  stopAndCheckClean,
  testExecutorId,
} from '../../fixtures/docker.ts'

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

async function* once(bytes: Buffer) {
  yield bytes
}

describeWithDocker(
  'job files in the sandbox',
  (docker: Docker) => {
    const executorId = testExecutorId('files')
    let executor: DockerExecutor
    let dir: string
    let store: BlobStore

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'gridx-job-files-'))
      store = new BlobStore({ dir: join(dir, 'blobs'), references: () => [] })
      await store.open()
      executor = await startedExecutor(docker, executorId)
      executor.useFiles(
        new JobWorkspaces({
          root: join(dir, 'jobs'),
          store,
          fetch: (cid) => {
            const size = store.size(cid)
            if (size === null) return Promise.reject(new BlobNotFoundError(`no ${cid} here`))
            return Promise.resolve({ cid, size })
          },
        }),
      )
    })

    afterAll(async () => {
      await stopAndCheckClean(docker, executor, executorId)
      await rm(dir, { recursive: true, force: true })
    })

    async function stored(bytes: Buffer) {
      const blob = await store.write(null, bytes.length, once(bytes))
      return blob
    }

    it('should give inputs read-only and keep outputs by hash when a job runs', async () => {
      const data = randomBytes(300_000)
      const config = Buffer.from('{"seed": 7}\n')
      const [dataBlob, configBlob] = [await stored(data), await stored(config)]
      const code = [
        'set -e',
        'sha256sum inputs/data.bin inputs/conf/config.json',
        'if echo x > inputs/data.bin 2>/dev/null; then echo WRITABLE; fi',
        'mkdir -p outputs/deep',
        'cp inputs/data.bin outputs/copy.bin',
        'printf done > outputs/deep/note.txt',
      ].join('\n')
      const outcome = await runJob(executor, {
        runtime: 'bash',
        code,
        inputs: [
          { name: 'data.bin', ...dataBlob },
          { name: 'conf/config.json', ...configBlob },
        ],
      })
      expect(outcome.state, outcome.result.stderrTail).toBe('succeeded')
      expect(outcome.result.stdoutTail).toContain(`${sha256(data)}  inputs/data.bin`)
      expect(outcome.result.stdoutTail).toContain(`${sha256(config)}  inputs/conf/config.json`)
      expect(outcome.result.stdoutTail).not.toContain('WRITABLE')
      expect(outcome.result.outputs).toEqual([
        { name: 'copy.bin', cid: cidOfSha256(sha256(data)), size: data.length },
        { name: 'deep/note.txt', cid: cidOfSha256(sha256(Buffer.from('done'))), size: 4 },
      ])
      const note = outcome.result.outputs?.[1]
      expect(await readFile(store.path(note!.cid), 'utf8')).toBe('done')
      // The job's directories go with the run; the blobs stay.
      expect(await readdir(join(dir, 'jobs'))).toEqual([])
    })

    it('should report no outputs when a job writes none', async () => {
      const outcome = await runJob(executor, { runtime: 'python', code: 'print(1)' })
      expect(outcome.state).toBe('succeeded')
      expect(outcome.result.outputs).toEqual([])
    })

    it('should fail the job by its code when it writes past its disk quota', async () => {
      const outcome = await runJob(executor, {
        runtime: 'bash',
        code: 'head -c 3000000 /dev/zero > outputs/big; sleep 30',
        diskMb: 2,
      })
      expect(outcome.state).toBe('failed')
      expect(outcome.cause).toBe('code')
      expect(outcome.error).toBe('the job wrote more than its 2 MiB disk quota under outputs/')
    })

    it('should keep outputs at the quota exactly', async () => {
      const outcome = await runJob(executor, {
        runtime: 'bash',
        code: 'head -c 2097152 /dev/zero > outputs/exact',
        diskMb: 2,
      })
      expect(outcome.state, outcome.error ?? '').toBe('succeeded')
      expect(outcome.result.outputs?.[0]?.size).toBe(2 * 1024 * 1024)
    })

    it('should refuse outputs without reading them when the job leaves a link there', async () => {
      const outcome = await runJob(executor, {
        runtime: 'bash',
        code: 'ln -s /etc/passwd outputs/passwd',
      })
      expect(outcome.state).toBe('failed')
      expect(outcome.cause).toBe('code')
      expect(outcome.error).toMatch(/outputs\/passwd is not a regular file/)
    })

    it('should fail as the executor’s doing when an input is nowhere to be had', async () => {
      const missing = cidOfSha256(sha256(Buffer.from('never uploaded')))
      const outcome = await runJob(executor, {
        runtime: 'bash',
        code: 'true',
        inputs: [{ name: 'gone', cid: missing, size: 14 }],
      })
      expect(outcome.state).toBe('failed')
      expect(outcome.cause).toBe('executor')
      expect(outcome.error).toMatch(/inputs could not be fetched: no .* here/)
    })
  },
  ['bash', 'python'],
)
