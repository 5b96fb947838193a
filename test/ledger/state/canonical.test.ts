import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../../../ledger/state/canonical.ts'

describe('canonicalJson', () => {
  it('should encode alike when objects differ only in key order, at any depth', () => {
    const a = { env: { A: '1', B: '2' }, args: ['x'], nested: { z: { q: 1, p: 2 }, y: null } }
    const b = { nested: { y: null, z: { p: 2, q: 1 } }, args: ['x'], env: { B: '2', A: '1' } }
    expect(canonicalJson(a)).toBe(canonicalJson(b))
    expect(canonicalJson(b)).toBe(
      '{"args":["x"],"env":{"A":"1","B":"2"},"nested":{"y":null,"z":{"p":2,"q":1}}}',
    )
  })

  it('should encode differently when array order or a value differs', () => {
    expect(canonicalJson({ args: ['a', 'b'] })).not.toBe(canonicalJson({ args: ['b', 'a'] }))
    expect(canonicalJson({ env: { A: '1' } })).not.toBe(canonicalJson({ env: { A: '2' } }))
  })
})
