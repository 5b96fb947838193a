// bin/gridx.js runs the build in dist/node when it is the sources as they are now, rebuilds it
// when a source changed, and never runs a stale build: each case in a copy of the repository.
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUILD_DIR, MANIFEST_FILE, readManifest, staleReason } from '../../bin/build-state.js'
import { buildNode } from '../../scripts/build-node.ts'
import { copyRepo } from '../fixtures/repo-copy.ts'
import type { RepoCopy } from '../fixtures/repo-copy.ts'

const DESCRIPTION = 'Grid-X: pool machines into one compute mesh'

describe('bin/gridx.js', () => {
  let repo: RepoCopy
  const file = (...parts: string[]) => join(repo.root, ...parts)
  const built = () => readFile(file(BUILD_DIR, 'main.js'), 'utf8')
  /** Marks the build's --help text, so that output with the mark came from the build. */
  const markBuild = async (mark: string) => {
    await writeFile(file(BUILD_DIR, 'main.js'), (await built()).replace(DESCRIPTION, mark))
  }
  const editSource = async (path: string, from: string, to: string) => {
    const text = await readFile(file(path), 'utf8')
    expect(text).toContain(from)
    await writeFile(file(path), text.replace(from, to))
  }

  beforeAll(async () => {
    repo = await copyRepo()
  })
  afterAll(() => repo?.remove())

  it('should build dist/node and run it when there is no build yet', async () => {
    expect(staleReason(repo.root)).toMatch(/there is no build/)
    const outcome = await repo.gridx(['--help'])
    expect(outcome.code).toBe(0)
    expect(outcome.stdout).toContain(DESCRIPTION)
    expect(staleReason(repo.root)).toBeUndefined()
  })

  it('should run the build, not the sources, when the build is fresh', async () => {
    await buildNode(repo.root)
    await markBuild('FROM THE BUILD')
    const outcome = await repo.gridx(['--help'])
    expect(outcome.stdout).toContain('FROM THE BUILD')
    expect(outcome.stderr).toBe('')
  })

  it('should start the daemon from the build when the build is fresh', async () => {
    await buildNode(repo.root)
    const text = await built()
    expect(text).toContain('is running.')
    await writeFile(file(BUILD_DIR, 'main.js'), text.replace('is running.', 'runs its build.'))
    const dataDir = await mkdtemp(join(tmpdir(), 'gridx-bin-start-'))
    const daemon = spawn(
      process.execPath,
      [
        file('bin', 'gridx.js'),
        'start',
        '--data-dir',
        dataDir,
        '--no-executor',
        '--api-port',
        '0',
      ].concat(['--p2p-port', '0', '--p2p-host', '127.0.0.1']),
      { env: { ...process.env, GRIDX_FROM_SOURCE: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    try {
      let stdout = ''
      daemon.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      // Bounded by the test's timeout: the daemon prints its banner once it listens.
      await new Promise<void>((resolve, reject) => {
        daemon.stdout.on('data', () => stdout.includes('Ctrl+C') && resolve())
        daemon.on('exit', (code) => reject(new Error(`gridx start exited with ${code}`)))
      })
      expect(stdout).toMatch(/Grid-X .* runs its build\./)
    } finally {
      daemon.kill('SIGTERM')
      await new Promise((resolve) => daemon.once('close', resolve))
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it('should rebuild and run the changed source when a source changed', async () => {
    await buildNode(repo.root)
    await markBuild('FROM THE OLD BUILD')
    await editSource('node/cli/program.ts', DESCRIPTION, 'EDITED SOURCE')
    expect(staleReason(repo.root)).toBe('node/cli/program.ts changed since the build')
    const outcome = await repo.gridx(['--help'])
    expect(outcome.code).toBe(0)
    expect(outcome.stdout).toContain('EDITED SOURCE')
    expect(outcome.stdout).not.toContain('FROM THE OLD BUILD')
    expect(await built()).toContain('EDITED SOURCE')
    expect(staleReason(repo.root)).toBeUndefined()
    await editSource('node/cli/program.ts', 'EDITED SOURCE', DESCRIPTION)
  })

  it('should see a change when the changed source has an older mtime than the build', async () => {
    await buildNode(repo.root)
    const path = 'node/cli/format.ts'
    const before = await stat(file(path))
    await editSource(path, 'export', 'export ')
    const past = new Date(before.mtimeMs - 86_400_000)
    await utimes(file(path), past, past)
    expect(staleReason(repo.root)).toBe(`${path} changed since the build`)
    await editSource(path, 'export ', 'export')
  })

  it('should keep the build when a source is touched but not changed', async () => {
    await buildNode(repo.root)
    await markBuild('FROM THE BUILD')
    const now = new Date()
    await utimes(file('node/cli/program.ts'), now, now)
    expect(staleReason(repo.root)).toBeUndefined()
    const outcome = await repo.gridx(['--help'])
    expect(outcome.stdout).toContain('FROM THE BUILD')
  })

  it('should call the build stale when a source it was made from is gone', async () => {
    await buildNode(repo.root)
    const manifest = JSON.parse(await readFile(file(BUILD_DIR, MANIFEST_FILE), 'utf8'))
    manifest.sources.push({ path: 'node/cli/gone.ts', size: 1, mtimeMs: 1, sha256: 'x' })
    await writeFile(file(BUILD_DIR, MANIFEST_FILE), JSON.stringify(manifest))
    expect(staleReason(repo.root)).toBe('node/cli/gone.ts is gone')
  })

  it('should call the build stale when a file of it is missing', async () => {
    await buildNode(repo.root)
    const chunk = readManifest(repo.root)?.outputs.find((name) => name.startsWith('chunk-'))
    await rm(file(BUILD_DIR, chunk as string))
    expect(staleReason(repo.root)).toBe(`${BUILD_DIR}/${chunk} is missing`)
    const outcome = await repo.gridx(['--version'])
    expect(outcome.code).toBe(0)
    expect(staleReason(repo.root)).toBeUndefined()
  })

  it('should run the sources when GRIDX_FROM_SOURCE=1', async () => {
    await buildNode(repo.root)
    await editSource('node/cli/program.ts', DESCRIPTION, 'FROM THE SOURCES')
    const outcome = await repo.gridx(['--help'], { GRIDX_FROM_SOURCE: '1' })
    expect(outcome.stdout).toContain('FROM THE SOURCES')
    // Running from source leaves the build alone: it is still stale.
    expect(staleReason(repo.root)).toBe('node/cli/program.ts changed since the build')
    await editSource('node/cli/program.ts', 'FROM THE SOURCES', DESCRIPTION)
  })

  it('should say so and run the sources when a stale build cannot be rebuilt', async () => {
    await buildNode(repo.root, { clean: true })
    await markBuild('FROM THE STALE BUILD')
    await editSource('node/cli/program.ts', DESCRIPTION, 'FROM THE SOURCES')
    // A directory where the manifest goes: the rebuild cannot write it.
    await rm(file(BUILD_DIR, MANIFEST_FILE))
    await mkdir(file(BUILD_DIR, MANIFEST_FILE))
    const outcome = await repo.gridx(['--help'])
    expect(outcome.code).toBe(0)
    expect(outcome.stdout).toContain('FROM THE SOURCES')
    expect(outcome.stdout).not.toContain('FROM THE STALE BUILD')
    expect(outcome.stderr).toMatch(/^gridx: running from source, slowly: .* rebuild failed/)
    expect(outcome.stderr.trim().split('\n')).toHaveLength(1)
    await rm(file(BUILD_DIR, MANIFEST_FILE), { recursive: true })
    await editSource('node/cli/program.ts', 'FROM THE SOURCES', DESCRIPTION)
  })
})
