// Bad input at the wire against a running mesh (issue 9, "Proof"): two in-process daemons on
// real libp2p and LevelDB, and bare libp2p nodes that speak our protocols by hand, one a
// stranger and one admitted with a good token. Every bad frame on /gridx/raft/1.0.0,
// /gridx/join/1.0.0 and /gridx/executor/1.0.0 is refused with one log line on the daemon,
// changes nothing in any replica, and the mesh goes on committing.
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeRaftMessage, encodeState } from '../../ledger/index.ts'
import type { raft } from '../../ledger/index.ts'
import { generateJoinSecret, joinMesh } from '../../node/mesh/index.ts'
import {
  EXECUTOR_FRAME_BYTES_MAX,
  EXECUTOR_PROTOCOL,
  JOIN_FRAME_BYTES_MAX,
  JOIN_PROTOCOL,
  RAFT_FRAME_BYTES_MAX,
  RAFT_PROTOCOL,
  formatJoinToken,
  parseJoinToken,
} from '../../protocol/index.ts'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'

/** How long a refusal has to show more log lines than one, were it to flood. */
const SETTLE_MS = 750
const WAIT_MS = 30_000

interface LogLine {
  readonly level: number
  readonly msg: string
  readonly peer?: string
}

const WARN = 40

/** The length prefix lpStream writes: an unsigned LEB128 varint. */
function unsignedVarint(value: number): number[] {
  const bytes: number[] = []
  for (let rest = value; ; rest = Math.floor(rest / 128)) {
    if (rest < 128) return [...bytes, rest]
    bytes.push((rest % 128) | 128)
  }
}

function heartbeat(from: string, to: string): raft.Message {
  return {
    type: 'heartbeat',
    from,
    to,
    term: 1,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    snapshot: undefined,
    context: new Uint8Array(0),
  }
}

const encoder = new TextEncoder()
const json = (value: unknown) => encoder.encode(JSON.stringify(value))
const hello = { type: 'hello', running: [], capacity: { cpus: 1, memoryMb: 64, runtimes: [] } }
const validHello = { ...hello, load: { runningJobs: 0, cpusInUse: 0, memoryMbInUse: 0 } }

