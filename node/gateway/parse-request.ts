// Turns one received message into a validated call or a GridxError, before anything else in
// the daemon sees it. Order matters: JSON, then envelope, then method, then params, so the
// error names the first thing wrong and the backend is never reached with a bad request.
import type { z } from 'zod'
import {
  ERROR_ECHO_CHARS_MAX,
  GridxError,
  isMethod,
  paramsSchemas,
  requestEnvelopeSchema,
} from '../../protocol/index.ts'
import type { Method, Params } from '../../protocol/index.ts'

export type RequestId = string | number | null

/** A request that passed every check, with the params' defaults applied. */
export interface ValidCall<M extends Method = Method> {
  readonly id: string | number
  readonly method: M
  readonly params: Params<M>
}

export type ParsedRequest =
  | { readonly ok: true; readonly call: ValidCall }
  | { readonly ok: false; readonly id: RequestId; readonly error: GridxError }

/** The dotted path of the first issue, e.g. `spec.memoryMb`; unknown keys name the key. Keys
 * are the client's own input, so the path is cut at ERROR_ECHO_CHARS_MAX: an error names
 * the field, it does not send a huge key back (once in the message, once in the data). */
function issueField(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String)
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path.push(issue.keys[0]!)
  const field = path.join('.')
  if (field.length <= ERROR_ECHO_CHARS_MAX) return field
  return `${field.slice(0, ERROR_ECHO_CHARS_MAX - 1)}…`
}

function firstIssue(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0]
  if (issue === undefined) return { field: '', message: 'invalid' }
  const message = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message
  return { field: issueField(issue), message }
}

/** The id to answer with when the envelope is bad: the client's, if it is a usable one. */
function salvageId(value: unknown): RequestId {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const id = (value as Record<string, unknown>).id
  if (typeof id === 'string' && id.length <= 128) return id
  if (typeof id === 'number' && Number.isInteger(id)) return id
  return null
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch (error) {
    // Any JSON.parse failure is the client's malformed input, answered as PARSE_ERROR.
    if (error instanceof SyntaxError) return { ok: false }
    throw error
  }
}

/** Refuses invalid UTF-8 instead of replacing it with U+FFFD: a job's code or argument
 * must run as the client sent it, or not at all. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function decode(message: string | Uint8Array): string | undefined {
  if (typeof message === 'string') return message
  try {
    return utf8.decode(message)
  } catch (error) {
    if (error instanceof TypeError) return undefined
    throw error
  }
}

/** The id of a message refused before validation (rate limited), so that the client can
 * match the refusal to its call; JSON parsing only, no schema work. */
export function requestIdOf(message: string | Uint8Array): RequestId {
  const text = decode(message)
  const json = text === undefined ? { ok: false as const } : parseJson(text)
  return json.ok ? salvageId(json.value) : null
}

/** Validates one message: text, or the raw bytes of a body or frame (decoded as UTF-8). */
export function parseRequest(message: string | Uint8Array): ParsedRequest {
  const text = decode(message)
  if (text === undefined) {
    return fail(null, new GridxError('PARSE_ERROR', 'request is not valid UTF-8'))
  }
  const json = parseJson(text)
  if (!json.ok) return fail(null, new GridxError('PARSE_ERROR', 'request is not valid JSON'))
  const value = json.value
  if (Array.isArray(value)) {
    return fail(null, new GridxError('INVALID_REQUEST', 'batch requests are not supported'))
  }
  const id = salvageId(value)
  const envelope = requestEnvelopeSchema.safeParse(value)
  if (!envelope.success) {
    const { field, message } = firstIssue(envelope.error)
    const where = field === '' ? 'request' : field
    return fail(id, new GridxError('INVALID_REQUEST', `${where}: ${message}`, { field: where }))
  }
  const { method } = envelope.data
  if (!isMethod(method)) {
    return fail(id, new GridxError('METHOD_NOT_FOUND', `no method ${method}`, { method }))
  }
  // Absent params mean {}; a present null is not a structured value and is refused.
  const given = envelope.data.params === undefined ? {} : envelope.data.params
  const params = paramsSchemas[method].safeParse(given)
  if (!params.success) {
    const { field, message } = firstIssue(params.error)
    const where = field === '' ? 'params' : field
    return fail(id, new GridxError('INVALID_PARAMS', `${where}: ${message}`, { field: where }))
  }
  return { ok: true, call: { id: envelope.data.id, method, params: params.data } }
}

function fail(id: RequestId, error: GridxError): ParsedRequest {
  return { ok: false, id, error }
}
