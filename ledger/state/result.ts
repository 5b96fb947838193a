import type { ErrorName } from '../../protocol/index.ts'
import type { ApplyResult } from './types.ts'

export function ok(value: unknown): ApplyResult {
  return { ok: true, value }
}

export function fail(
  name: ErrorName,
  message: string,
  data?: Readonly<Record<string, unknown>>,
): ApplyResult {
  return data === undefined
    ? { ok: false, error: { name, message } }
    : { ok: false, error: { name, message, data } }
}
