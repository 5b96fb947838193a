// Joining a mesh over /gridx/join/1.0.0 between real libp2p nodes on loopback: the member
// admits only the current secret of the token's role, and the joiner trusts only the issuer.
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ImpostorError,
  JoinRefusedError,
  generateJoinSecret,
  hashJoinSecret,
  joinAddress,
  joinMesh,
  joinService,
  judgeJoinSecret,
} from '../../../node/mesh/index.ts'
import type { AdmitRequest, AdmitResult } from '../../../node/mesh/index.ts'
import { JOIN_PROTOCOL, formatJoinToken, parseJoinToken } from '../../../protocol/index.ts'
import type { JoinRole } from '../../../protocol/index.ts'
import type { LogLine } from './raft-peers.ts'

const nodes: Libp2p[] = []

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.stop()))
})

async function bareNode(): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  })
  nodes.push(node)
  return node
}

/** A member of mesh `mesh-test` with a voter, an executor and one rotated-away secret;
 * `stall` makes its admissions hang, as they do while the mesh has no coordinator. */
async function member(options: { stall?: boolean; timeoutMs?: number } = {}) {
  const secrets = { voter: generateJoinSecret(), executor: generateJoinSecret() }
  const old = generateJoinSecret()
  const hashes = {
    voter: hashJoinSecret(secrets.voter),
    executor: hashJoinSecret(secrets.executor),
    rotated: [hashJoinSecret(old)],
  }
  const admitted: AdmitRequest[] = []
  const log: LogLine[] = []
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void log.push(JSON.parse(line)) },
  )
  const node: Libp2p = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      join: joinService({
        meshId: () => 'mesh-test',
        logger,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        admit: (request): Promise<AdmitResult> => {
          if (options.stall === true) return new Promise<AdmitResult>(() => undefined)
          const refusal = judgeJoinSecret(request.secret, request.role, hashes)
          if (refusal !== undefined) {
            return Promise.resolve({ accepted: false, code: refusal, message: refusal })
          }
          admitted.push(request)
          const addresses = node.getMultiaddrs().map(String)
          return Promise.resolve({
            accepted: true,
            members: [{ peerId: node.peerId.toString(), addresses }],
          })
        },
      }),
    },
  })
  nodes.push(node)
  const address = `127.0.0.1:${node.getMultiaddrs()[0]?.toString().split('/')[4]}`
  const token = (role: JoinRole, secret = secrets[role], meshId = 'mesh-test') =>
    formatJoinToken({ role, meshId, issuer: node.peerId.toString(), secret })
  return { node, address, token, secrets, old, admitted, log }
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => new Error('joined'),
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(JoinRefusedError)
  return (error as JoinRefusedError).code
}

