// scripts/build-node.ts: the bundle behaves as the sources do (paths relative to a source
// file, lazy imports, source maps), in a copy of the repository.
import { execFile } from 'node:child_process'
import { readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUILD_DIR, readManifest, staleReason } from '../../bin/build-state.js'
import { buildNode } from '../../scripts/build-node.ts'
import { copyRepo, runNode } from '../fixtures/repo-copy.ts'
import type { RepoCopy } from '../fixtures/repo-copy.ts'

const run = promisify(execFile)

const SETUP_STEP = [
  'set -euo pipefail',
  'source scripts/lib/common.sh',
  `source <(sed -n '/^ensure_node_build()/,/^}/p' scripts/setup.sh)`,
  'ensure_node_build',
].join('\n')

/** Packages only the daemon needs: a client command that loads one starts slower. */
const DAEMON_PACKAGES = [
  /^libp2p$/,
  /^@libp2p\//,
  /^@multiformats\//,
  /^classic-level$/,
  /^dockerode$/,
  /^pino$/,
  /^prom-client$/,
  /^ws$/,
]

/** Every module a file loads before it runs: its static imports, followed through chunks. */
async function staticImports(dir: string, entry: string): Promise<Set<string>> {
  const seen = new Set<string>()
  const pending = [entry]
  while (pending.length > 0) {
    const name = pending.pop() as string
    const text = await readFile(join(dir, name), 'utf8')
    // esbuild writes static imports at the top as `import ... from "x"` or `import "x"`.
    for (const [, specifier] of text.matchAll(/^(?:import|export)\b[^;]*?["']([^"']+)["'];?$/gms)) {
      const target = specifier as string
      if (target.startsWith('./')) {
        const chunk = target.slice(2)
        if (!seen.has(chunk)) pending.push(chunk)
      }
      seen.add(target.startsWith('./') ? target.slice(2) : target)
    }
  }
  return seen
}

describe('scripts/build-node.ts', () => {
  let repo: RepoCopy
  let outDir: string

  beforeAll(async () => {
    repo = await copyRepo()
    outDir = join(repo.root, BUILD_DIR)
  })
  afterAll(() => repo?.remove())

  it('should load no daemon package before main runs when the CLI starts', async () => {
    await buildNode(repo.root, { clean: true })
    const loaded = [...(await staticImports(outDir, 'main.js'))]
    expect(loaded).toContain('commander')
    for (const pattern of DAEMON_PACKAGES) {
      expect(loaded.filter((name) => pattern.test(name))).toEqual([])
    }
  })

  it('should resolve import.meta.url paths from the source file when bundled', async () => {
    const packageJson = join(repo.root, 'package.json')
    const text = await readFile(packageJson, 'utf8')
    await writeFile(packageJson, text.replace(/"version": "[^"]+"/, '"version": "9.8.7-test"'))
    await buildNode(repo.root)
    // version.ts reads ../../package.json beside itself, two levels under the root.
    const outcome = await runNode([join(outDir, 'main.js'), '--version'], repo.root)
    expect(outcome.stdout.trim()).toBe('9.8.7-test')
  })

  it('should record aggregate.py as a source and fail without it when it builds', async () => {
    // The daemon sends node/training/aggregate.py in every training job: a build must not
    // vouch for a tree that lacks it, and an edit of it makes the build stale.
    await buildNode(repo.root)
    const sources = readManifest(repo.root)?.sources.map((source) => source.path)
    expect(sources).toContain('node/training/aggregate.py')
    const script = join(repo.root, 'node', 'training', 'aggregate.py')
    const text = await readFile(script, 'utf8')
    await writeFile(script, `${text}\n# edited\n`)
    expect(staleReason(repo.root)).toContain('node/training/aggregate.py')
    await rm(script)
    await expect(buildNode(repo.root)).rejects.toThrow(/aggregate\.py/)
    await writeFile(script, text)
  })

  it('should name .ts lines in stack traces when source maps are on', async () => {
    await buildNode(repo.root)
    const chunks = (await readdir(outDir)).filter((name) => name.endsWith('.js'))
    const withError: string[] = []
    for (const name of chunks) {
      if ((await readFile(join(outDir, name), 'utf8')).includes('var GridxError = class')) {
        withError.push(name)
      }
    }
    expect(withError).toHaveLength(1)
    const chunk = JSON.stringify(join(outDir, withError[0] as string))
    const script =
      'process.setSourceMapsEnabled(true);' +
      `const { GridxError } = await import(${chunk});` +
      "console.log(GridxError.fromWire({ code: -32603, message: 'x' }).stack)"
    const outcome = await runNode(['--input-type=module', '-e', script], repo.root)
    expect(outcome.stdout).toMatch(/at .*fromWire \(.*\/protocol\/errors\.ts:\d+:\d+\)/)
  })

  it('should build in setup only when the build is missing or stale', async () => {
    // setup.sh's step on its own: sourcing the whole script would run the whole setup.
    const step = (): Promise<{ stdout: string; stderr: string }> =>
      run('bash', ['-c', SETUP_STEP], {
        cwd: repo.root,
        env: { ...process.env, REPO_DIR: repo.root },
      })
    await rm(outDir, { recursive: true, force: true })
    expect((await step()).stderr).toMatch(/built the daemon and CLI/)
    expect(staleReason(repo.root)).toBeUndefined()
    expect((await step()).stderr).toBe('')
    const program = join(repo.root, 'node', 'cli', 'program.ts')
    await writeFile(program, `${await readFile(program, 'utf8')}\n`)
    expect((await step()).stderr).toMatch(/built the daemon and CLI/)
    expect(staleReason(repo.root)).toBeUndefined()
  })

  it('should keep the previous build’s chunks and drop older ones when it rebuilds', async () => {
    await buildNode(repo.root, { clean: true })
    const first = readManifest(repo.root)?.outputs ?? []
    // A file in a shared chunk, whose name is its content's hash (main.js keeps its name).
    const program = join(repo.root, 'protocol', 'errors.ts')
    const source = await readFile(program, 'utf8')
    const edit = (value: number) =>
      `${source}\nObject.assign(globalThis, { buildTest: ${value} })\n`
    await writeFile(program, edit(2))
    await buildNode(repo.root)
    const second = readManifest(repo.root)?.outputs ?? []
    await writeFile(program, edit(3))
    await buildNode(repo.root)
    const third = readManifest(repo.root)?.outputs ?? []
    const present = new Set(await readdir(outDir))
    for (const name of [...second, ...third]) expect(present.has(name), name).toBe(true)
    const onlyFirst = first.filter((name) => !second.includes(name) && !third.includes(name))
    expect(onlyFirst.length).toBeGreaterThan(0)
    for (const name of onlyFirst) expect(present.has(name), name).toBe(false)
    await writeFile(program, source)
  })
})
