// What `gridx submit --input` names: a file (named by its base name), a directory (its files,
// under the directory's base name) or a glob (`data/*.csv`, `logs/**/*.txt`: the files it
// matches, named by their path below the glob's first wildcard). Bounds are checked here too,
// so a user learns of a file too big before anything is uploaded.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { opendir, stat } from 'node:fs/promises'
import { basename, join, relative, sep } from 'node:path'
import {
  cidOfSha256,
  fileTreeProblem,
  JOB_INPUT_FILE_BYTES_MAX,
  JOB_INPUTS_BYTES_MAX,
  JOB_INPUTS_MAX,
} from '../../protocol/index.ts'
import { CliError } from './connect.ts'

export interface LocalFile {
  /** Its name under inputs/. */
  readonly name: string
  readonly path: string
  readonly size: number
}

const WILDCARD = /[*?[]/

/** The files `patterns` name, checked against the bounds of a job's inputs. */
export async function expandInputs(patterns: readonly string[]): Promise<LocalFile[]> {
  const files: LocalFile[] = []
  for (const pattern of patterns) {
    const found = WILDCARD.test(pattern) ? await globbed(pattern) : await named(pattern)
    if (found.length === 0) throw new CliError(`--input ${pattern} matches no file`)
    files.push(...found)
    if (files.length > JOB_INPUTS_MAX) {
      throw new CliError(`a job may have ${JOB_INPUTS_MAX} input files; --input names more`)
    }
  }
  const problem = fileTreeProblem(files.map((file) => file.name))
  if (problem !== null) throw new CliError(`the inputs clash: ${problem}`)
  let total = 0
  for (const file of files) {
    if (file.size > JOB_INPUT_FILE_BYTES_MAX) {
      throw new CliError(
        `${file.path} is ${file.size} bytes; an input file may be ${JOB_INPUT_FILE_BYTES_MAX}`,
      )
    }
    total += file.size
  }
  if (total > JOB_INPUTS_BYTES_MAX) {
    throw new CliError(`the inputs total ${total} bytes; a job's may total ${JOB_INPUTS_BYTES_MAX}`)
  }
  return files
}

async function named(path: string): Promise<LocalFile[]> {
  const found = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read --input ${path}: ${error.code ?? error.message}`)
  })
  if (found.isFile()) return [{ name: basename(path), path, size: found.size }]
  if (!found.isDirectory()) throw new CliError(`--input ${path} is not a file or a directory`)
  const files: LocalFile[] = []
  for await (const file of walk(path)) {
    files.push({ ...file, name: `${basename(path)}/${file.name}` })
    if (files.length > JOB_INPUTS_MAX) break
  }
  return files
}

async function globbed(pattern: string): Promise<LocalFile[]> {
  const segments = pattern.split('/')
  const first = segments.findIndex((segment) => WILDCARD.test(segment))
  const base = segments.slice(0, first).join('/') || '.'
  const matcher = globRegExp(segments.slice(first).join('/'))
  const files: LocalFile[] = []
  for await (const file of walk(base)) {
    if (!matcher.test(file.name)) continue
    files.push(file)
    if (files.length > JOB_INPUTS_MAX) break
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : 1))
}

/** `*` and `?` within a segment, `**` across segments, `[…]` as a set. */
function globRegExp(glob: string): RegExp {
  let source = ''
  for (let at = 0; at < glob.length; at++) {
    const char = glob[at] as string
    if (char === '*' && glob[at + 1] === '*') {
      source += glob[at + 2] === '/' ? '(?:.*/)?' : '.*'
      at += glob[at + 2] === '/' ? 2 : 1
    } else if (char === '*') source += '[^/]*'
    else if (char === '?') source += '[^/]'
    else if (char === '[') {
      const end = glob.indexOf(']', at)
      if (end < 0) source += '\\['
      else {
        source += `[${glob.slice(at + 1, end).replace(/\\/g, '\\\\')}]`
        at = end
      }
    } else source += char.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${source}$`)
}

/** Regular files under `dir`, named by their path below it with `/`. */
async function* walk(dir: string, root = dir): AsyncGenerator<LocalFile> {
  for await (const entry of await opendir(dir)) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* walk(path, root)
    else if (entry.isFile()) {
      const name = relative(root, path).split(sep).join('/')
      yield { name, path, size: (await stat(path)).size }
    }
  }
}

/** The CID of a file's bytes, read as a stream. */
export async function fileCid(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return cidOfSha256(hash.digest('hex'))
}
