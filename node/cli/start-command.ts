// gridx start: runs this machine's peer until SIGINT or SIGTERM, then shuts down gracefully.
import { Command, Option } from 'commander'
import {
  RATE_TOKEN_PER_S,
  RATE_TOKEN_PER_S_MAX,
  RATE_TOKEN_PER_S_MIN,
  SHUTDOWN_DRAIN_MS,
} from '../../protocol/index.ts'
import { VERSION } from '../local/index.ts'
import { mkdir } from 'node:fs/promises'
import { CliError } from './connect.ts'
import type { CliContext, CommonOptions } from './context.ts'
import { createDaemonLogger } from './logger.ts'
import { parseMeshStartOptions } from './mesh-start-options.ts'
import type { MeshStartFlags } from './mesh-start-options.ts'

interface StartOptions extends CommonOptions, MeshStartFlags {
  readonly apiHost: string
  readonly apiPort: string
  readonly p2pHost: string
  readonly p2pPort: string
  readonly p2pWsPort?: string
  readonly allowOrigin: string[]
  readonly executor: boolean
  readonly noopExecutor?: true
  readonly logLevel: string
  readonly drainTimeout: string
  readonly tokenRate?: string
}

function port(value: string, flag: string): number {
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) {
    throw new CliError(`${flag} takes a port number from 0 to 65535, not "${value}"`)
  }
  return parsed
}

/** What `start` takes from the daemon's areas, loaded by its action: every other command
 * starts faster without libp2p and the gateway. */
type Lazy = Pick<typeof import('../gateway/index.ts'), 'parseOrigin'> &
  Pick<typeof import('../mesh/index.ts'), 'defaultWsPort'>

function allowedOrigin(value: string, { parseOrigin }: Lazy): string {
  try {
    return parseOrigin(value)
  } catch (error) {
    throw new CliError(`--allow-origin: ${(error as Error).message}`)
  }
}

/** `--token-rate`: whole requests a second, within the bounds in protocol/limits.ts. */
function tokenRate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (!/^\d+$/.test(value) || parsed < RATE_TOKEN_PER_S_MIN || parsed > RATE_TOKEN_PER_S_MAX) {
    throw new CliError(
      `--token-rate takes requests a second from ${RATE_TOKEN_PER_S_MIN} to ` +
        `${RATE_TOKEN_PER_S_MAX}, not "${value}"`,
    )
  }
  return parsed
}

function seconds(value: string, flag: string): number {
  const parsed = Number(value)
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 3600) {
    throw new CliError(`${flag} takes seconds from 0 to 3600, not "${value}"`)
  }
  return parsed
}

