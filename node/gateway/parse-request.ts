// Turns one received message into validated calls or GridxErrors, before anything else in
// the daemon sees it. A message is one request or a batch of them (JSON-RPC 2.0 section 6).
// Order matters: UTF-8, JSON, then per request the envelope, the method and the params, so the
// error names the first thing wrong and the backend is never reached with a bad request.
import type { z } from 'zod'
import {
  ERROR_ECHO_CHARS_MAX,
  GridxError,
  isMethod,
  paramsSchemas,
  requestEnvelopeSchema,
  RPC_BATCH_REQUESTS_MAX,
} from '../../protocol/index.ts'
import type { Method, Params } from '../../protocol/index.ts'

export type RequestId = string | number | null

/** A request that passed every check, with the params' defaults applied. */
export interface ValidCall<M extends Method = Method> {
  /** Absent for a notification, which runs and is never answered; null is an id like any. */
  readonly id: RequestId | undefined
  readonly method: M
  readonly params: Params<M>
}

export type ParsedRequest =
  | { readonly ok: true; readonly call: ValidCall }
  | {
      readonly ok: false
      /** The id to answer with: the client's when it was a usable one, else null. */
      readonly id: RequestId
      /** A valid envelope without an id whose method or params are wrong: it gets no answer,
       * as every notification. An invalid envelope is answered, with a null id if need be. */
      readonly notification: boolean
      /** The method the client named, so that metrics count a refused call under it. */
      readonly method: string | undefined
      readonly error: GridxError
    }

/** One received message: a request, a batch, or a refusal of the whole (bad UTF-8 or JSON,
 * an empty or overlong batch), which is answered with one response and a null id. */
export type ParsedMessage =
  | { readonly kind: 'single'; readonly request: ParsedRequest }
  | { readonly kind: 'batch'; readonly requests: readonly ParsedRequest[] }
  | { readonly kind: 'refused'; readonly error: GridxError }

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

/** The id to answer with when the envelope is bad: the client's, if it is a usable one. An
 * integer past 2^53 is not: it was rounded in parsing, and echoing it would name another. */
function salvageId(value: Record<string, unknown>): RequestId {
  const id = value.id
  if (typeof id === 'string' && id.length <= 128) return id
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id
  return null
}

/** The method the client named, if it named one in the table. */
function salvageMethod(value: Record<string, unknown>): Method | undefined {
  return typeof value.method === 'string' && isMethod(value.method) ? value.method : undefined
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

/** Validates one message: text, or the raw bytes of a body or frame (decoded as UTF-8). */
export function parseMessage(message: string | Uint8Array): ParsedMessage {
  const text = decode(message)
  if (text === undefined) {
    return { kind: 'refused', error: new GridxError('PARSE_ERROR', 'request is not valid UTF-8') }
  }
  const json = parseJson(text)
  if (!json.ok) {
    return { kind: 'refused', error: new GridxError('PARSE_ERROR', 'request is not valid JSON') }
  }
  if (!Array.isArray(json.value)) return { kind: 'single', request: validateRequest(json.value) }
  const batch: unknown[] = json.value
  if (batch.length === 0) {
    const error = new GridxError('INVALID_REQUEST', 'an empty batch holds no request', {
      field: 'batch',
    })
    return { kind: 'refused', error }
  }
  if (batch.length > RPC_BATCH_REQUESTS_MAX) {
    const error = new GridxError(
      'INVALID_REQUEST',
      `a batch holds at most ${RPC_BATCH_REQUESTS_MAX} requests`,
      { field: 'batch', batchRequestsMax: RPC_BATCH_REQUESTS_MAX },
    )
    return { kind: 'refused', error }
  }
  return { kind: 'batch', requests: batch.map(validateRequest) }
}

/** Validates one request of a message, parsed from JSON. */
export function validateRequest(value: unknown): ParsedRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const error = new GridxError('INVALID_REQUEST', 'request: must be an object', {
      field: 'request',
    })
    return { ok: false, id: null, notification: false, method: undefined, error }
  }
  const record = value as Record<string, unknown>
  const envelope = requestEnvelopeSchema.safeParse(value)
  if (!envelope.success) {
    const { field, message } = firstIssue(envelope.error)
    const where = field === '' ? 'request' : field
    const error = new GridxError('INVALID_REQUEST', `${where}: ${message}`, { field: where })
    const method = salvageMethod(record)
    return { ok: false, id: salvageId(record), notification: false, method, error }
  }
  const { id, method } = envelope.data
  const refused = (error: GridxError): ParsedRequest => {
    return { ok: false, id: id ?? null, notification: id === undefined, method, error }
  }
  if (!isMethod(method)) {
    return refused(new GridxError('METHOD_NOT_FOUND', `no method ${method}`, { method }))
  }
  // Absent params mean {}. Our methods take named params: an array is refused here.
  const given = envelope.data.params === undefined ? {} : envelope.data.params
  const params = paramsSchemas[method].safeParse(given)
  if (!params.success) {
    const { field, message } = firstIssue(params.error)
    const where = field === '' ? 'params' : field
    return refused(new GridxError('INVALID_PARAMS', `${where}: ${message}`, { field: where }))
  }
  return { ok: true, call: { id, method, params: params.data } }
}
