// One error class per failure of the executor, each with `name` set so callers and logs can
// tell them apart without parsing messages (js-libp2p's errors.ts is the model).

/** No Docker engine answers on any socket we know of. */
export class EngineUnavailableError extends Error {
  static readonly NAME = 'EngineUnavailableError'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = EngineUnavailableError.NAME
  }
}

/** The runtime image a job needs is not on this engine. */
export class ImageMissingError extends Error {
  static readonly NAME = 'ImageMissingError'
  readonly image: string
  constructor(image: string, message: string) {
    super(message)
    this.name = ImageMissingError.NAME
    this.image = image
  }
}

/** The engine refused or failed a call while running a job (create, start, attach, wait). */
export class EngineCallError extends Error {
  static readonly NAME = 'EngineCallError'
  readonly operation: string
  constructor(operation: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = EngineCallError.NAME
    this.operation = operation
  }
}

/** A job asks for more than this executor has (CPUs beyond the machine's, for example). */
export class CapacityExceededError extends Error {
  static readonly NAME = 'CapacityExceededError'
  constructor(message: string) {
    super(message)
    this.name = CapacityExceededError.NAME
  }
}

/** `run()` was called before `start()` or after `stop()`: a programmer error. */
export class ExecutorNotRunningError extends Error {
  static readonly NAME = 'ExecutorNotRunningError'
  constructor(message: string) {
    super(message)
    this.name = ExecutorNotRunningError.NAME
  }
}

/** Containers that the orphan sweep or `stop()` could not remove within their bound. */
export class ContainerCleanupError extends Error {
  static readonly NAME = 'ContainerCleanupError'
  readonly containerIds: readonly string[]
  constructor(containerIds: readonly string[], message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = ContainerCleanupError.NAME
    this.containerIds = containerIds
  }
}

/** A message for any thrown value, for logs and for the sentence a user reads. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
