// The files of a job in `gridx status`: each input and output with its size and CID.
import type { JobFile, JobView } from '../../protocol/index.ts'

/** Lines of `gridx status` for a job's files: name, size and CID of each. */
export function fileLines(job: JobView): [string, string][] {
  const listed = (label: string, files: readonly JobFile[]): [string, string][] =>
    files.map((file, at) => [
      at === 0 ? label : '',
      `${file.name}  ${file.size} bytes  ${file.cid}`,
    ])
  const inputs = job.spec.inputs ?? []
  const outputs = job.result?.outputs ?? []
  return [
    ...listed('inputs', inputs),
    ...(job.result === null
      ? []
      : outputs.length === 0
        ? [['outputs', 'none'] as [string, string]]
        : listed('outputs', outputs)),
  ]
}
