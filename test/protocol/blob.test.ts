import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  cidOfSha256,
  JOB_FILE_NAME_BYTES_MAX,
  JOB_INPUT_FILE_BYTES_MAX,
  JOB_INPUTS_BYTES_MAX,
  JOB_INPUTS_MAX,
  jobSpecSchema,
  sha256OfCid,
} from '../../protocol/index.ts'

const EMPTY_SHA256 = createHash('sha256').digest('hex')
const cid = (text: string) => cidOfSha256(createHash('sha256').update(text).digest('hex'))

function specWith(inputs: unknown) {
  return jobSpecSchema.safeParse({ runtime: 'python', code: 'pass', inputs })
}

describe('blob names', () => {
  it('should name the empty blob as IPFS does when it is a raw sha2-256 CIDv1', () => {
    expect(cidOfSha256(EMPTY_SHA256)).toBe(
      'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
    )
  })

  it('should give back the digest when a CID is decoded', () => {
    const digest = createHash('sha256').update('grid').digest('hex')
    expect(sha256OfCid(cidOfSha256(digest))).toBe(digest)
  })

  it('should refuse a CID when it is not canonical base32 of a raw sha2-256 CIDv1', () => {
    const good = cid('x')
    expect(sha256OfCid(good.toUpperCase())).toBeNull()
    expect(sha256OfCid(`${good.slice(0, -1)}${good.endsWith('a') ? 'b' : 'a'}`)).not.toBe(
      sha256OfCid(good),
    )
    expect(sha256OfCid('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')).toBeNull()
    expect(sha256OfCid('')).toBeNull()
  })
})

describe('job inputs', () => {
  const file = (name: string, size = 1) => ({ name, cid: cid(name), size })

  it('should take a spec with inputs when names, hashes and sizes are sound', () => {
    const parsed = specWith([file('data.csv'), file('conf/a.json')])
    expect(parsed.success).toBe(true)
  })

  it('should leave inputs and diskMb absent when the spec names none', () => {
    const parsed = jobSpecSchema.parse({ runtime: 'bash', code: 'true' })
    expect('inputs' in parsed).toBe(false)
    expect('diskMb' in parsed).toBe(false)
  })

  it.each(['../x', '/etc/passwd', 'a//b', './a', 'a/..', 'a\\b', 'a\nb', ''])(
    'should refuse the name %j when it could leave its directory or is not plain',
    (name) => {
      expect(specWith([file(name)]).success).toBe(false)
    },
  )

  it('should refuse names when two are the same or a file is also a directory', () => {
    expect(specWith([file('a'), file('a')]).success).toBe(false)
    expect(specWith([file('a'), file('a/b')]).success).toBe(false)
  })

  it('should take a name at its byte bound and refuse one byte over it', () => {
    expect(specWith([file('n'.repeat(JOB_FILE_NAME_BYTES_MAX))]).success).toBe(true)
    expect(specWith([file('n'.repeat(JOB_FILE_NAME_BYTES_MAX + 1))]).success).toBe(false)
  })

  it('should take a file at the per-file bound and refuse one byte over it', () => {
    expect(specWith([file('big', JOB_INPUT_FILE_BYTES_MAX)]).success).toBe(true)
    const over = specWith([file('big', JOB_INPUT_FILE_BYTES_MAX + 1)])
    expect(over.success).toBe(false)
    expect(over.error?.issues[0]?.message).toMatch(/one of a job's inputs may be/)
  })

  it('should take inputs at the per-job total and refuse one byte over it', () => {
    const count = JOB_INPUTS_BYTES_MAX / JOB_INPUT_FILE_BYTES_MAX
    const names = Array.from({ length: count }, (_, at) => `part-${at}`)
    const at = names.map((name) => file(name, JOB_INPUT_FILE_BYTES_MAX))
    expect(specWith(at).success).toBe(true)
    const over = specWith([...at, file('one-more', 1)])
    expect(over.success).toBe(false)
    expect(over.error?.issues[0]?.message).toMatch(/may total 1073741824 bytes/)
  })

  it('should take the most inputs a job may have and refuse one more', () => {
    const names = Array.from({ length: JOB_INPUTS_MAX + 1 }, (_, at) => `f${at}`)
    expect(specWith(names.slice(0, JOB_INPUTS_MAX).map((name) => file(name))).success).toBe(true)
    expect(specWith(names.map((name) => file(name))).success).toBe(false)
  })
})
