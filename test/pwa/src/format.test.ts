import { describe, expect, it } from 'vitest'
import { formatBytes, formatCredits, formatDurationMs, shortId } from '../../../pwa/src/format.ts'

describe('format', () => {
  it('should show millicredits as credits without trailing zeros', () => {
    expect(formatCredits(1000)).toBe('1 cr')
    expect(formatCredits(37_500)).toBe('37.5 cr')
    expect(formatCredits(1923)).toBe('1.923 cr')
    expect(formatCredits(0)).toBe('0 cr')
    expect(formatCredits(null)).toBe('—')
  })

  it('should show durations and sizes in the unit that reads best', () => {
    expect(formatDurationMs(89)).toBe('89 ms')
    expect(formatDurationMs(3080)).toBe('3.08 s')
    expect(formatDurationMs(125_000)).toBe('2 min 5 s')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(4_089_446)).toBe('3.9 MiB')
  })

  it('should shorten long ids and keep short ones', () => {
    expect(shortId('12D3KooWabcdefghijklmnop')).toBe('12D3KooW…klmnop')
    expect(shortId('fees')).toBe('fees')
  })
})
