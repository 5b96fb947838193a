// Whether the built daemon and CLI in dist/node are the sources as they are now. Plain
// JavaScript, because it runs before anything is compiled, on every `gridx` call: it reads the
// build's manifest and stats the files the build was made from, no directory walk.
//
// "Newer" means "not what was built": a source whose size or mtime differ from the manifest's
// is read and hashed, and only a different hash makes the build stale. So an edit, a branch
// switch or a file restored with an older mtime is seen, and a touch alone costs one hash.
import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Where the build goes, from the repository's root. */
export const BUILD_DIR = join('dist', 'node')
/** The build's record of what it was made from, in BUILD_DIR. */
export const MANIFEST_FILE = 'manifest.json'
/** Bumped when the manifest's shape changes, so an older manifest reads as stale. */
export const MANIFEST_VERSION = 1

/** The sha-256 of a file's bytes, as hex. */
export function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex')
}

/** The build's manifest, or undefined when there is none or it is not one this code reads. */
export function readManifest(root) {
  let manifest
  try {
    manifest = JSON.parse(readFileSync(join(root, BUILD_DIR, MANIFEST_FILE), 'utf8'))
  } catch {
    return undefined
  }
  const usable =
    manifest?.version === MANIFEST_VERSION &&
    Array.isArray(manifest.sources) &&
    Array.isArray(manifest.outputs)
  return usable ? manifest : undefined
}

/**
 * Why the build under `root` cannot run as it is: no build, a file of it missing, or the first
 * source that is not the one it was made from. Undefined when every source is the one built.
 */
export function staleReason(root) {
  const manifest = readManifest(root)
  if (manifest === undefined) return `there is no build in ${BUILD_DIR}`
  // A rebuild racing another may have pruned a file this manifest names.
  for (const output of manifest.outputs) {
    try {
      statSync(join(root, BUILD_DIR, output))
    } catch {
      return `${BUILD_DIR}/${output} is missing`
    }
  }
  for (const source of manifest.sources) {
    const path = join(root, source.path)
    let stat
    try {
      stat = statSync(path)
    } catch {
      return `${source.path} is gone`
    }
    if (stat.size === source.size && stat.mtimeMs === source.mtimeMs && !source.racy) continue
    if (stat.size !== source.size || sha256(readFileSync(path)) !== source.sha256) {
      return `${source.path} changed since the build`
    }
  }
  return undefined
}
