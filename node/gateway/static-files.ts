// Serves the web app's files. Paths are decoded, normalised and resolved under the root, and
// the real path (after symlinks) must still be under the real root: `..`, encoded slashes,
// NUL bytes and dotfiles are refused. Unknown paths without an extension get index.html so
// the app's client-side routes survive a reload.
import { createReadStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, isAbsolute, join, relative, sep } from 'node:path'

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
}

const IMMUTABLE = 'public, max-age=31536000, immutable'
const REVALIDATE = 'no-cache'
/** Vite names built assets `name-<hash>.ext`: their content never changes under that name. */
const HASHED_NAME = /[.-][A-Za-z0-9_-]{8,}\.[a-z0-9]+$/

/** Cache policy: hashed assets forever; the entry page, the service worker and anything
 * else revalidate, so a new release is seen on the next load. */
export function cacheControl(relativePath: string): string {
  const name = relativePath.split('/').pop() ?? ''
  if (name === 'index.html' || /^(sw|service-worker)\.js$/.test(name)) return REVALIDATE
  return relativePath.startsWith('assets/') && HASHED_NAME.test(name) ? IMMUTABLE : REVALIDATE
}

/** The path under the root that a URL path names, or undefined when it may not be served. */
export function safeRelativePath(urlPath: string): string | undefined {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch (error) {
    if (error instanceof URIError) return undefined
    throw error
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined
  const segments = decoded.split('/').filter((segment) => segment !== '')
  if (segments.some((segment) => segment.startsWith('.'))) return undefined
  return segments.length === 0 ? 'index.html' : segments.join('/')
}

export class StaticFiles {
  readonly #root: string
  #realRoot: string | undefined

  constructor(root: string) {
    this.#root = root
  }

  /** Serves GET and HEAD; answers 404 when nothing fits. */
  async serve(request: IncomingMessage, response: ServerResponse, urlPath: string): Promise<void> {
    const path = safeRelativePath(urlPath)
    const file = path === undefined ? undefined : await this.#resolve(path)
    const fallback = path !== undefined && file === undefined && extname(path) === ''
    const chosen = fallback ? await this.#resolve('index.html') : file
    if (chosen === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found')
      return
    }
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(chosen.path)] ?? 'application/octet-stream',
      'content-length': chosen.bytes,
      'cache-control': cacheControl(chosen.relativePath),
      'x-content-type-options': 'nosniff',
    })
    if (request.method === 'HEAD') {
      response.end()
      return
    }
    await pipeFile(chosen.path, response)
  }

  async #resolve(path: string) {
    try {
      const root = (this.#realRoot ??= await realpath(this.#root))
      const real = await realpath(join(root, path))
      const inside = relative(root, real)
      if (inside.startsWith('..') || isAbsolute(inside)) return undefined
      const info = await stat(real)
      if (!info.isFile()) return undefined
      return { path: real, bytes: info.size, relativePath: inside.split(sep).join('/') }
    } catch (error) {
      if (isMissing(error)) return undefined
      throw error
    }
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG'
}

async function pipeFile(path: string, response: ServerResponse): Promise<void> {
  try {
    // pipeline destroys the file stream when the response ends early (a client that goes
    // away mid-download); pipe() would leave the file open for good.
    await pipeline(createReadStream(path), response)
  } catch {
    // Headers are out already: a read failure or a gone client can only cut the response
    // short, and pipeline has destroyed both streams.
    response.destroy()
  }
}
