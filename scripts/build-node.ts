// The build of the daemon and CLI: node/main.ts bundled by esbuild into dist/node, so that a
// `gridx` call runs JavaScript instead of compiling TypeScript at every start. What is bundled
// is our own code and zod; other packages stay external (classic-level is native, and the
// others load from node_modules as they do from source). Each `await import()` becomes a chunk
// of its own, so a client command still loads neither libp2p nor LevelDB. Source maps name
// the .ts lines.
//
// The manifest beside the build lists every file it was made from, with the bytes' hash as
// esbuild read them, and bin/build-state.js checks it on every call (bin/gridx.js).
//
// `npm run build` (a clean build), or `tsx scripts/build-node.ts [--if-stale]`.
import { build } from 'esbuild'
import type { Plugin } from 'esbuild'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, extname, join, relative, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import {
  BUILD_DIR,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  readManifest,
  sha256,
  staleReason,
} from '../bin/build-state.js'
import type { BuildManifest, BuildSource } from '../bin/build-state.js'

/** Files that shape the build without being bundled: this script and esbuild's inputs, and
 * the training jobs' aggregate script, which the daemon reads beside its source file (the
 * build keeps `import.meta.url` per source) and sends in every training job: recorded, a
 * build fails where it is missing and is stale once it changes. */
const BUILD_INPUTS = [
  'scripts/build-node.ts',
  'tsconfig.json',
  'package.json',
  'node/training/aggregate.py',
]

/** A file modified this close before the build read it may be modified again within the same
 * mtime tick (filesystems stamp in coarse ticks, FAT's are 2 s), so its mtime cannot vouch for
 * its bytes: the check hashes it on every call instead (git's "racily clean" files). */
const RACY_WINDOW_MS = 2_000

const LOADERS = { '.ts': 'ts', '.js': 'js', '.json': 'json' } as const

/** Packages bundled rather than loaded from node_modules. Every command loads zod (protocol's
 * schemas), and Node's loader takes longer to find, read and link its 95 modules one by one
 * than to read one chunk: bundled, `gridx --help` spends about 20 ms less CPU. */
const BUNDLED = new Set(['zod'])

export interface BuildReport {
  readonly outDir: string
  readonly outputs: readonly string[]
  readonly sources: number
  readonly tookMs: number
}

/**
 * Builds node/main.ts under `root` into BUILD_DIR. `clean` empties the directory first;
 * otherwise only files of neither this build nor the previous one are removed, so that a
 * process started from the previous build can still load its chunks.
 */
export async function buildNode(
  root: string,
  options: { clean?: boolean } = {},
): Promise<BuildReport> {
  const started = performance.now()
  const outDir = join(root, BUILD_DIR)
  const previous = options.clean ? undefined : readManifest(root)
  const sources: BuildSource[] = []
  for (const path of BUILD_INPUTS) sources.push((await readSource(root, path)).record)
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['node/main.ts'],
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // node_modules may be a symlink (a worktree's is): paths stay under the root, as recorded.
    preserveSymlinks: true,
    // Errors are matched by class and `name`, but a renamed class would print as CliError2.
    keepNames: true,
    sourcemap: 'linked',
    // Node needs the mappings to name .ts lines, not a copy of the sources.
    sourcesContent: false,
    chunkNames: 'chunk-[hash]',
    write: false,
    logLevel: 'silent',
    plugins: [recordSources(root, outDir, sources)],
  })
  if (options.clean) await rm(outDir, { recursive: true, force: true })
  await mkdir(outDir, { recursive: true })
  const outputs = result.outputFiles.map((file) => relative(outDir, file.path))
  for (const file of result.outputFiles) await writeAtomically(file.path, file.contents)
  const manifest: BuildManifest = {
    version: MANIFEST_VERSION,
    builtAt: new Date().toISOString(),
    sources: sources.sort((a, b) => a.path.localeCompare(b.path)),
    outputs,
  }
  // Last, so that a manifest never vouches for files not yet written.
  await writeAtomically(join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`)
  if (previous !== undefined) await prune(outDir, new Set([...outputs, ...previous.outputs]))
  const tookMs = Math.round(performance.now() - started)
  return { outDir, outputs, sources: sources.length, tookMs }
}

/**
 * Leaves packages external but those in BUNDLED. Loads every file the bundle takes in (ours
 * and the bundled packages'), records it as the build read it, and keeps `import.meta.url`
 * meaning the source file's own URL: a bundle puts modules of several directories into one
 * file, and paths relative to them (package.json, dist/pwa) would break.
 */
function recordSources(root: string, outDir: string, sources: BuildSource[]): Plugin {
  return {
    name: 'gridx-sources',
    setup(plugin) {
      plugin.onResolve({ filter: /^[^./]/ }, ({ path }) => {
        const name = path.startsWith('@') ? path.split('/', 2).join('/') : path.split('/')[0]
        return BUNDLED.has(name ?? path) ? undefined : { path, external: true }
      })
      plugin.onLoad({ filter: /.*/, namespace: 'file' }, async ({ path }) => {
        const loader = LOADERS[extname(path) as keyof typeof LOADERS]
        if (loader === undefined) throw new Error(`the build cannot load ${path}`)
        const source = await readSource(root, relative(root, path))
        sources.push(source.record)
        const text = source.bytes.toString('utf8')
        if (/\bimport\.meta\.(dirname|filename)\b/.test(text)) {
          throw new Error(`${path}: use import.meta.url, which the build keeps per source file`)
        }
        const url = toPosix(relative(outDir, path))
        const contents = text.replace(
          /\bimport\.meta\.url\b/g,
          `new URL(${JSON.stringify(url)}, import.meta.url).href`,
        )
        return { contents, loader }
      })
    },
  }
}

/** A file's stat, read and hash. The stat comes first: a write after it changes the mtime. */
async function readSource(root: string, path: string) {
  const readAtMs = Date.now()
  const { size, mtimeMs } = await stat(join(root, path))
  const bytes = await readFile(join(root, path))
  const record: BuildSource = {
    path: toPosix(path),
    size,
    mtimeMs,
    sha256: sha256(bytes),
    ...(mtimeMs >= readAtMs - RACY_WINDOW_MS || bytes.length !== size ? { racy: true } : {}),
  }
  return { record, bytes }
}

/** Other `gridx` processes may be reading the build: they see a file whole or not at all. */
async function writeAtomically(path: string, contents: Uint8Array | string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, contents)
  await rename(temporary, path)
}

async function prune(outDir: string, keep: ReadonlySet<string>): Promise<void> {
  for (const name of await readdir(outDir)) {
    if (name === MANIFEST_FILE || keep.has(name) || name.endsWith('.tmp')) continue
    await rm(join(outDir, name), { force: true })
  }
}

const toPosix = (path: string): string => path.split(sep).join('/')

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'if-stale': { type: 'boolean', default: false } } })
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  if (values['if-stale'] && staleReason(root) === undefined) return
  const report = await buildNode(root, { clean: true })
  process.stderr.write(
    `built ${BUILD_DIR} (${report.outputs.length} files from ${report.sources} sources) ` +
      `in ${report.tookMs} ms\n`,
  )
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
