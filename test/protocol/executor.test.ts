import { describe, expect, it } from 'vitest'
import {
  coordinatorFrameSchema,
  EXECUTOR_JOBS_MAX,
  EXECUTOR_OUTPUT_CHUNK_BYTES_MAX,
  executorFrameSchema,
  OUTPUT_TAIL_BYTES_MAX,
} from '../../protocol/index.ts'

const capacity = { cpus: 4, memoryMb: 8192, runtimes: ['python', 'bash'] }
const load = { runningJobs: 0, cpusInUse: 0, memoryMbInUse: 0 }
const result = {
  exitCode: 0,
  stdoutTail: 'hi\n',
  stderrTail: '',
  stdoutBytes: 3,
  stderrBytes: 0,
  stdoutTruncated: false,
  stderrTruncated: false,
  outputCapBytes: 1024,
  wallMs: 12,
  cpuMs: null,
  memoryPeakBytes: null,
  oomKilled: false,
  timedOut: false,
}
const finished = (outcome: object) => ({
  type: 'report',
  report: { type: 'finished', jobId: 'jabcdef1', fence: 7, outcome },
})
const succeeded = { state: 'succeeded', cause: null, result, error: null }

describe('executor frames', () => {
  it('should accept a hello, a heartbeat, an ack, a refusal and every report', () => {
    const frames = [
      { type: 'hello', running: [{ jobId: 'jabcdef1', fence: 3 }], capacity, load },
      { type: 'heartbeat', capacity, load },
      { type: 'ack', jobId: 'jabcdef1', fence: 3 },
      { type: 'refuse', jobId: 'jabcdef1', fence: 3, reason: 'stopping' },
      { type: 'report', report: { type: 'started', jobId: 'jabcdef1', fence: 3 } },
      {
        type: 'report',
        report: { type: 'output', jobId: 'jabcdef1', fence: 3, stream: 'stdout', data: 'x' },
      },
      finished(succeeded),
    ]
    for (const frame of frames) expect(executorFrameSchema.parse(frame)).toEqual(frame)
  })

  it('should refuse a frame when a field is missing, extra, of the wrong type or forged', () => {
    const bad = [
      { type: 'hello', running: [], capacity },
      { type: 'heartbeat', capacity, load, extra: 1 },
      { type: 'ack', jobId: 'jabcdef1', fence: 0 },
      { type: 'ack', jobId: '../etc', fence: 1 },
      { type: 'ack', jobId: 'jabcdef1', fence: '1' },
      { type: 'assign', jobId: 'jabcdef1', fence: 1, spec: { runtime: 'bash', code: '' } },
      { type: 'heartbeat', capacity: { ...capacity, runtimes: ['cobol'] }, load },
      { type: 'heartbeat', capacity: { ...capacity, cpus: 1e9 }, load },
      finished({ ...succeeded, state: 'cancelled' }),
      finished({ ...succeeded, result: { ...result, wallMs: -1 } }),
      null,
      'hello',
    ]
    for (const frame of bad) expect(executorFrameSchema.safeParse(frame).success).toBe(false)
  })

  it('should refuse a frame when a list, a tail or an output chunk is over its limit', () => {
    const running = Array.from({ length: EXECUTOR_JOBS_MAX + 1 }, (_, at) => ({
      jobId: `j${String(at).padStart(6, '0')}`,
      fence: at + 1,
    }))
    const data = 'é'.repeat(EXECUTOR_OUTPUT_CHUNK_BYTES_MAX / 2 + 1)
    const bad = [
      { type: 'hello', running, capacity, load },
      {
        type: 'report',
        report: { type: 'output', jobId: 'jabcdef1', fence: 1, stream: 'stdout', data },
      },
      finished({
        ...succeeded,
        result: { ...result, stdoutTail: 'x'.repeat(OUTPUT_TAIL_BYTES_MAX + 1) },
      }),
    ]
    for (const frame of bad) expect(executorFrameSchema.safeParse(frame).success).toBe(false)
  })

  it('should fill a job spec defaults when a coordinator frame carries an assignment', () => {
    const frame = coordinatorFrameSchema.parse({
      type: 'assign',
      jobId: 'jabcdef1',
      fence: 4,
      spec: { runtime: 'python', code: 'print(1)' },
    })
    expect(frame.type === 'assign' && frame.spec.timeoutS).toBe(60)
    expect(coordinatorFrameSchema.safeParse({ type: 'hello' }).success).toBe(false)
  })
})