describe('join', () => {
  it('should admit a peer with its proven PeerId when the token is good', async () => {
    const mesh = await member()
    const joiner = await bareNode()
    const joined = await joinMesh(joiner, mesh.address, mesh.token('executor'), { owner: 'alice' })
    expect(joined.meshId).toBe('mesh-test')
    expect(joined.members).toEqual([
      {
        peerId: mesh.node.peerId.toString(),
        addresses: mesh.node.getMultiaddrs().map(String),
      },
    ])
    expect(mesh.admitted).toEqual([
      {
        peerId: joiner.peerId.toString(),
        owner: 'alice',
        role: 'executor',
        secret: mesh.secrets.executor,
      },
    ])
  })

  it('should refuse each bad token with its own code and admit nobody', async () => {
    const mesh = await member()
    const joiner = await bareNode()
    const join = (token: string) => joinMesh(joiner, mesh.address, token, { owner: 'alice' })
    expect(await refusal(join(mesh.token('voter', generateJoinSecret())))).toBe('WRONG_SECRET')
    expect(await refusal(join(mesh.token('voter', mesh.secrets.executor)))).toBe('WRONG_ROLE')
    expect(await refusal(join(mesh.token('executor', mesh.old)))).toBe('ROTATED')
    const otherMesh = mesh.token('voter', mesh.secrets.voter, 'mesh-other')
    expect(await refusal(join(otherMesh))).toBe('OTHER_MESH')
    expect(mesh.admitted).toEqual([])
    const refused = mesh.log.filter((line) => line.msg.startsWith('refused a join'))
    expect(refused.map((line) => line.peer)).toEqual(Array(4).fill(joiner.peerId.toString()))
  })

  it('should refuse to talk to a peer when it is not the issuer the token names', async () => {
    const mesh = await member()
    const impostor = await member()
    const joiner = await bareNode()
    const token = mesh.token('voter')
    const error = await joinMesh(joiner, impostor.address, token, { owner: 'alice' }).then(
      () => new Error('joined'),
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(ImpostorError)
    expect((error as Error).message).toBe(
      `the peer at /ip4/${impostor.address.replace(':', '/tcp/')} is ${impostor.node.peerId}, ` +
        `not the token's issuer ${mesh.node.peerId}`,
    )
    expect(impostor.admitted).toEqual([])
    expect(mesh.admitted).toEqual([])
  })

  it('should refuse before dialling when the token is for another mesh than expected', async () => {
    const mesh = await member()
    const joiner = await bareNode()
    const options = { owner: 'alice', expect: { meshId: 'mesh-mine' } }
    await expect(joinMesh(joiner, mesh.address, mesh.token('voter'), options)).rejects.toThrow(
      expect.objectContaining({ name: 'JoinTokenError', problem: 'other-mesh' }),
    )
    expect(joiner.getConnections()).toEqual([])
  })

  it('should answer UNAVAILABLE in time when the admission does not complete', async () => {
    const mesh = await member({ stall: true, timeoutMs: 300 })
    const joiner = await bareNode()
    const join = joinMesh(joiner, mesh.address, mesh.token('voter'), { owner: 'alice' })
    expect(await refusal(join)).toBe('UNAVAILABLE')
  })

  it('should answer UNAVAILABLE when the admission fails', async () => {
    const mesh = await member()
    const joiner = await bareNode()
    const failing = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: {
        join: joinService({
          meshId: () => 'mesh-test',
          logger: pino({ level: 'silent' }),
          admit: () => Promise.reject(new Error('no quorum')),
        }),
      },
    })
    nodes.push(failing)
    const token = formatJoinToken({
      ...parseJoinToken(mesh.token('voter')),
      issuer: failing.peerId.toString(),
    })
    const address = `127.0.0.1:${failing.getMultiaddrs()[0]?.toString().split('/')[4]}`
    expect(await refusal(joinMesh(joiner, address, token, { owner: 'alice' }))).toBe('UNAVAILABLE')
  })

  it('should answer BAD_REQUEST when the request is not a join request', async () => {
    const mesh = await member()
    const joiner = await bareNode()
    for (const body of ['not json', JSON.stringify({ meshId: 'mesh-test', role: 'voter' })]) {
      const stream = await joiner.dialProtocol(mesh.node.getMultiaddrs(), JOIN_PROTOCOL)
      const lp = lpStream(stream)
      await lp.write(new TextEncoder().encode(body))
      const reply = JSON.parse(new TextDecoder().decode((await lp.read()).subarray()))
      expect(reply).toMatchObject({ accepted: false, code: 'BAD_REQUEST' })
    }
    expect(mesh.admitted).toEqual([])
  })
})

describe('join addresses', () => {
  it('should dial the bare address when given host, port or a multiaddr', () => {
    const id = '12D3KooWGzQ3ZkbsKjWbG5mBoG3FbHwQc6hG1SZgGbdHwwLxmr6k'
    expect(joinAddress('127.0.0.5').toString()).toBe('/ip4/127.0.0.5/tcp/4001')
    expect(joinAddress('127.0.0.5:7000').toString()).toBe('/ip4/127.0.0.5/tcp/7000')
    expect(joinAddress('[::1]:7000').toString()).toBe('/ip6/::1/tcp/7000')
    expect(joinAddress('::1').toString()).toBe('/ip6/::1/tcp/4001')
    expect(joinAddress('gridx.example:7000').toString()).toBe('/dns/gridx.example/tcp/7000')
    expect(joinAddress(`/ip4/127.0.0.5/tcp/7000/p2p/${id}`).toString()).toBe(
      '/ip4/127.0.0.5/tcp/7000',
    )
  })
})
