// The mesh flags of `gridx start` (--join, --token, --voters, --join-grant, --raft-tick-ms,
// --election-ticks), parsed and checked before anything starts, into the options the daemon
// reads.
import type { VoterTarget } from '../coordinator/index.ts'
import { isIP } from 'node:net'
import {
  JOIN_GRANT_CREDITS_MAX,
  JoinTokenError,
  MILLICREDITS_PER_CREDIT,
  RAFT_ELECTION_TICKS_MAX,
  RAFT_ELECTION_TICKS_MIN,
  RAFT_ELECTION_TIMEOUT_MS_MAX,
  RAFT_TICK_MS_MAX,
  RAFT_TICK_MS_MIN,
  parseJoinToken,
} from '../../protocol/index.ts'
import type { JoinToken } from '../../protocol/index.ts'
import { CliError } from './connect.ts'

/** What `gridx start` asks of the daemon's mesh; every field absent means "as today". */
export interface MeshStartOptions {
  /** Join the mesh the token names through the member at `address` (`HOST[:PORT]`). */
  readonly join?: { readonly address: string; readonly token: JoinToken }
  /** Voters a new mesh keeps (`--voters`); only when this peer creates the mesh. */
  readonly votersTarget?: VoterTarget
  /** Milliseconds per Raft tick (`--raft-tick-ms`). */
  readonly raftTickMs?: number
  /** Ticks without a leader before a voter stands for election (`--election-ticks`). */
  readonly electionTicks?: number
  /** Millicredits a new mesh grants each owner once (`--join-grant`, given in credits). */
  readonly joinGrantMc?: number
}

/** The flags as commander hands them over: strings, absent when not given. */
export interface MeshStartFlags {
  readonly join?: string
  readonly token?: string
  readonly voters?: string
  readonly raftTickMs?: string
  readonly electionTicks?: string
  readonly joinGrant?: string
}

const VOTER_TARGETS: readonly VoterTarget[] = [1, 3, 5]

/** Parses and checks the mesh flags; rejects with CliError naming the flag at fault. */
export async function parseMeshStartOptions(flags: MeshStartFlags): Promise<MeshStartOptions> {
  if (flags.join !== undefined && flags.token === undefined) {
    throw new CliError('--join needs --token: ask a member for one with `gridx token`')
  }
  if (flags.join === undefined && flags.token !== undefined) {
    throw new CliError('--token is only for --join HOST[:PORT]')
  }
  if (flags.join !== undefined && flags.voters !== undefined) {
    throw new CliError('--voters is set by the peer that creates the mesh; a joiner takes its')
  }
  if (flags.join !== undefined && flags.joinGrant !== undefined) {
    throw new CliError('--join-grant is set by the peer that creates the mesh; a joiner takes its')
  }
  const joinGrant = integer(flags.joinGrant, 0, JOIN_GRANT_CREDITS_MAX, () =>
    grantError(flags.joinGrant),
  )
  const raftTickMs = integer(flags.raftTickMs, RAFT_TICK_MS_MIN, RAFT_TICK_MS_MAX, () =>
    tickError(flags.raftTickMs),
  )
  const electionTicks = integer(
    flags.electionTicks,
    RAFT_ELECTION_TICKS_MIN,
    RAFT_ELECTION_TICKS_MAX,
    () => ticksError(flags.electionTicks),
  )
  if (raftTickMs !== undefined && electionTicks !== undefined) {
    const timeoutMs = raftTickMs * electionTicks
    if (timeoutMs > RAFT_ELECTION_TIMEOUT_MS_MAX) {
      throw new CliError(
        `--raft-tick-ms × --election-ticks: an election timeout of ${timeoutMs} ms is over ` +
          `the ${RAFT_ELECTION_TIMEOUT_MS_MAX} ms a mesh can wait for a coordinator`,
      )
    }
  }
  return {
    ...(flags.join === undefined ? {} : { join: await join(flags.join, flags.token as string) }),
    ...(flags.voters === undefined ? {} : { votersTarget: voters(flags.voters) }),
    ...(raftTickMs === undefined ? {} : { raftTickMs }),
    ...(electionTicks === undefined ? {} : { electionTicks }),
    ...(joinGrant === undefined ? {} : { joinGrantMc: joinGrant * MILLICREDITS_PER_CREDIT }),
  }
}

async function join(
  address: string,
  tokenText: string,
): Promise<NonNullable<MeshStartOptions['join']>> {
  if (!(await isHostPort(address))) {
    throw new CliError(`--join takes HOST[:PORT] of any member of the mesh, not "${address}"`)
  }
  try {
    return { address, token: parseJoinToken(tokenText) }
  } catch (error) {
    if (error instanceof JoinTokenError) throw new CliError(`--token: ${error.message}`)
    throw error
  }
}

/** `host`, `host:port`, `[v6]:port`, a bare IPv6 address, or a multiaddr. */
async function isHostPort(address: string): Promise<boolean> {
  if (address.startsWith('/') || isIP(address) === 6) {
    // Loaded only for these forms: every other command starts faster without libp2p.
    const { joinAddress } = await import('../mesh/index.ts')
    try {
      joinAddress(address)
      return true
    } catch {
      return false
    }
  }
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/]+)(?::(\d{1,5}))?$/.exec(address)
  const port = match?.[2]
  return match !== null && (port === undefined || (Number(port) >= 1 && Number(port) <= 65535))
}

function voters(value: string): VoterTarget {
  const target = VOTER_TARGETS.find((candidate) => String(candidate) === value)
  if (target === undefined) {
    throw new CliError(`--voters takes 1, 3 or 5 (an odd count up to five), not "${value}"`)
  }
  return target
}

function integer(
  value: string | undefined,
  min: number,
  max: number,
  error: () => CliError,
): number | undefined {
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) throw error()
  return parsed
}

function tickError(value: string | undefined): CliError {
  return new CliError(
    `--raft-tick-ms takes milliseconds from ${RAFT_TICK_MS_MIN} to ${RAFT_TICK_MS_MAX}, ` +
      `not "${value}"`,
  )
}

function ticksError(value: string | undefined): CliError {
  return new CliError(
    `--election-ticks takes a count from ${RAFT_ELECTION_TICKS_MIN} to ` +
      `${RAFT_ELECTION_TICKS_MAX}, not "${value}"`,
  )
}

function grantError(value: string | undefined): CliError {
  return new CliError(
    `--join-grant takes credits from 0 to ${JOIN_GRANT_CREDITS_MAX}, not "${value}"`,
  )
}
