import { describe, expect, it } from 'vitest'
import { ReportBuffer, splitOutput } from '../../../node/executor/executor-reports.ts'
import type { ExecutorReport } from '../../../protocol/index.ts'
import { handedBack, utf8Bytes } from '../../../protocol/index.ts'

const output = (n: number): ExecutorReport => ({
  type: 'output',
  jobId: 'jabcdef1',
  fence: 1,
  stream: 'stdout',
  data: `${n}`,
})
const finished = (jobId: string, fence = 1): ExecutorReport => ({
  type: 'finished',
  jobId,
  fence,
  outcome: handedBack('test'),
})

describe('ReportBuffer', () => {
  it('should drop the oldest output first when it is full', () => {
    const buffer = new ReportBuffer(3)
    buffer.keep(output(1))
    buffer.keep(finished('jaaaaaa1'))
    buffer.keep(output(2))
    buffer.keep(output(3))
    const sent: ExecutorReport[] = []
    buffer.resend((report) => sent.push(report) > 0)
    expect(sent).toEqual([finished('jaaaaaa1'), output(2), output(3)])
    expect(buffer.dropped).toBe(1)
  })

  it('should drop the oldest finished report when it holds nothing else and is full', () => {
    const buffer = new ReportBuffer(2)
    for (const id of ['jaaaaaa1', 'jaaaaaa2', 'jaaaaaa3']) buffer.keep(finished(id))
    const sent: string[] = []
    buffer.resend((report) => sent.push(report.jobId) > 0)
    expect(sent).toEqual(['jaaaaaa2', 'jaaaaaa3'])
    expect(buffer.size).toBe(2)
  })

  it('should keep finished reports after a resend until each is acknowledged', () => {
    const buffer = new ReportBuffer(8)
    buffer.keep(output(1))
    buffer.keep(finished('jaaaaaa1', 4))
    buffer.resend(() => true)
    expect(buffer.size).toBe(1)
    buffer.acknowledge('jaaaaaa1', 3)
    expect(buffer.size).toBe(1)
    buffer.acknowledge('jaaaaaa1', 4)
    expect(buffer.size).toBe(0)
  })

  it('should keep what it could not send, in order, when a resend stops half way', () => {
    const buffer = new ReportBuffer(8)
    for (const n of [1, 2, 3]) buffer.keep(output(n))
    let room = 1
    buffer.resend(() => room-- > 0)
    const sent: ExecutorReport[] = []
    buffer.resend((report) => sent.push(report) > 0)
    expect(sent).toEqual([output(2), output(3)])
  })
})

describe('splitOutput', () => {
  it('should cut text into pieces within the byte limit when it holds wide characters', () => {
    const text = 'a€😀'.repeat(1000)
    const pieces = splitOutput(text, 64)
    expect(pieces.join('')).toBe(text)
    for (const piece of pieces) {
      expect(utf8Bytes(piece)).toBeLessThanOrEqual(64)
      expect(piece).not.toMatch(/[\ud800-\udbff]$/)
    }
  })

  it('should leave text alone when it fits', () => {
    expect(splitOutput('hello', 64)).toEqual(['hello'])
  })
})
