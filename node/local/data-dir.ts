// The daemon's data dir: its key, its ledger, its API token, and where the CLI finds it.
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

export const API_TOKEN_FILE = 'api-token'
export const DAEMON_FILE = 'daemon.json'
export const LEDGER_DIR = 'ledger'

/** What a running daemon publishes for the CLI on this machine. */
export interface DaemonInfo {
  readonly apiUrl: string
  readonly pid: number
  readonly peerId: string
  readonly startedAt: string
}

export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  return resolve(env.GRIDX_DATA_DIR ?? join(homedir(), '.gridx'))
}

export async function ensureDataDir(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
}

/** The API token, created on first start (like Jupyter's), readable by its owner only. */
export async function loadOrCreateApiToken(dataDir: string): Promise<string> {
  const path = join(dataDir, API_TOKEN_FILE)
  try {
    const token = (await readFile(path, 'utf8')).trim()
    if (token.length >= 16) return token
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const token = randomBytes(24).toString('base64url')
  await writeFile(path, `${token}\n`, { mode: 0o600 })
  return token
}

export async function writeDaemonInfo(dataDir: string, info: DaemonInfo): Promise<void> {
  await writeFile(join(dataDir, DAEMON_FILE), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 })
}

export async function removeDaemonInfo(dataDir: string): Promise<void> {
  await rm(join(dataDir, DAEMON_FILE), { force: true })
}

export async function readDaemonInfo(dataDir: string): Promise<DaemonInfo | null> {
  try {
    return JSON.parse(await readFile(join(dataDir, DAEMON_FILE), 'utf8')) as DaemonInfo
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

export async function readApiToken(dataDir: string): Promise<string | null> {
  try {
    return (await readFile(join(dataDir, API_TOKEN_FILE), 'utf8')).trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}