describe('bad input at the wire of a running mesh', () => {
  const log: LogLine[] = []
  let a: TestDaemon
  let b: TestDaemon
  let stranger: Libp2p
  let member: Libp2p
  let meshId = ''

  const p2p = () => a.daemon.p2pAddresses.filter((address) => !address.includes('/ws'))
  const hostPort = () => {
    const match = /\/ip4\/([^/]+)\/tcp\/(\d+)/.exec(p2p()[0] ?? '')
    return `${match?.[1]}:${match?.[2]}`
  }

  async function bareNode(): Promise<Libp2p> {
    return createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
    })
  }

  beforeAll(async () => {
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => void log.push(JSON.parse(line) as LogLine) },
    )
    a = await startTestDaemon({ executor: false, logger })
    const { token } = await a.call('mesh.token', { role: 'executor' })
    meshId = parseJoinToken(token).meshId
    b = await startTestDaemon({ executor: false, join: { address: hostPort(), token } })
    stranger = await bareNode()
    member = await bareNode()
    await joinMesh(member, hostPort(), token, { owner: member.peerId.toString() })
    // The coordinator adds the admitted member as a learner: wait for that to settle.
    const id = member.peerId.toString()
    const deadline = Date.now() + WAIT_MS
    while (!(await a.call('mesh.info', {})).members?.some((m) => m.peerId === id)) {
      if (Date.now() > deadline) throw new Error('the member was not added as a learner')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await quiet()
  }, 120_000)

  afterAll(async () => {
    await Promise.all([stranger?.stop(), member?.stop()])
    await b?.destroy()
    await a?.destroy()
  })

  /** Waits until both replicas hold one state and it stays put for a moment. */
  async function quiet(): Promise<string> {
    const deadline = Date.now() + WAIT_MS
    let last = ''
    for (;;) {
      const states = [a, b].map((node) => encodeState(node.daemon.ledgerState()))
      const now = states[0] === states[1] ? (states[0] as string) : ''
      if (now !== '' && now === last) return now
      if (Date.now() > deadline) throw new Error('the replicas did not settle')
      last = now
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
  }

  async function open(from: Libp2p, protocol: string) {
    return from.dialProtocol(
      p2p().map((address) => multiaddr(address)),
      protocol,
    )
  }

  /** Sends `bytes` raw on a new stream of `protocol`; resolves once the daemon closed it. */
  async function send(from: Libp2p, protocol: string, bytes: Uint8Array): Promise<void> {
    const stream = await open(from, protocol)
    try {
      stream.send(bytes)
    } catch (error) {
      // The daemon may refuse the stream before the bytes go out: that is a refusal too.
      expect((error as Error).name).toBe('StreamStateError')
    }
    const deadline = Date.now() + WAIT_MS
    while (stream.status === 'open' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(stream.status).not.toBe('open')
  }

  const frame = (body: Uint8Array) => lengthPrefixed(body)
  const oversize = (max: number) => Uint8Array.of(...unsignedVarint(max + 1), 1, 2, 3)

  const cases: readonly {
    readonly name: string
    readonly from: () => Libp2p
    readonly run: (from: Libp2p) => Promise<void>
    /** The one line the daemon logs: it names the refusal, not merely a failure. */
    readonly line: RegExp
  }[] = [
    {
      name: 'a raft frame over the size limit',
      line: /^refused a raft stream$/,
      from: () => member,
      run: (from) => send(from, RAFT_PROTOCOL, oversize(RAFT_FRAME_BYTES_MAX)),
    },
    {
      name: 'a raft frame of garbage',
      line: /^refused a raft stream$/,
      from: () => member,
      run: (from) => send(from, RAFT_PROTOCOL, frame(Uint8Array.of(77, 1, 2, 3))),
    },
    {
      name: 'a valid raft frame from a peer that is not admitted',
      line: /^refused a raft stream$/,
      from: () => stranger,
      run: (from) => {
        const message = heartbeat(from.peerId.toString(), a.daemon.peerId)
        return send(from, RAFT_PROTOCOL, frame(Uint8Array.of(1, ...encodeRaftMessage(message))))
      },
    },
    {
      name: 'a join frame over the size limit',
      line: /^refused a join: the request is over \d+ bytes$/,
      from: () => stranger,
      run: (from) => send(from, JOIN_PROTOCOL, oversize(JOIN_FRAME_BYTES_MAX)),
    },
    {
      name: 'a join frame of garbage',
      line: /^refused a join: the join request is not JSON$/,
      from: () => stranger,
      run: (from) => send(from, JOIN_PROTOCOL, frame(Uint8Array.of(0xff, 0xfe, 0x00))),
    },
    {
      name: 'a join with a forged token',
      line: /^refused a join: the token’s secret is not one of/,
      from: () => stranger,
      run: async (from) => {
        const issuer = a.daemon.peerId
        const secret = generateJoinSecret()
        const forged = formatJoinToken({ role: 'voter', meshId, issuer, secret })
        const owner = from.peerId.toString()
        await expect(joinMesh(from, hostPort(), forged, { owner })).rejects.toThrow(/secret/)
      },
    },
    {
      name: 'an executor frame over the size limit',
      line: /^executor stream cut off for a bad frame$/,
      from: () => member,
      run: (from) => send(from, EXECUTOR_PROTOCOL, oversize(EXECUTOR_FRAME_BYTES_MAX)),
    },
    {
      name: 'an executor frame of garbage',
      line: /^executor stream cut off for a bad frame$/,
      from: () => member,
      run: (from) => send(from, EXECUTOR_PROTOCOL, frame(Uint8Array.of(0xff, 0x00, 0x7b))),
    },
    {
      name: 'an executor frame the schema refuses',
      line: /^executor stream cut off for a bad frame$/,
      from: () => member,
      run: (from) => send(from, EXECUTOR_PROTOCOL, frame(json(hello))),
    },
    {
      name: 'a valid executor hello from a peer that is not admitted',
      line: /^executor stream refused$/,
      from: () => stranger,
      run: (from) => send(from, EXECUTOR_PROTOCOL, frame(json(validHello))),
    },
  ]

  it.each(cases)(
    'should refuse $name with one log line and change nothing',
    async (item) => {
      const before = await quiet()
      const from = item.from()
      const peer = from.peerId.toString()
      const mark = log.length
      await item.run(from)
      const lines = () => log.slice(mark).filter((line) => line.peer === peer && line.level >= WARN)
      const deadline = Date.now() + WAIT_MS
      while (lines().length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
      const messages = lines().map((line) => line.msg)
      expect(messages).toHaveLength(1)
      expect(messages[0]).toMatch(item.line)
      expect(await quiet()).toBe(before)
    },
    60_000,
  )

  it('should go on committing when all of that was refused', async () => {
    const before = a.daemon.ledgerState().appliedIndex
    await b.call('mesh.token', { role: 'executor', rotate: true })
    const after = b.daemon.ledgerState().appliedIndex
    expect(after).toBeGreaterThan(before)
    expect(await quiet()).toBe(encodeState(a.daemon.ledgerState()))
  })
})

function lengthPrefixed(body: Uint8Array): Uint8Array {
  return Uint8Array.of(...unsignedVarint(body.byteLength), ...body)
}
