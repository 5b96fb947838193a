// Files in and out of jobs on a real daemon process and the real engine, through the CLI and
// the blob routes as a user or a script uses them: inputs byte-exact under inputs/, outputs
// listed by `gridx status` and fetched by `gridx get` with the same hashes, nothing uploaded
// twice, and each bound of the API at and just over its value.
import { createHash, randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BLOBS_PATH,
  cidOfSha256,
  JOB_INPUT_FILE_BYTES_MAX,
  JOB_INPUTS_BYTES_MAX,
} from '../../protocol/index.ts'
import type { JobView } from '../../protocol/index.ts'
import { hasEngine } from '../fixtures/engine.ts'
import { runGridx, startGridxDaemon } from '../../scripts/lib/gridx-process.ts'
import type { StartedDaemon } from '../../scripts/lib/gridx-process.ts'

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')
const cidOf = (bytes: Buffer) => cidOfSha256(sha256(bytes))

interface Answer {
  readonly status: number
  readonly body: string
}

describe.skipIf(!hasEngine)('files in and out of jobs', () => {
  let dataDir: string
  let work: string
  let daemon: StartedDaemon
  let token: string
  const gridx = (args: string[]) =>
    runGridx([...args, '--data-dir', dataDir], {
      env: { GRIDX_API: '', GRIDX_TOKEN: '' },
      timeoutMs: 120_000,
    })

  /** One request to the blob routes, with a body or only a declared length. */
  function blobRequest(
    method: string,
    cid: string,
    options: { body?: Buffer; length?: number; token?: string | null } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {}
    const bearer = options.token === undefined ? token : options.token
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`
    const length = options.length ?? options.body?.length
    if (length !== undefined) headers['content-length'] = String(length)
    return new Promise((resolve, reject) => {
      const outgoing = request(`${daemon.apiUrl}${BLOBS_PATH}/${cid}`, { method, headers })
      outgoing.once('response', (response) => {
        let body = ''
        response.on('data', (chunk: Buffer) => (body += chunk.toString()))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
      })
      // A refusal may come before the body is sent; the server then closes the connection.
      outgoing.once('error', (error) => reject(error))
      if (options.body !== undefined) outgoing.end(options.body)
      else if (options.length === undefined) outgoing.end()
      else outgoing.flushHeaders()
    })
  }

  /** job.submit over POST /api/v1/rpc, as a script sends it. */
  async function submitRpc(spec: unknown, idempotencyId: string) {
    const response = await fetch(`${daemon.apiUrl}/api/v1/rpc`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'job.submit',
        params: { idempotencyId, spec },
      }),
    })
    return (await response.json()) as { result?: unknown; error?: { message: string } }
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gridx-files-'))
    work = await mkdtemp(join(tmpdir(), 'gridx-files-work-'))
    daemon = await startGridxDaemon(dataDir)
    token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  })
  afterAll(async () => {
    daemon?.child.kill('SIGTERM')
    await daemon?.exited
    await rm(dataDir, { recursive: true, force: true })
    await rm(work, { recursive: true, force: true })
  })

  it('should run a job on its inputs and hand back its outputs byte for byte', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 3)
    await writeFile(join(work, 'data.bin'), data)
    await mkdir(join(work, 'conf', 'deep'), { recursive: true })
    await writeFile(join(work, 'conf', 'a.json'), '{"a": 1}')
    await writeFile(join(work, 'conf', 'deep', 'b.json'), '{"b": 2}')
    await mkdir(join(work, 'logs'))
    await writeFile(join(work, 'logs', 'x.txt'), 'x')
    await writeFile(join(work, 'logs', 'y.txt'), 'y')
    await writeFile(join(work, 'logs', 'z.md'), 'not matched')
    const code = [
      'import hashlib, os',
      'for root, _, files in sorted(os.walk("inputs")):',
      '    for name in sorted(files):',
      '        path = os.path.join(root, name)',
      '        print(path, hashlib.sha256(open(path, "rb").read()).hexdigest())',
      'os.makedirs("outputs/sub")',
      'data = open("inputs/data.bin", "rb").read()',
      'open("outputs/reversed.bin", "wb").write(data[::-1])',
      'open("outputs/sub/size.txt", "w").write(str(len(data)))',
    ].join('\n')
    await writeFile(join(work, 'job.py'), code)
    const submitted = await gridx([
      'submit',
      join(work, 'job.py'),
      '--input',
      join(work, 'data.bin'),
      '--input',
      join(work, 'conf'),
      '--input',
      `${work}/logs/*.txt`,
      '--follow',
    ])
    expect(submitted.code, submitted.stderr).toBe(0)
    expect(submitted.stderr).toMatch(/inputs: 5 files, \d+ bytes; uploaded 5, 0 already/)
    expect(submitted.stdout.trim().split('\n')).toEqual([
      `inputs/data.bin ${sha256(data)}`,
      `inputs/x.txt ${sha256(Buffer.from('x'))}`,
      `inputs/y.txt ${sha256(Buffer.from('y'))}`,
      `inputs/conf/a.json ${sha256(Buffer.from('{"a": 1}'))}`,
      `inputs/conf/deep/b.json ${sha256(Buffer.from('{"b": 2}'))}`,
    ])

    const listed = await gridx(['jobs', '--json'])
    const [job] = JSON.parse(listed.stdout) as JobView[]
    const reversed = Buffer.from(data).reverse()
    const size = Buffer.from(String(data.length))
    expect(job!.result?.outputs).toEqual([
      { name: 'reversed.bin', cid: cidOf(reversed), size: reversed.length },
      { name: 'sub/size.txt', cid: cidOf(size), size: size.length },
    ])
    // The log carries names, hashes and sizes only.
    expect(job!.spec.inputs?.map((input) => input.name).sort()).toEqual([
      'conf/a.json',
      'conf/deep/b.json',
      'data.bin',
      'x.txt',
      'y.txt',
    ])
    const status = await gridx(['status', job!.id])
    expect(status.stdout).toContain(`reversed.bin  ${reversed.length} bytes  ${cidOf(reversed)}`)
    expect(status.stdout).toContain(`sub/size.txt  ${size.length} bytes  ${cidOf(size)}`)

    const out = join(work, 'out')
    const got = await gridx(['get', job!.id, '-o', out])
    expect(got.code, got.stderr).toBe(0)
    expect((await readFile(join(out, 'reversed.bin'))).equals(reversed)).toBe(true)
    expect(await readFile(join(out, 'sub', 'size.txt'), 'utf8')).toBe(String(data.length))
    const one = await gridx(['get', job!.id, 'sub', '-o', join(work, 'one')])
    expect(one.stdout.trim()).toBe(`${join(work, 'one', 'sub', 'size.txt')}  ${size.length} bytes`)
    const none = await gridx(['get', job!.id, 'nothing'])
    expect(none.code).not.toBe(0)
    expect(none.stderr).toMatch(/has no output nothing; it has reversed.bin, sub\/size.txt/)

    // The same inputs again: asked by hash, none sent twice.
    const again = await gridx(['submit', '-c', 'print(1)', '--input', join(work, 'conf')])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toMatch(/uploaded 0, 2 already on the daemon/)
  })

  it('should refuse a job whose input was never uploaded, naming it', async () => {
    const missing = cidOf(Buffer.from('never uploaded'))
    const spec = {
      runtime: 'python',
      code: 'pass',
      inputs: [{ name: 'ghost.csv', cid: missing, size: 14 }],
    }
    const result = await submitRpc(spec, 'ghost-1')
    expect(result.error?.message).toMatch(/input ghost.csv \(.*\) was not uploaded to this peer/)
  })

  it('should take a file upload at the per-file bound and refuse one byte over it', async () => {
    const zeros = Buffer.alloc(JOB_INPUT_FILE_BYTES_MAX)
    const at = await blobRequest('PUT', cidOf(zeros), { body: zeros })
    expect(at.status, at.body).toBe(201)
    const over = await blobRequest('PUT', cidOf(Buffer.alloc(1)), {
      length: JOB_INPUT_FILE_BYTES_MAX + 1,
    })
    expect(over.status).toBe(413)
    expect(JSON.parse(over.body).error).toBe(
      `a job's input file may be ${JOB_INPUT_FILE_BYTES_MAX} bytes; ` +
        `this one is ${JOB_INPUT_FILE_BYTES_MAX + 1}`,
    )
  }, 120_000)

  it('should take inputs at the per-job bound and refuse one byte over it at the API', async () => {
    const parts = JOB_INPUTS_BYTES_MAX / JOB_INPUT_FILE_BYTES_MAX
    const zeros = cidOf(Buffer.alloc(JOB_INPUT_FILE_BYTES_MAX))
    const inputs = Array.from({ length: parts }, (_, at) => ({
      name: `part-${at}`,
      cid: zeros,
      size: JOB_INPUT_FILE_BYTES_MAX,
    }))
    const submit = (list: unknown[], id: string) =>
      submitRpc({ runtime: 'bash', code: 'du -sbL inputs', inputs: list, timeoutS: 5 }, id)
    const at = await submit(inputs, 'at-job-bound')
    expect(at.error).toBeUndefined()
    const one = { name: 'one-more', cid: cidOf(Buffer.alloc(1)), size: 1 }
    const over = await submit([...inputs, one], 'over-job-bound')
    expect(over.error?.message).toMatch(/may total 1073741824 bytes; these total 1073741825/)
  })

  it('should refuse an upload whose bytes do not hash to its CID, or without a token', async () => {
    const claimed = cidOf(Buffer.from('what was promised'))
    const wrong = await blobRequest('PUT', claimed, { body: Buffer.from('something else') })
    expect(wrong.status).toBe(400)
    expect(JSON.parse(wrong.body).error).toMatch(/hash to/)
    expect((await blobRequest('HEAD', claimed)).status).toBe(404)
    expect((await blobRequest('HEAD', claimed, { token: null })).status).toBe(401)
    expect((await blobRequest('HEAD', claimed, { token: 'wrong-token-wrong' })).status).toBe(401)
    expect((await blobRequest('HEAD', 'not-a-cid')).status).toBe(400)
  })
})
