// The CLI's calls to the daemon: one-shot calls over HTTP, follows over the WebSocket.
import { GridxError } from '../../protocol/index.ts'
import type { Method, ParamsInput, Results } from '../../protocol/index.ts'
import { RpcClient } from '../../protocol/index.ts'
import { CliError, resolveApiTarget } from './connect.ts'
import { httpCall } from './http-call.ts'
import type { ApiTarget } from './connect.ts'
import type { CliContext, CommonOptions } from './context.ts'

export async function target(context: CliContext, options: CommonOptions): Promise<ApiTarget> {
  return resolveApiTarget({ api: options.api, dataDir: options.dataDir, env: context.env })
}

export async function call<M extends Method>(
  api: ApiTarget,
  method: M,
  params: ParamsInput<M>,
): Promise<Results[M]> {
  try {
    return (await httpCall(api.url, api.token, method, params as never)) as Results[M]
  } catch (error) {
    throw explain(error, api)
  }
}

export async function openSocket(api: ApiTarget): Promise<RpcClient> {
  const client = new RpcClient({ url: api.url, token: api.token })
  try {
    await client.connect()
  } catch (error) {
    client.close()
    throw explain(error, api)
  }
  return client
}

/** Turns transport failures into a sentence that says what to check. */
function explain(error: unknown, api: ApiTarget): Error {
  if (error instanceof GridxError) {
    if (error.name === 'UNAUTHORIZED') {
      return new CliError(
        `the daemon at ${api.url} refused the API token: check GRIDX_TOKEN or --data-dir`,
      )
    }
    return error
  }
  // fetch (the WebSocket's dial) puts the socket's code in `cause`; node:http throws it as is.
  const failure = error as { code?: string; cause?: { code?: string } }
  const cause = failure.cause?.code ?? failure.code ?? String(error)
  return new CliError(
    `cannot reach the Grid-X daemon at ${api.url} (${cause}). Is it running? ` +
      'Start it with `gridx start`, or check --api / GRIDX_API.',
  )
}
