// Join tokens: one spelling per token, and every malformed one refused with the part at fault.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  JoinTokenError,
  decodeJoinSecret,
  encodeJoinSecret,
  expectJoinToken,
  formatJoinToken,
  joinRequestSchema,
  joinResponseSchema,
  parseJoinToken,
} from '../../protocol/index.ts'
import type { JoinTokenProblem } from '../../protocol/index.ts'

const ISSUER = '12D3KooWGzQ3ZkbsKjWbG5mBoG3FbHwQc6hG1SZgGbdHwwLxmr6k'
const SECRET = encodeJoinSecret(new Uint8Array(32).fill(7))
const TOKEN = { role: 'voter' as const, meshId: 'mesh-abc123', issuer: ISSUER, secret: SECRET }

function problem(text: string): JoinTokenProblem {
  try {
    parseJoinToken(text)
  } catch (error) {
    expect(error).toBeInstanceOf(JoinTokenError)
    return (error as JoinTokenError).problem
  }
  throw new Error(`parsed ${text}`)
}

describe('join tokens', () => {
  it('should read back the token it printed when the mesh id holds dashes', () => {
    const text = formatJoinToken(TOKEN)
    expect(text).toBe(`GRIDX-1-voter-mesh-abc123-${ISSUER}-${SECRET}`)
    expect(parseJoinToken(text)).toEqual(TOKEN)
    expect(parseJoinToken(`  ${text}\n`)).toEqual(TOKEN)
  })

  it('should decode every secret to its bytes when encoded in base32', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const text = encodeJoinSecret(bytes)
        expect(text).toMatch(/^[a-z2-7]{52}$/)
        expect(decodeJoinSecret(text)).toEqual(bytes)
      }),
    )
  })

  it('should name the part at fault when a token is malformed', () => {
    const good = formatJoinToken(TOKEN)
    expect(problem('SWMTKN-1-abc-def')).toBe('not-a-token')
    expect(problem('hello')).toBe('not-a-token')
    expect(problem(good.replace('GRIDX-1-', 'GRIDX-2-'))).toBe('version')
    expect(problem(good.replace('-voter-', '-admin-'))).toBe('role')
    expect(problem(good.replace('mesh-abc123', 'mesh_abc'))).toBe('mesh-id')
    expect(problem(good.replace(ISSUER, 'not0a0peer0id'))).toBe('issuer')
    expect(problem(good.slice(0, -1))).toBe('secret')
    expect(problem(`${good.slice(0, -1)}1`)).toBe('secret')
  })

  it('should refuse a second spelling of a secret when its padding bits are set', () => {
    // 52 characters carry 260 bits; the last 4 must be zero, so `a` and `b` differ only there.
    const last = SECRET.at(-1) as string
    const other = String.fromCharCode(last.charCodeAt(0) + 1)
    expect(() => decodeJoinSecret(SECRET.slice(0, -1) + other)).toThrow(JoinTokenError)
  })

  it('should refuse a secret of the wrong size when one is encoded', () => {
    expect(() => encodeJoinSecret(new Uint8Array(16))).toThrow(JoinTokenError)
  })
})

describe('join frames', () => {
  it('should accept a request when it holds exactly the fields a joiner sends', () => {
    const request = { meshId: 'mesh-1', role: 'executor', secret: SECRET, owner: ISSUER }
    expect(joinRequestSchema.parse(request)).toEqual(request)
    expect(joinRequestSchema.safeParse({ ...request, extra: 1 }).success).toBe(false)
    expect(joinRequestSchema.safeParse({ ...request, owner: 'x'.repeat(200) }).success).toBe(false)
  })

  it('should accept a refusal only when its code is one of the table', () => {
    const refusal = { accepted: false, code: 'ROTATED', message: 'rotated' }
    expect(joinResponseSchema.parse(refusal)).toEqual(refusal)
    expect(joinResponseSchema.safeParse({ ...refusal, code: 'NOPE' }).success).toBe(false)
  })
})

describe('join token expectations', () => {
  it('should name the other mesh or the wrong role when the token is not the one expected', () => {
    const token = parseJoinToken(formatJoinToken(TOKEN))
    expect(() => expectJoinToken(token, { meshId: 'mesh-abc123', role: 'voter' })).not.toThrow()
    const other = () => expectJoinToken(token, { meshId: 'mesh-mine' })
    expect(other).toThrow(/mesh-abc123, not mesh-mine/)
    expect(other).toThrow(expect.objectContaining({ problem: 'other-mesh' }))
    const role = () => expectJoinToken(token, { role: 'executor' })
    expect(role).toThrow(expect.objectContaining({ problem: 'wrong-role' }))
    expect(role).toThrow('the token admits a voter, not an executor')
  })
})

describe('same-owner join tokens', () => {
  it('should read back a same-owner token as one when it printed one', () => {
    const text = formatJoinToken({ ...TOKEN, sameOwner: true })
    expect(text.startsWith('GRIDX-1-voter+owner-mesh-abc123-')).toBe(true)
    expect(parseJoinToken(text)).toEqual({ ...TOKEN, sameOwner: true })
    // A token without the mark is its joiner's own owner, as before.
    expect(parseJoinToken(formatJoinToken(TOKEN)).sameOwner).toBeUndefined()
    expect(problem(text.replace('+owner', '+other'))).toBe('role')
  })

  it('should carry the same-owner claim in the join request when the token has it', () => {
    const request = { meshId: 'mesh-a', role: 'executor', secret: SECRET, owner: ISSUER }
    expect(joinRequestSchema.parse({ ...request, sameOwner: true }).sameOwner).toBe(true)
    expect(
      joinResponseSchema.safeParse({
        accepted: false,
        code: 'WRONG_OWNER_SECRET',
        message: 'no',
      }).success,
    ).toBe(true)
  })
})
