import { describe, expect, it } from 'vitest'
import { jobSpecSchema } from '../../../protocol/index.ts'
import {
  DEFAULT_FIELDS,
  errorPlace,
  runtimeOfFileName,
  specOf,
} from '../../../pwa/src/submit-form.ts'

describe('submit form', () => {
  it('should make a spec the protocol accepts from the default fields', () => {
    expect(jobSpecSchema.safeParse(specOf(DEFAULT_FIELDS)).success).toBe(true)
  })

  it('should send an empty or non-numeric limit as null, for the daemon to refuse by name', () => {
    const spec = specOf({ ...DEFAULT_FIELDS, memoryMb: '', cpus: 'abc' })
    expect(spec.memoryMb).toBeNull()
    expect(spec.cpus).toBeNull()
    const result = jobSpecSchema.safeParse(spec)
    expect(result.success).toBe(false)
  })

  it('should place an error by its field, and anything else by the submit button', () => {
    expect(errorPlace('spec.memoryMb')).toBe('memoryMb')
    expect(errorPlace('spec.code')).toBe('code')
    expect(errorPlace('idempotencyId')).toBe('submit')
    expect(errorPlace(undefined)).toBe('submit')
    expect(errorPlace(42)).toBe('submit')
  })

  it('should place a refusal of the inputs by the input files', () => {
    expect(errorPlace('spec.inputs.0.size')).toBe('inputs')
    expect(errorPlace('spec.inputs')).toBe('inputs')
  })

  it('should send the uploaded inputs in the spec, and none when there are none', () => {
    const cid = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
    const inputs = [{ name: 'a.csv', cid, size: 3 }]
    const spec = specOf(DEFAULT_FIELDS, 'cat inputs/a.csv', inputs)
    expect(jobSpecSchema.parse(spec).inputs).toEqual(inputs)
    expect('inputs' in specOf(DEFAULT_FIELDS)).toBe(false)
  })

  it('should pick the runtime from a file name', () => {
    expect(runtimeOfFileName('train.PY')).toBe('python')
    expect(runtimeOfFileName('a.mjs')).toBe('node')
    expect(runtimeOfFileName('run.sh')).toBe('bash')
    expect(runtimeOfFileName('notes.txt')).toBeUndefined()
  })
})
