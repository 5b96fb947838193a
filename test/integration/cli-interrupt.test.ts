// Ctrl+C while following a job: the command stops following, says the job goes on, and
// exits 130 as a shell expects of an interrupt; the job itself is untouched.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { hasEngine } from '../fixtures/engine.ts'
import { GRIDX_BIN, runGridx, startGridxDaemon } from '../../scripts/lib/gridx-process.ts'
import type { StartedDaemon } from '../../scripts/lib/gridx-process.ts'

describe.skipIf(!hasEngine)('gridx submit --follow interrupted', () => {
  let dataDir: string
  let daemon: StartedDaemon
  const env = { ...process.env, GRIDX_API: '', GRIDX_TOKEN: '' }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gridx-interrupt-'))
    daemon = await startGridxDaemon(dataDir)
  })
  afterAll(async () => {
    daemon?.child.kill('SIGTERM')
    await daemon?.exited
    await rm(dataDir, { recursive: true, force: true })
  })

  it('should exit 130 with a one-line notice and leave the job running when interrupted', async () => {
    const child = spawn(
      process.execPath,
      [GRIDX_BIN, 'submit', '--runtime', 'bash', '-c', 'echo started; sleep 60', '--follow'].concat(
        ['--data-dir', dataDir],
      ),
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    await vi.waitFor(() => expect(stdout).toContain('started'), { timeout: 30_000 })
    child.kill('SIGINT')
    expect(await exited).toBe(130)
    expect(stderr).not.toMatch(/\n\s+at /)
    const id = /gridx cancel (j[0-9a-z]+)/.exec(stderr)?.[1]
    expect(id, stderr).toBeDefined()
    const status = await runGridx(['status', id!, '--json', '--data-dir', dataDir], { env })
    expect(JSON.parse(status.stdout).state).toBe('running')
    const cancelled = await runGridx(['cancel', id!, '--data-dir', dataDir], { env })
    expect(cancelled.code).toBe(0)
  }, 60_000)
})
