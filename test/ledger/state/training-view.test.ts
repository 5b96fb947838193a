import { describe, expect, it } from 'vitest'
import { TRAINING_METRICS_MAX } from '../../../protocol/index.ts'
import { parentView } from '../../../ledger/state/index.ts'
import type { RunOutcome } from '../../../ledger/state/index.ts'
import { cheapSpec, Ledger, runResult } from './ledger-fixture.ts'

const CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

function mesh(samples: number[] | null): Ledger {
  const ledger = new Ledger().open('alice').open('bob').register('peer-1', 'bob')
  ledger.ok({
    type: 'training.submit',
    parentId: 'jtrain1',
    submitter: 'alice',
    idempotencyId: 'train-1',
    spec: cheapSpec(),
    shards: [[{ name: 'shard', cid: CID, size: 1 }], [{ name: 'shard', cid: CID, size: 2 }]],
    aggregateCode: 'print("aggregate")',
    rounds: 1,
    minShards: 2,
    roundTimeoutS: null,
    aggregate: 'median',
    samples,
  })
  return ledger
}

function printed(stdoutTail: string): RunOutcome {
  return { state: 'succeeded', cause: null, result: runResult({ stdoutTail }), error: null }
}

function run(ledger: Ledger, jobId: string, outcome: RunOutcome, ms = 1000): void {
  const fence = ledger.assign(jobId, 'peer-1')
  ledger.ok({ type: 'job.start', jobId, fence })
  ledger.advance(ms)
  ledger.ok({ type: 'job.finish', jobId, fence, outcome })
}

function round(ledger: Ledger) {
  return parentView(ledger.state, ledger.state.parents.get('jtrain1')!).training?.history[0]
}

describe('a training round in the view', () => {
  it('should weigh each shard’s last metric line by its samples when the shards are in', () => {
    const ledger = mesh([3, 1])
    run(
      ledger,
      'jtrain1t1s0',
      printed(
        '{"metric": "accuracy", "value": 0.1}\nepoch 1 done\n' +
          '{"metric":"accuracy","value":0.5}\n{"metric":"loss","value":2}\n',
      ),
    )
    run(ledger, 'jtrain1t1s1', printed('{"metric": "accuracy", "value": 0.9}\n'))
    const metrics = round(ledger)?.metrics ?? {}
    expect(metrics.accuracy).toBeCloseTo((3 * 0.5 + 1 * 0.9) / 4, 12)
    expect(metrics.loss).toBe(2)
  })

  it('should weigh the shards the same when their samples are not known', () => {
    const ledger = mesh(null)
    run(ledger, 'jtrain1t1s0', printed('{"metric": "accuracy", "value": 0.5}'))
    run(ledger, 'jtrain1t1s1', printed('{"metric": "accuracy", "value": 0.9}'))
    expect(round(ledger)?.metrics.accuracy).toBeCloseTo(0.7, 12)
  })

  it('should ignore lines when they are not metric objects', () => {
    const ledger = mesh(null)
    const noise = [
      '{"metric": "Accuracy", "value": 1}',
      '{"metric": "loss", "value": "high"}',
      '{"metric": "loss"}',
      '[1, 2]',
      '{"metric": "x", "value": 1e999}',
      '{"metric": "__proto__", "value": 1}',
      'not json {',
    ].join('\n')
    run(ledger, 'jtrain1t1s0', printed(noise))
    run(ledger, 'jtrain1t1s1', printed(''))
    expect(round(ledger)?.metrics).toEqual({})
  })

  it('should keep the first names only when a shard prints more than the bound', () => {
    const ledger = mesh(null)
    const names = Array.from({ length: TRAINING_METRICS_MAX + 4 }, (_, at) => `m_${'x'.repeat(at)}`)
    const lines = names.map((name) => JSON.stringify({ metric: name, value: 1 })).join('\n')
    run(ledger, 'jtrain1t1s0', printed(lines))
    run(ledger, 'jtrain1t1s1', printed(''))
    expect(Object.keys(round(ledger)?.metrics ?? {})).toEqual(names.slice(0, TRAINING_METRICS_MAX))
  })

  it('should show each shard’s job, times and state when the round runs', () => {
    const ledger = mesh(null)
    run(ledger, 'jtrain1t1s0', printed(''), 2500)
    const shard = round(ledger)?.shards[0]
    expect(shard).toMatchObject({ shard: 0, job: 'jtrain1t1s0', state: 'succeeded', cut: false })
    expect((shard?.finishedAt ?? 0) - (shard?.startedAt ?? 0)).toBe(2500)
    expect(round(ledger)?.shards[1]).toMatchObject({ state: 'queued', startedAt: null })
  })
})
