// The mesh flags of `gridx start`, parsed and checked before anything starts.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { CliError, parseMeshStartOptions } from '../../../node/cli/index.ts'
import { generateJoinSecret } from '../../../node/mesh/index.ts'
import { formatJoinToken } from '../../../protocol/index.ts'

const issuer = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
const token = formatJoinToken({
  role: 'executor',
  meshId: 'mesh-test',
  issuer,
  secret: generateJoinSecret(),
})

async function failure(flags: Parameters<typeof parseMeshStartOptions>[0]): Promise<string> {
  try {
    await parseMeshStartOptions(flags)
  } catch (error) {
    expect(error).toBeInstanceOf(CliError)
    return (error as Error).message
  }
  throw new Error('the flags were accepted')
}

describe('gridx start mesh flags', () => {
  it('should ask for nothing when no mesh flag is given', async () => {
    expect(await parseMeshStartOptions({})).toEqual({})
  })

  it('should parse every flag into MeshStartOptions when each value is good', async () => {
    const joining = await parseMeshStartOptions({
      join: '127.0.0.7:4101',
      token,
      raftTickMs: '20',
      electionTicks: '15',
    })
    expect(joining).toMatchObject({
      join: { address: '127.0.0.7:4101', token: { issuer, meshId: 'mesh-test', role: 'executor' } },
      raftTickMs: 20,
      electionTicks: 15,
    })
    expect(await parseMeshStartOptions({ voters: '5' })).toEqual({ votersTarget: 5 })
    for (const address of ['gridx.example', '[::1]:4001', '::1', '/ip4/127.0.0.7/tcp/4001']) {
      expect((await parseMeshStartOptions({ join: address, token })).join?.address).toBe(address)
    }
  })

  it('should say which flag is missing when --join or --token comes alone', async () => {
    expect(await failure({ join: '127.0.0.7' })).toMatch(/--join needs --token/)
    expect(await failure({ token })).toMatch(/--token is only for --join/)
  })

  it('should refuse a join address when it is not HOST[:PORT]', async () => {
    for (const bad of [
      '127.0.0.7:0',
      '127.0.0.7:65536',
      '127.0.0.7:port',
      ':4001',
      'a b',
      '',
      '/ip9/x',
    ]) {
      expect(await failure({ join: bad, token })).toMatch(/--join takes HOST\[:PORT\]/)
    }
  })

  it('should name what is wrong with the token when it does not parse', async () => {
    expect(await failure({ join: '127.0.0.7', token: 'SWMTKN-1-nonsense' })).toMatch(/^--token: /)
    expect(await failure({ join: '127.0.0.7', token: `${token}x` })).toMatch(/^--token: /)
  })

  it('should refuse a voter target when it is not 1, 3 or 5', async () => {
    for (const bad of ['0', '2', '4', '7', '3.0x', 'three', '-3']) {
      expect(await failure({ voters: bad })).toMatch(/--voters takes 1, 3 or 5/)
    }
  })

  it('should refuse --voters when the peer joins, since the mesh has a target', async () => {
    expect(await failure({ join: '127.0.0.7', token, voters: '3' })).toMatch(/--voters .* creates/)
  })

  it('should refuse raft timings when they are out of range or not integers', async () => {
    for (const bad of ['0', '-5', '1.5', 'fast', '10001']) {
      expect(await failure({ raftTickMs: bad })).toMatch(/--raft-tick-ms takes milliseconds from 1/)
    }
    for (const bad of ['1', '0', '2.5', '1001']) {
      expect(await failure({ electionTicks: bad })).toMatch(/--election-ticks takes a count from 2/)
    }
    expect(await failure({ raftTickMs: '1000', electionTicks: '100' })).toMatch(
      /election timeout of 100000 ms is over the 60000 ms/,
    )
  })

  it('should take a new mesh’s join grant in credits when --join-grant is given', async () => {
    expect(await parseMeshStartOptions({ joinGrant: '5000' })).toEqual({ joinGrantMc: 5_000_000 })
    expect(await parseMeshStartOptions({ joinGrant: '0' })).toEqual({ joinGrantMc: 0 })
  })

  it('should refuse --join-grant out of bounds or when the peer joins', async () => {
    for (const bad of ['-1', '1.5', 'lots', '1000000001']) {
      expect(await failure({ joinGrant: bad })).toMatch(/--join-grant takes credits from 0 to/)
    }
    expect(await failure({ join: '127.0.0.7', token, joinGrant: '10' })).toMatch(
      /--join-grant .* creates/,
    )
  })
})
