// gridx train's flags, and how a training job is shown by status and while it is followed.
import { describe, expect, it } from 'vitest'
import { TRAINING_ROUNDS_MAX } from '../../../protocol/index.ts'
import type { ParentView, TrainingView } from '../../../protocol/index.ts'
import { cliRefusal as refusal } from '../../fixtures/cli-refusal.ts'
import { parentDetails } from '../../../node/cli/shard-commands.ts'
import { trainingProgress } from '../../../node/cli/train-commands.ts'

const TRAINING: TrainingView = {
  rounds: 3,
  minShards: 1,
  roundTimeoutS: 30,
  aggregate: 'fedavg',
  round: 2,
  history: [
    {
      index: 1,
      state: 'done',
      openedAt: 0,
      closedAt: 12_500,
      shards: [
        {
          shard: 0,
          job: 'jt00001t1s0',
          state: 'succeeded',
          startedAt: 1000,
          finishedAt: 4000,
          cut: false,
        },
        {
          shard: 1,
          job: 'jt00001t1s1',
          state: 'cancelled',
          startedAt: 1000,
          finishedAt: 12_000,
          cut: true,
        },
      ],
      aggregateJob: 'jt00001t1a',
      global: [{ name: 'global/weights.npz', cid: 'bafy', size: 10 }],
      metrics: { accuracy: 0.91234, loss: 0.5 },
    },
    {
      index: 2,
      state: 'running',
      openedAt: 13_000,
      closedAt: null,
      shards: [
        {
          shard: 0,
          job: 'jt00001t2s0',
          state: 'succeeded',
          startedAt: 13_500,
          finishedAt: 14_000,
          cut: false,
        },
        {
          shard: 1,
          job: 'jt00001t2s1',
          state: 'running',
          startedAt: 13_500,
          finishedAt: null,
          cut: false,
        },
      ],
      aggregateJob: null,
      global: null,
      metrics: {},
    },
  ],
  model: null,
}

const PARENT: ParentView = {
  id: 'jt00001',
  submitter: 'alice',
  state: 'running',
  shards: [
    { index: 0, inputs: [], jobs: ['jt00001t1s0', 'jt00001t2s0'], state: 'succeeded' },
    { index: 1, inputs: [], jobs: ['jt00001t1s1', 'jt00001t2s1'], state: 'running' },
  ],
  reduce: 'jt00001t1a',
  hasReduce: true,
  shardsDone: 1,
  costMc: 3000,
  maxPriceMc: 21_000,
  createdAt: 0,
  finishedAt: null,
  reason: null,
  training: TRAINING,
}

describe('gridx train', () => {
  it('should refuse rounds, shards and a round timeout out of bounds before any call', async () => {
    const bad = [
      [['--rounds', '0'], `--rounds takes a whole number from 1 to ${TRAINING_ROUNDS_MAX}`],
      [['--rounds', String(TRAINING_ROUNDS_MAX + 1)], '--rounds takes'],
      [['--shards', '1.5'], '--shards takes'],
      [['--min-shards', '3'], '--min-shards cannot exceed --shards (2)'],
      [['--round-timeout', '0'], '--round-timeout takes'],
    ] as const
    for (const [flags, message] of bad) {
      const args = ['train', '-c', 'x', '--input', 'd.csv', '--rounds', '2', '--shards', '2']
      const error = await refusal([...args, ...flags])
      expect(error.message).toContain(message)
    }
  })

  it('should refuse a training without a dataset before any call', async () => {
    const error = await refusal(['train', '-c', 'x', '--rounds', '2', '--shards', '2'])
    expect(error.message).toBe('gridx train splits the dataset --input names: give one')
  })

  it('should refuse an aggregate rule when it is not one of the three', async () => {
    const args = ['train', '-c', 'x', '--input', 'd.csv', '--rounds', '1', '--shards', '1']
    const error = await refusal([...args, '--aggregate', 'mean'])
    expect(error.message).toContain('fedavg, median, trimmed-mean')
  })
})

describe('a training job shown', () => {
  it('should show each round, its shards, cuts, seconds and metrics when status is asked', () => {
    const text = parentDetails(PARENT)
    expect(text).toContain('jt00001 (training)')
    expect(text).toContain('rounds    2/3, fedavg, at least 1 of 2 shards, 30 s a round')
    // Each round's aggregate job, whose outputs are the round's model and metrics.json.
    expect(text).toMatch(/SECONDS\s+AGGREGATE\s+METRICS/)
    expect(text).toMatch(/1\s+done\s+1\/2\s+1\s+12\.5\s+jt00001t1a\s+accuracy=0\.9123 loss=0\.5/)
    expect(text).toMatch(/2\s+running\s+1\/2\s+0\s+-\s+-\s+-/)
  })

  it('should name the round and its shards done when a training is followed', () => {
    expect(trainingProgress(PARENT)).toBe('round 2/3: 1/2 shards done')
    const aggregating: ParentView = {
      ...PARENT,
      training: {
        ...TRAINING,
        history: [{ ...TRAINING.history[1]!, state: 'aggregating', aggregateJob: 'jt00001t2a' }],
      },
    }
    expect(trainingProgress(aggregating)).toBe('round 2/3: aggregating')
    const done: ParentView = { ...PARENT, state: 'succeeded' }
    expect(trainingProgress(done)).toBe('succeeded')
  })
})
