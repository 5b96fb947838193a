// Finding the local Docker engine: DOCKER_HOST when given, else the sockets Docker Engine,
// Docker Desktop and rootless Docker listen on, in that order.

import { access, constants as fsConstants } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import Docker from 'dockerode'
import { ENGINE_CONNECT_TIMEOUT_MS } from './constants.ts'
import { EngineUnavailableError, errorMessage } from './errors.ts'

/** Unix sockets tried when DOCKER_HOST is not set. */
export function candidateSockets(): string[] {
  const home = homedir()
  const uid = typeof process.getuid === 'function' ? process.getuid() : null
  return [
    '/var/run/docker.sock',
    join(home, '.docker', 'run', 'docker.sock'),
    join(home, '.docker', 'desktop', 'docker.sock'),
    ...(uid === null ? [] : [`/run/user/${uid}/docker.sock`]),
  ]
}

/** Client options for a DOCKER_HOST value (unix://PATH or tcp://HOST:PORT). */
export function dockerHostOptions(dockerHost: string): Docker.DockerOptions {
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) }
  const url = new URL(dockerHost.includes('://') ? dockerHost : `tcp://${dockerHost}`)
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:') {
    throw new EngineUnavailableError(
      `DOCKER_HOST=${dockerHost} is not supported here; use unix:///path/to/docker.sock or tcp://host:port`,
    )
  }
  return { protocol: 'http', host: url.hostname, port: Number(url.port || 2375) }
}

export interface EngineConnection {
  readonly docker: Docker
  /** Where the engine was found, for logs and for the status sentence. */
  readonly address: string
}

/** The fields of the engine's `info` the executor reads. */
export interface EngineInfo {
  readonly NCPU: number
  readonly MemTotal: number
  readonly CgroupVersion?: string
  readonly CgroupDriver?: string
  readonly ServerVersion?: string
}

type SignalOptions = { abortSignal: AbortSignal }

// dockerode passes abortSignal through for these calls, but its type definitions omit the
// options argument; these wrappers state the bound and keep the cast in one place.

/** GET /info, bounded by `timeoutMs`. */
export function engineInfo(docker: Docker, timeoutMs: number): Promise<EngineInfo> {
  const info = docker.info as unknown as (options: SignalOptions) => Promise<EngineInfo>
  return info.call(docker, { abortSignal: AbortSignal.timeout(timeoutMs) })
}

/** GET /images/{name}/json, bounded by `timeoutMs`. */
export function inspectImage(docker: Docker, image: string, timeoutMs: number): Promise<unknown> {
  const handle = docker.getImage(image)
  const inspect = handle.inspect as unknown as (options: SignalOptions) => Promise<unknown>
  return inspect.call(handle, { abortSignal: AbortSignal.timeout(timeoutMs) })
}

async function ping(docker: Docker): Promise<void> {
  const call = docker.ping as unknown as (options: SignalOptions) => Promise<unknown>
  await call.call(docker, { abortSignal: AbortSignal.timeout(ENGINE_CONNECT_TIMEOUT_MS) })
}

/**
 * Connects to the first engine that answers a ping. `dockerHost` is the caller's DOCKER_HOST
 * (the composition root reads the environment, not this module).
 */
export async function connectEngine(dockerHost: string | undefined): Promise<EngineConnection> {
  if (dockerHost !== undefined && dockerHost !== '') {
    const docker = new Docker(dockerHostOptions(dockerHost))
    try {
      await ping(docker)
    } catch (error) {
      throw new EngineUnavailableError(
        `no Docker engine answers at DOCKER_HOST=${dockerHost} (${errorMessage(error)}); ` +
          'start it, or unset DOCKER_HOST to use the local socket',
        { cause: error },
      )
    }
    return { docker, address: dockerHost }
  }
  const tried: string[] = []
  for (const socketPath of candidateSockets()) {
    try {
      await access(socketPath, fsConstants.R_OK | fsConstants.W_OK)
    } catch (error) {
      tried.push(`${socketPath} (${(error as NodeJS.ErrnoException).code ?? 'unreachable'})`)
      continue
    }
    const docker = new Docker({ socketPath })
    try {
      await ping(docker)
      return { docker, address: `unix://${socketPath}` }
    } catch (error) {
      tried.push(`${socketPath} (${errorMessage(error)})`)
    }
  }
  throw new EngineUnavailableError(
    `no Docker engine found (tried ${tried.join(', ')}); this peer cannot run jobs. ` +
      'Install and start Docker with scripts/setup.sh (or `npm start`), or set DOCKER_HOST',
  )
}
