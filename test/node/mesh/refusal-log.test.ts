// The refusal log: one warn line per peer and reason in an interval, within a bounded memory.
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { RefusalLog } from '../../../node/mesh/refusal-log.ts'
import type { LogLine } from './raft-peers.ts'

function refusalLog(options: { peersMax?: number } = {}) {
  const lines: LogLine[] = []
  let nowMs = 0
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line)) },
  )
  const log = new RefusalLog({ logger, intervalMs: 1000, now: () => nowMs, ...options })
  const warned = () => lines.filter((line) => line.level === 40).map((line) => line.peer)
  return { log, lines, warned, advance: (ms: number) => (nowMs += ms) }
}

describe('RefusalLog', () => {
  it('should warn once per peer and reason within an interval, and again after it', () => {
    const { log, lines, warned, advance } = refusalLog()
    for (let i = 0; i < 5; i++) log.refused('p1', 'not admitted', {}, 'refused')
    log.refused('p1', 'garbage', {}, 'refused')
    log.refused('p2', 'not admitted', {}, 'refused')
    expect(warned()).toEqual(['p1', 'p1', 'p2'])
    expect(lines.filter((line) => line.msg === 'refused again')).toHaveLength(4)
    advance(1000)
    log.refused('p1', 'not admitted', {}, 'refused')
    expect(warned()).toEqual(['p1', 'p1', 'p2', 'p1'])
  })

  it('should forget the oldest peer when it remembers as many as its bound', () => {
    const { log, warned } = refusalLog({ peersMax: 2 })
    for (const peer of ['p1', 'p2', 'p3']) log.refused(peer, 'r', {}, 'refused')
    // p1 was forgotten to make room for p3: it is news again; p3 is not.
    log.refused('p1', 'r', {}, 'refused')
    log.refused('p3', 'r', {}, 'refused')
    expect(warned()).toEqual(['p1', 'p2', 'p3', 'p1'])
  })
})
