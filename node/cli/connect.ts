// How the CLI finds the daemon: `--api` and GRIDX_TOKEN / GRIDX_API first, then the files a
// running daemon writes into its data dir. When nothing works, the error says what was tried.
import { readApiToken, readDaemonInfo } from '../local/index.ts'

export interface ApiTarget {
  readonly url: string
  readonly token: string
}

export class CliError extends Error {
  /** Process exit code for this failure. */
  readonly exitCode: number

  constructor(message: string, exitCode = 1) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

export async function resolveApiTarget(options: {
  readonly api?: string | undefined
  readonly dataDir: string
  readonly env: NodeJS.ProcessEnv
}): Promise<ApiTarget> {
  const tried: string[] = []
  // An empty variable counts as unset, as shells export them that way.
  let url = options.api || options.env.GRIDX_API || undefined
  if (url !== undefined)
    tried.push(`the address ${url} from ${options.api ? '--api' : 'GRIDX_API'}`)
  if (url === undefined) {
    const info = await readDaemonInfo(options.dataDir)
    tried.push(`the daemon file in ${options.dataDir}`)
    url = info?.apiUrl
  }
  let token = options.env.GRIDX_TOKEN || undefined
  if (token === undefined) {
    tried.push(`the API token in ${options.dataDir}`)
    token = (await readApiToken(options.dataDir)) ?? undefined
  }
  if (url === undefined || token === undefined) {
    throw new CliError(
      `cannot find a running Grid-X daemon (tried ${tried.join(', ')}).\n` +
        'Start one with `gridx start` (or `npm start`), or point at one with --api URL and ' +
        'GRIDX_TOKEN; use --data-dir if the daemon keeps its data elsewhere.',
    )
  }
  return { url: url.replace(/\/+$/, ''), token }
}
