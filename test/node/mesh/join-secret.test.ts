// Join secrets as a member keeps them: only their sha-256, judged for the token's role.
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { generateJoinSecret, hashJoinSecret, judgeJoinSecret } from '../../../node/mesh/index.ts'
import { decodeJoinSecret } from '../../../protocol/index.ts'

describe('join secrets', () => {
  const voter = generateJoinSecret()
  const executor = generateJoinSecret()
  const rotated = generateJoinSecret()
  const hashes = {
    voter: hashJoinSecret(voter),
    executor: hashJoinSecret(executor),
    rotated: [hashJoinSecret(rotated)],
  }

  it('should keep the sha-256 of the secret bytes when hashing, never the secret', () => {
    const expected = createHash('sha256').update(decodeJoinSecret(voter)).digest('hex')
    expect(hashJoinSecret(voter)).toBe(expected)
    expect(hashJoinSecret(voter)).not.toContain(voter)
  })

  it('should make a different secret of 32 bytes each time one is generated', () => {
    expect(decodeJoinSecret(generateJoinSecret())).toHaveLength(32)
    expect(generateJoinSecret()).not.toBe(generateJoinSecret())
  })

  it('should accept only the current secret of the role when judging', () => {
    expect(judgeJoinSecret(voter, 'voter', hashes)).toBeUndefined()
    expect(judgeJoinSecret(executor, 'executor', hashes)).toBeUndefined()
    expect(judgeJoinSecret(executor, 'voter', hashes)).toBe('WRONG_ROLE')
    expect(judgeJoinSecret(voter, 'executor', hashes)).toBe('WRONG_ROLE')
    expect(judgeJoinSecret(rotated, 'voter', hashes)).toBe('ROTATED')
    expect(judgeJoinSecret(generateJoinSecret(), 'voter', hashes)).toBe('WRONG_SECRET')
    expect(judgeJoinSecret('not a secret', 'voter', hashes)).toBe('WRONG_SECRET')
  })

  it('should accept the judging member’s own secret of the role when it issued one', () => {
    const own = generateJoinSecret()
    const withOwn = { ...hashes, own: { executor: hashJoinSecret(own) } }
    expect(judgeJoinSecret(own, 'executor', withOwn)).toBeUndefined()
    expect(judgeJoinSecret(executor, 'executor', withOwn)).toBeUndefined()
    expect(judgeJoinSecret(own, 'voter', withOwn)).toBe('WRONG_ROLE')
    expect(judgeJoinSecret(own, 'executor', hashes)).toBe('WRONG_SECRET')
  })
})
