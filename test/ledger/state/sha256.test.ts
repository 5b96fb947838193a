import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../../../ledger/state/sha256.ts'

const reference = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')

describe('sha256Hex', () => {
  it('should give the FIPS 180-4 digests when given the standard test messages', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
  })

  it('should agree with node:crypto when lengths cross every block boundary', () => {
    for (let length = 0; length <= 200; length++) {
      const text = 'é'.repeat(length % 7) + 'a'.repeat(length)
      expect(sha256Hex(text), `length ${length}`).toBe(reference(text))
    }
  })

  it('should agree with node:crypto when given a megabyte of code', () => {
    const text = 'print(1)\n'.repeat(116_509)
    expect(sha256Hex(text)).toBe(reference(text))
  })
})
