// The job spec schema keeps every environment variable it accepts, or refuses the spec.
import { describe, expect, it } from 'vitest'
import { jobSpecSchema } from '../../protocol/index.ts'

describe('jobSpecSchema env', () => {
  it('should refuse, not drop, an environment name that is an object key of JavaScript', () => {
    // JSON.parse makes "__proto__" an own key; a plain record schema assigns it away silently.
    const spec = JSON.parse('{"runtime":"bash","code":"env","env":{"__proto__":"x","A":"b"}}')
    const parsed = jobSpecSchema.safeParse(spec)
    expect(parsed.success).toBe(false)
    expect(parsed.error?.issues[0]?.message).toMatch(/__proto__/)
  })

  it('should keep every variable when the names are ordinary', () => {
    const parsed = jobSpecSchema.parse({ runtime: 'bash', code: 'env', env: { A: '1', B_2: '' } })
    expect(parsed.env).toEqual({ A: '1', B_2: '' })
    expect(jobSpecSchema.parse({ runtime: 'bash', code: 'env' }).env).toEqual({})
  })
})
