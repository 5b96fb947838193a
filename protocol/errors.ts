// Errors that cross the wire carry a code from this one table (JSON-RPC 2.0 reserves -32768 to
// -32000; ours sit in the server range -32099 to -32000) and are rebuilt into a typed
// GridxError on receipt.

export const ERROR_CODES = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  UNAUTHORIZED: -32001,
  RATE_LIMITED: -32002,
  INSUFFICIENT_FUNDS: -32003,
  NOT_FOUND: -32004,
  QUEUE_FULL: -32005,
  INVALID_STATE: -32006,
  TOO_LARGE: -32007,
  UNAVAILABLE: -32008,
  CONFLICT: -32009,
} as const

export type ErrorName = keyof typeof ERROR_CODES
export type ErrorCode = (typeof ERROR_CODES)[ErrorName]

const NAME_BY_CODE = new Map<number, ErrorName>(
  Object.entries(ERROR_CODES).map(([name, code]) => [code, name as ErrorName]),
)

/** Structured detail of an error: the field at fault, and values a client may show. */
export interface ErrorData {
  /** Dotted path of the request field at fault, e.g. `spec.memoryMb`. */
  readonly field?: string
  readonly [key: string]: unknown
}

/** The one error type that crosses the API. `name` is the table's key. */
export class GridxError extends Error {
  readonly code: ErrorCode
  readonly data: ErrorData | undefined

  constructor(name: ErrorName, message: string, data?: ErrorData) {
    super(message)
    this.name = name
    this.code = ERROR_CODES[name]
    this.data = data
  }

  /** Rebuilds a typed error from a JSON-RPC error object received over the wire. */
  static fromWire(error: { code: number; message: string; data?: unknown }): GridxError {
    const name = NAME_BY_CODE.get(error.code) ?? 'INTERNAL_ERROR'
    const data =
      typeof error.data === 'object' && error.data !== null ? (error.data as ErrorData) : undefined
    return new GridxError(name, error.message, data)
  }

  toWire(): { code: number; message: string; data?: ErrorData } {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data }
  }
}

export function isGridxError(error: unknown): error is GridxError {
  return error instanceof GridxError
}