export function startCommand(context: CliContext, decorate: (c: Command) => Command): Command {
  return (
    decorate(new Command('start'))
      .description('run this machine’s peer: a new mesh, or one it joins, with its API and web app')
      .option('--api-host <host>', 'address the API and web app listen on', '127.0.0.1')
      .option('--api-port <port>', 'port of the API and web app', '7070')
      .option('--p2p-host <host>', 'address the peer-to-peer port listens on', '0.0.0.0')
      .option('--p2p-port <port>', 'peer-to-peer TCP port', '4001')
      .option(
        '--p2p-ws-port <port>',
        'peer-to-peer WebSocket port (default: the peer-to-peer port + 1)',
      )
      .option(
        '--allow-origin <origin>',
        'a web origin besides the daemon’s own that may use the API, e.g. a proxy’s ' +
          'https://gridx.example (repeatable)',
        (value: string, previous: string[]) => [...previous, value],
        [] as string[],
      )
      .option('--no-executor', 'do not run jobs on this machine')
      // For tests and benchmarks only, hence not in --help: see noopExecutorWanted.
      .addOption(new Option('--noop-executor', 'also run noop jobs, in-process').hideHelp())
      .option(
        '--drain-timeout <s>',
        'on stop, how long running jobs may finish before they are handed back',
        String(SHUTDOWN_DRAIN_MS / 1000),
      )
      .option(
        '--token-rate <n>',
        `API requests a second the API token may make, in bursts of twice that ` +
          `(default ${RATE_TOKEN_PER_S})`,
      )
      .option('--join <host[:port]>', 'join the mesh of the member at this address (any member)')
      .option('--token <token>', 'the join token for --join, from `gridx token` on a member')
      .option('--voters <n>', 'voters a new mesh keeps: 1, 3 or 5 (default 3)')
      .option('--join-grant <credits>', 'credits a new mesh grants each peer’s owner (default 100)')
      .option('--raft-tick-ms <ms>', 'milliseconds per Raft tick (default 10), for slow links')
      .option(
        '--election-ticks <n>',
        'Raft ticks without a coordinator before an election (default 30)',
      )
      .addOption(
        new Option('--log-level <level>', 'detail of daemon.log')
          .choices(['debug', 'info', 'warn', 'error'])
          .default('info'),
      )
      .action(async (options: StartOptions) => {
        const [{ parseOrigin }, { defaultWsPort }] = await Promise.all([
          import('../gateway/index.ts'),
          import('../mesh/index.ts'),
        ])
        const lazy: Lazy = { parseOrigin, defaultWsPort }
        // Checked before anything is written, so that a bad flag leaves no trace.
        const meshOptions = await parseMeshStartOptions(options)
        refuseSharedPorts(options, lazy)
        const noop = noopExecutorWanted(options, context.env)
        const tokenRatePerS = tokenRate(options.tokenRate)
        await mkdir(options.dataDir, { recursive: true, mode: 0o700 })
        const logger = await createDaemonLogger(options.dataDir, context.stderr, options.logLevel)
        // Loaded here, not at the top: client commands start faster without libp2p and LevelDB.
        const { Daemon } = await import('../daemon/index.ts')
        const daemon = new Daemon({
          dataDir: options.dataDir,
          apiHost: options.apiHost,
          apiPort: port(options.apiPort, '--api-port'),
          p2pHost: options.p2pHost,
          p2pPort: port(options.p2pPort, '--p2p-port'),
          ...(options.p2pWsPort === undefined
            ? {}
            : { p2pWsPort: port(options.p2pWsPort, '--p2p-ws-port') }),
          allowOrigins: options.allowOrigin.map((origin) => allowedOrigin(origin, lazy)),
          logger,
          clock: context.clock,
          staticDir: context.staticDir,
          drainMs: seconds(options.drainTimeout, '--drain-timeout') * 1000,
          ...(tokenRatePerS === undefined ? {} : { tokenRatePerS }),
          ...(meshOptions.join === undefined ? {} : { join: meshOptions.join }),
          ...(meshOptions.votersTarget === undefined
            ? {}
            : { voterTarget: meshOptions.votersTarget }),
          ...(meshOptions.joinGrantMc === undefined
            ? {}
            : { joinGrantMc: meshOptions.joinGrantMc }),
          ...(meshOptions.raftTickMs === undefined ? {} : { raftTickMs: meshOptions.raftTickMs }),
          ...(meshOptions.electionTicks === undefined
            ? {}
            : { electionTicks: meshOptions.electionTicks }),
          createExecutor: options.executor
            ? async (peerId) => {
                const executor = await context.createExecutor(peerId, logger)
                if (!noop) return executor
                const { withNoopRuntime } = await import('../executor/index.ts')
                return withNoopRuntime(executor)
              }
            : null,
        })
        try {
          await daemon.start()
        } catch (error) {
          await daemon.stop()
          throw explainStartFailure(error, options, lazy)
        }
        const info = {
          apiUrl: daemon.address.url,
          appUrl: daemon.appUrl,
          peerId: daemon.peerId,
          dataDir: options.dataDir,
          version: VERSION,
        }
        context.stdout.write(
          options.json
            ? `${JSON.stringify(info)}\n`
            : `Grid-X ${VERSION} is running.\n` +
                `  peer      ${daemon.peerId}\n` +
                `  API       ${daemon.address.url}\n` +
                `  web app   ${daemon.appUrl}\n` +
                `  data      ${options.dataDir} (logs in daemon.log)\n` +
                'Press Ctrl+C to stop.\n',
        )
        // Runs until Ctrl+C or SIGTERM, or until the peer leaves its mesh (`gridx leave`).
        const left = await Promise.race([
          daemon.left,
          new Promise<null>((resolve) => {
            if (context.stopSignal.aborted) resolve(null)
            context.stopSignal.addEventListener('abort', () => resolve(null), { once: true })
          }),
        ])
        if (left !== null) {
          context.stderr.write(`this peer left mesh ${left.meshId} for good: stopping\n`)
        } else if (!options.json) context.stderr.write('stopping: finishing running jobs…\n')
        await daemon.stop()
        logger.flush()
      })
  )
}

