// The input files of the submit form: what the browser picked, checked against a job's bounds
// before a byte is uploaded (the daemon checks again), and how a new pick joins the list.
import {
  fileNameSchema,
  fileTreeProblem,
  JOB_INPUT_FILE_BYTES_MAX,
  JOB_INPUTS_BYTES_MAX,
  JOB_INPUTS_MAX,
} from '../../protocol/index.ts'

/** A file as the form lists it: its name under inputs/ and its size. */
export interface NamedSize {
  readonly name: string
  readonly size: number
}

export interface InputsProblems {
  /** Each refused file's name and why. */
  readonly files: ReadonlyMap<string, string>
  /** What is wrong with the set as a whole (count, total, a clash of names), or null. */
  readonly overall: string | null
}

/** Why these files cannot be a job's inputs; no problems when they can. */
export function inputsProblems(files: readonly NamedSize[]): InputsProblems {
  const refused = new Map<string, string>()
  let total = 0
  for (const file of files) {
    total += file.size
    const named = fileNameSchema.safeParse(file.name)
    if (!named.success) {
      refused.set(file.name, named.error.issues[0]?.message ?? 'not a file name')
    } else if (file.size > JOB_INPUT_FILE_BYTES_MAX) {
      refused.set(
        file.name,
        `${file.size} bytes; an input file may be at most ${JOB_INPUT_FILE_BYTES_MAX} bytes`,
      )
    }
  }
  return { files: refused, overall: setProblem(files, total) }
}

function setProblem(files: readonly NamedSize[], total: number): string | null {
  if (files.length > JOB_INPUTS_MAX) {
    return `${files.length} files; a job may have at most ${JOB_INPUTS_MAX} inputs`
  }
  if (total > JOB_INPUTS_BYTES_MAX) {
    const most = JOB_INPUTS_BYTES_MAX
    return `the inputs total ${total} bytes; a job's may total at most ${most} bytes`
  }
  return fileTreeProblem(files.map((file) => file.name))
}

/** The list after a pick: a picked name already listed replaces the listed file in place. */
export function withPicked<T extends NamedSize>(listed: readonly T[], picked: readonly T[]): T[] {
  const byName = new Map(picked.map((file) => [file.name, file]))
  const kept = listed.map((file) => byName.get(file.name) ?? file)
  const listedNames = new Set(listed.map((file) => file.name))
  return [...kept, ...picked.filter((file) => !listedNames.has(file.name))]
}
