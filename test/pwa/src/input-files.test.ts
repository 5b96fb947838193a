import { describe, expect, it } from 'vitest'
import {
  JOB_FILE_DEPTH_MAX,
  JOB_FILE_NAME_BYTES_MAX,
  JOB_INPUT_FILE_BYTES_MAX,
  JOB_INPUTS_BYTES_MAX,
  JOB_INPUTS_MAX,
} from '../../../protocol/index.ts'
import { inputsProblems, withPicked } from '../../../pwa/src/input-files.ts'

const file = (name: string, size = 1) => ({ name, size })

describe('input files', () => {
  it('should accept a file of the largest size and refuse one a byte over it', () => {
    const at = inputsProblems([file('a.bin', JOB_INPUT_FILE_BYTES_MAX)])
    expect(at).toEqual({ files: new Map(), overall: null })
    const over = inputsProblems([file('a.bin', JOB_INPUT_FILE_BYTES_MAX + 1)])
    expect(over.files.get('a.bin')).toContain(`${JOB_INPUT_FILE_BYTES_MAX} bytes`)
    expect(over.overall).toBeNull()
  })

  it('should refuse inputs a byte over the job total when every file is within its bound', () => {
    const count = JOB_INPUTS_BYTES_MAX / JOB_INPUT_FILE_BYTES_MAX
    const files = Array.from({ length: count }, (_, n) => file(`${n}`, JOB_INPUT_FILE_BYTES_MAX))
    expect(inputsProblems(files).overall).toBeNull()
    const over = inputsProblems([...files, file('one-more', 1)])
    expect(over.overall).toContain(`${JOB_INPUTS_BYTES_MAX} bytes`)
    expect(over.files.size).toBe(0)
  })

  it('should refuse one file more than a job may have', () => {
    const files = Array.from({ length: JOB_INPUTS_MAX }, (_, n) => file(`f${n}`))
    expect(inputsProblems(files).overall).toBeNull()
    expect(inputsProblems([...files, file('extra')]).overall).toContain(`${JOB_INPUTS_MAX}`)
  })

  it('should refuse a name over the byte bound, with a backslash or climbing out', () => {
    const longest = 'n'.repeat(JOB_FILE_NAME_BYTES_MAX)
    expect(inputsProblems([file(longest)]).files.size).toBe(0)
    const problems = inputsProblems([file(`${longest}x`), file('a\\b'), file('../up')]).files
    expect([...problems.keys()]).toEqual([`${longest}x`, 'a\\b', '../up'])
  })

  it('should accept a folder nested to the deepest a name may be and refuse one deeper', () => {
    const deepest = Array.from({ length: JOB_FILE_DEPTH_MAX }, () => 'd').join('/')
    expect(inputsProblems([file(deepest)]).files.size).toBe(0)
    expect(inputsProblems([file(`${deepest}/f`)]).files.get(`${deepest}/f`)).toContain('path')
  })

  it('should refuse a name that is a file and a directory of another', () => {
    const { overall } = inputsProblems([file('data'), file('data/part-1.csv')])
    expect(overall).toContain('data is a file and a directory')
  })

  it('should replace a picked file of a name already listed and keep the others in order', () => {
    const first = [file('a', 1), file('b', 2)]
    expect(withPicked(first, [file('b', 3), file('c', 4)])).toEqual([
      file('a', 1),
      file('b', 3),
      file('c', 4),
    ])
  })
})