/**
 * Whether this peer also offers the noop runtime. Refused under NODE_ENV=production: a noop
 * job succeeds without running, so a mesh that let a production peer offer it would pay that
 * peer for work nobody did; benchmarks and tests run without NODE_ENV=production.
 */
function noopExecutorWanted(options: StartOptions, env: NodeJS.ProcessEnv): boolean {
  if (options.noopExecutor !== true) return false
  if (env.NODE_ENV === 'production') {
    throw new CliError(
      '--noop-executor is for tests and benchmarks and is refused when NODE_ENV=production',
    )
  }
  if (!options.executor) {
    throw new CliError('--noop-executor needs the executor: drop --no-executor')
  }
  return true
}

/** The daemon's listening ports, each with its name and the flag that moves it. */
function listeners(options: StartOptions, { defaultWsPort }: Lazy) {
  const p2pPort = Number(options.p2pPort)
  const wsPort =
    options.p2pWsPort === undefined ? defaultWsPort(p2pPort) : Number(options.p2pWsPort)
  return [
    { port: Number(options.apiPort), name: 'API port', flag: '--api-port' },
    { port: p2pPort, name: 'peer-to-peer TCP port', flag: '--p2p-port' },
    {
      port: wsPort,
      name: 'peer-to-peer WebSocket port',
      flag: '--p2p-ws-port',
      // A port the user never typed: the message says where it came from.
      derived: options.p2pWsPort === undefined ? ` (its default is --p2p-port ${p2pPort} + 1)` : '',
    },
  ]
}

/** Two flags that give the same port would make the daemon's second listen fail, and the
 * port-taken message would then blame another program. Port 0 picks a free port each time;
 * a port that is not a number is left to its own check. */
function refuseSharedPorts(options: StartOptions, lazy: Lazy): void {
  const seen = new Map<number, string>()
  for (const listener of listeners(options, lazy)) {
    const other = seen.get(listener.port)
    if (other !== undefined && listener.port > 0) {
      throw new CliError(
        `${other} and ${listener.flag} both give port ${listener.port}: the daemon listens ` +
          'on each port separately, so give them different ports.',
      )
    }
    seen.set(listener.port, listener.flag)
  }
}

function explainStartFailure(error: unknown, options: StartOptions, lazy: Lazy): Error {
  const { code, port: taken } = error as NodeJS.ErrnoException & { port?: unknown }
  if (code === 'EADDRINUSE') {
    // Both the gateway's and the mesh's listen errors carry the port that was taken.
    const listener = listeners(options, lazy).find((candidate) => candidate.port === taken)
    if (listener !== undefined) {
      return new CliError(
        `the ${listener.name} ${listener.port} is already in use: is another gridx running? ` +
          `Choose another with ${listener.flag}${listener.derived ?? ''}.`,
      )
    }
  }
  const refusal = error instanceof Error ? START_REFUSALS[error.name] : undefined
  if (refusal !== undefined) return new CliError(refusal(error as RefusalError))
  return error instanceof Error ? error : new Error(String(error))
}

type RefusalError = Error & { readonly code?: string; readonly issuer?: string }

/** Failures a start meets in ordinary use, by error name (the daemon's modules are loaded
 * lazily, so not by class): each is said in a line with what to do, with no stack trace. */
const START_REFUSALS: Readonly<Record<string, (error: RefusalError) => string>> = {
  JoinRefusedError: (error) => `the mesh refused the join (${error.code}): ${error.message}`,
  ImpostorError: (error) =>
    `${error.message}. A token is good only at the member that printed it: run ` +
    '`gridx token` on the member at that address, or join through the address of ' +
    `${error.issuer ?? 'the token’s issuer'}.`,
  JoinFailedError: (error) => `the join failed: ${error.message}`,
  NoLeaderError: (error) =>
    `${error.message}: no coordinator answered; are most of the mesh's voters up?`,
  LeaveRefusedError: (error) => error.message,
  DataDirTakenError: (error) => error.message,
}
