// The submit form's model: its fields, the spec they make, and where a refusal belongs.
import {
  JOB_CPUS_DEFAULT,
  JOB_MEMORY_MB_DEFAULT,
  JOB_PIDS_DEFAULT,
  JOB_TIMEOUT_S_DEFAULT,
  RUNTIMES,
} from '../../protocol/index.ts'
import type { JobFile, JobSpecInput, JobView, Runtime } from '../../protocol/index.ts'

export type FieldName = 'runtime' | 'code' | 'cpus' | 'memoryMb' | 'timeoutS' | 'pids'
/** Where an error goes: by its field, by the input files, else by the submit button. */
export type ErrorPlace = FieldName | 'inputs' | 'submit'

export interface SubmitFields {
  readonly runtime: Runtime
  readonly code: string
  readonly cpus: string
  readonly memoryMb: string
  readonly timeoutS: string
  readonly pids: string
}

export const DEFAULT_FIELDS: SubmitFields = {
  runtime: 'python',
  code: 'print("hello from Grid-X")\n',
  cpus: String(JOB_CPUS_DEFAULT),
  memoryMb: String(JOB_MEMORY_MB_DEFAULT),
  timeoutS: String(JOB_TIMEOUT_S_DEFAULT),
  pids: String(JOB_PIDS_DEFAULT),
}

const FIELD_NAMES: readonly string[] = ['runtime', 'code', 'cpus', 'memoryMb', 'timeoutS', 'pids']

/** The spec to send. Numbers are sent as typed (NaN as null): the daemon validates. */
export function specOf(
  fields: SubmitFields,
  code = fields.code,
  inputs: readonly JobFile[] = [],
): JobSpecInput {
  const number = (text: string) => (text.trim() === '' ? Number.NaN : Number(text))
  const json = (value: number) => (Number.isFinite(value) ? value : (null as unknown as number))
  return {
    runtime: fields.runtime,
    code,
    cpus: json(number(fields.cpus)),
    memoryMb: json(number(fields.memoryMb)),
    timeoutS: json(number(fields.timeoutS)),
    pids: json(number(fields.pids)),
    ...(inputs.length === 0 ? {} : { inputs: [...inputs] }),
  }
}

/** The form field an error's `data.field` (e.g. `spec.memoryMb`) names, else `submit`. */
export function errorPlace(field: unknown): ErrorPlace {
  if (typeof field !== 'string') return 'submit'
  const name = field.replace(/^spec\./, '').split('.')[0] ?? ''
  if (name === 'inputs') return 'inputs'
  return FIELD_NAMES.includes(name) ? (name as FieldName) : 'submit'
}

/** The runtime a file's name suggests, if any. */
export function runtimeOfFileName(name: string): Runtime | undefined {
  const extension = name.toLowerCase().split('.').pop()
  if (extension === 'py') return 'python'
  if (extension === 'js' || extension === 'mjs' || extension === 'cjs') return 'node'
  if (extension === 'sh' || extension === 'bash') return 'bash'
  return undefined
}

/** Fields that resubmit a job: its runtime and limits, and its code when known here. */
export function fieldsOfJob(job: JobView, code: string | undefined): SubmitFields {
  return {
    runtime: RUNTIMES.includes(job.runtime) ? job.runtime : 'python',
    code: code ?? '',
    cpus: String(job.spec.cpus),
    memoryMb: String(job.spec.memoryMb),
    timeoutS: String(job.spec.timeoutS),
    pids: String(job.spec.pids),
  }
}
