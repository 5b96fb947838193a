// Serves the web app's files. Paths are decoded, normalised and resolved under the root, and
// the real path (after symlinks) must still be under the real root: `..`, encoded slashes,
// NUL bytes and dotfiles are refused. Unknown paths without an extension get index.html so
// the app's client-side routes survive a reload. The build writes `.br` and `.gz` beside each
// text asset; the variant the client weighs highest is sent with `Vary: Accept-Encoding`, so a
// cache never hands brotli to a client that did not ask for it.
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
/** Vite names built assets `name-<hash>.ext`, the hash 8 characters of base64url: their
 * content never changes under that name. */
const HASHED_NAME = /-([A-Za-z0-9_-]{8})\.[a-z0-9]+$/
/** A name part of lowercase letters only is a word (`-settings.js`), not a hash. About one
 * hash in 1,300 is all lowercase too, and is then only revalidated; a word taken for a hash
 * would be served from caches for a year after its file changed. */
const WORD = /^[a-z]+$/

/** The precompressed variants the build writes, in the order they are preferred when the
 * client weighs them the same: brotli is smaller than gzip for the same text. */
export const ENCODINGS = ['br', 'gzip'] as const
export type Encoding = (typeof ENCODINGS)[number]
const VARIANT_SUFFIX: Readonly<Record<Encoding, string>> = { br: '.br', gzip: '.gz' }
/** A variant is not a file of the app: asked for by its own name it does not exist. */
const VARIANT_NAME = /\.(br|gz)$/
/** RFC 9110 12.4.2: a qvalue is 0 to 1 with at most three decimals. */
const QVALUE = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/

/** The coding to send (RFC 9110 12.5.3): the highest weighted among those available, br
 * before gzip on a tie, `*` covering codings not named; identity when none has a weight above
 * 0. A missing header means the client takes anything, but identity is then the safe pick. */
export function chooseEncoding(
  acceptEncoding: string | undefined,
  available: readonly Encoding[],
): Encoding | 'identity' {
  const weights = new Map<string, number>()
  for (const member of (acceptEncoding ?? '').split(',')) {
    const [coding = '', ...parameters] = member.split(';').map((part) => part.trim())
    if (coding === '') continue
    let weight = 1
    for (const parameter of parameters) {
      const [name = '', value = ''] = parameter.split('=').map((part) => part.trim())
      if (name.toLowerCase() !== 'q') continue
      weight = QVALUE.test(value) ? Number(value) : 0
    }
    weights.set(coding.toLowerCase(), weight)
  }
  let chosen: Encoding | 'identity' = 'identity'
  let best = 0
  for (const encoding of ENCODINGS) {
    if (!available.includes(encoding)) continue
    const weight = weights.get(encoding) ?? weights.get('*') ?? 0
    if (weight > best) [chosen, best] = [encoding, weight]
  }
  return chosen
}

/** Cache policy: hashed assets forever; the entry page, the service worker and anything
 * else revalidate, so a new release is seen on the next load. */
export function cacheControl(relativePath: string): string {
  const name = relativePath.split('/').pop() ?? ''
  if (name === 'index.html' || /^(sw|service-worker)\.js$/.test(name)) return REVALIDATE
  const hash = HASHED_NAME.exec(name)?.[1]
  const hashed = hash !== undefined && !WORD.test(hash)
  return relativePath.startsWith('assets/') && hashed ? IMMUTABLE : REVALIDATE
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

interface ResolvedFile {
  /** The real path on disk, after symlinks. */
  readonly path: string
  readonly bytes: number
  /** The path under the root, with forward slashes, that names the cache policy. */
  readonly relativePath: string
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
    const file =
      path === undefined || VARIANT_NAME.test(path) ? undefined : await this.#resolve(path)
    const fallback = path !== undefined && file === undefined && extname(path) === ''
    const chosen = fallback ? await this.#resolve('index.html') : file
    if (chosen === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found')
      return
    }
    const variant = await this.#variant(chosen.relativePath, request.headers['accept-encoding'])
    const sent = variant ?? chosen
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(chosen.path)] ?? 'application/octet-stream',
      'content-length': sent.bytes,
      ...(variant === undefined ? {} : { 'content-encoding': variant.encoding }),
      vary: 'Accept-Encoding',
      'cache-control': cacheControl(chosen.relativePath),
      'x-content-type-options': 'nosniff',
    })
    if (request.method === 'HEAD') {
      response.end()
      return
    }
    await pipeFile(sent.path, response)
  }

  /** The precompressed file to send instead, when one was built and the client takes it. */
  async #variant(
    relativePath: string,
    acceptEncoding: string | undefined,
  ): Promise<(ResolvedFile & { readonly encoding: Encoding }) | undefined> {
    const found = new Map<Encoding, ResolvedFile>()
    for (const encoding of ENCODINGS) {
      // Only the codings the client takes at all are looked for on disk.
      if (chooseEncoding(acceptEncoding, [encoding]) === 'identity') continue
      const file = await this.#resolve(relativePath + VARIANT_SUFFIX[encoding])
      if (file !== undefined) found.set(encoding, file)
    }
    const encoding = chooseEncoding(acceptEncoding, [...found.keys()])
    if (encoding === 'identity') return undefined
    const file = found.get(encoding)
    return file === undefined ? undefined : { ...file, encoding }
  }

  async #resolve(path: string): Promise<ResolvedFile | undefined> {
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
