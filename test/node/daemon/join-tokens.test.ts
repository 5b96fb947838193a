// `gridx token`: the join secrets live in the founding peer's data dir (0600), their hashes in
// the replicated state; a rotation replaces the hash through a committed command.
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { buildProgram } from '../../../node/cli/index.ts'
import { JOIN_SECRETS_FILE } from '../../../node/daemon/index.ts'
import { hashJoinSecret } from '../../../node/mesh/index.ts'
import { parseJoinToken } from '../../../protocol/index.ts'
import { startTestDaemon } from '../../fixtures/daemon.ts'
import type { TestDaemon } from '../../fixtures/daemon.ts'

const daemons: TestDaemon[] = []
afterEach(async () => {
  for (const daemon of daemons.splice(0)) await daemon.destroy()
})

async function start(): Promise<TestDaemon> {
  const daemon = await startTestDaemon({ executor: false })
  daemons.push(daemon)
  return daemon
}

function replicatedHashes(daemon: TestDaemon) {
  return daemon.daemon.ledgerState().mesh?.secrets
}

describe('Join tokens of the daemon', () => {
  it('should print tokens whose secrets match the replicated hashes when asked', async () => {
    const daemon = await start()
    const info = await daemon.call('mesh.info', {})
    for (const role of ['executor', 'voter'] as const) {
      const { token } = await daemon.call('mesh.token', { role })
      const parsed = parseJoinToken(token)
      expect(parsed).toMatchObject({ role, meshId: info.meshId, issuer: daemon.daemon.peerId })
      expect(replicatedHashes(daemon)?.[role]).toBe(hashJoinSecret(parsed.secret))
      // Asking again prints the same token: nothing rotates by itself.
      expect((await daemon.call('mesh.token', { role })).token).toBe(token)
    }
  })

  it('should keep the secrets in a file only its owner reads when the mesh is founded', async () => {
    const daemon = await start()
    const file = join(daemon.dataDir, JOIN_SECRETS_FILE)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const { token } = await daemon.call('mesh.token', { role: 'voter' })
    expect(await readFile(file, 'utf8')).toContain(parseJoinToken(token).secret)
  })

  it('should replace the hash through the log when the token is rotated', async () => {
    const daemon = await start()
    const before = (await daemon.call('mesh.token', { role: 'executor' })).token
    const voter = (await daemon.call('mesh.token', { role: 'voter' })).token
    const applied = daemon.daemon.ledgerState().appliedIndex
    const after = (await daemon.call('mesh.token', { role: 'executor', rotate: true })).token
    expect(after).not.toBe(before)
    const hashes = replicatedHashes(daemon)
    expect(hashes?.executor).toBe(hashJoinSecret(parseJoinToken(after).secret))
    expect(hashes?.rotated).toContain(hashJoinSecret(parseJoinToken(before).secret))
    expect(daemon.daemon.ledgerState().appliedIndex).toBeGreaterThan(applied)
    // The other role's token is untouched.
    expect((await daemon.call('mesh.token', { role: 'voter' })).token).toBe(voter)
  })

  it('should print the same tokens when the daemon restarts', async () => {
    const daemon = await start()
    const token = (await daemon.call('mesh.token', { role: 'voter' })).token
    const restarted = await daemon.restart()
    daemons[daemons.indexOf(daemon)] = restarted
    expect((await restarted.call('mesh.token', { role: 'voter' })).token).toBe(token)
  })
})

describe('gridx token', () => {
  it('should print {"token": …} when run with --json against a running daemon', async () => {
    const daemon = await start()
    let out = ''
    const sink = new PassThrough()
    sink.on('data', (chunk: Buffer) => (out += chunk.toString()))
    const program = buildProgram({
      env: {},
      stdin: () => new PassThrough(),
      stdout: sink as unknown as NodeJS.WriteStream,
      stderr: sink as unknown as NodeJS.WriteStream,
      defaultDataDir: daemon.dataDir,
      clock: { now: () => Date.now() },
      setExitCode: () => undefined,
      stopSignal: new AbortController().signal,
      staticDir: daemon.dataDir,
      createExecutor: () => Promise.reject(new Error('no executor in this test')),
    })
    await program.parseAsync(['node', 'gridx', 'token', '--voter', '--json'])
    const { token } = JSON.parse(out) as { token: string }
    expect(token).toBe((await daemon.call('mesh.token', { role: 'voter' })).token)
  })
})
