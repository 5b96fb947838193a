// Types of build-state.js, which stays plain JavaScript because bin/gridx.js runs it before
// anything is compiled.

/** One file the build was made from, as it was when the build read it. */
export interface BuildSource {
  /** From the repository's root, with forward slashes. */
  readonly path: string
  readonly size: number
  readonly mtimeMs: number
  readonly sha256: string
  /** Modified so close to the build that its mtime cannot vouch for it: always hashed. */
  readonly racy?: true
}

export interface BuildManifest {
  readonly version: number
  readonly builtAt: string
  readonly sources: readonly BuildSource[]
  /** The files the build wrote into BUILD_DIR, by name. */
  readonly outputs: readonly string[]
}

export const BUILD_DIR: string
export const MANIFEST_FILE: string
export const MANIFEST_VERSION: number
export function sha256(bytes: Uint8Array | string): string
export function readManifest(root: string): BuildManifest | undefined
export function staleReason(root: string): string | undefined
