// Live output kept on the coordinator: numbered by the executor (the run's fence and a
// sequence), so that a follower resuming after a reconnect or a change of coordinator gets
// every chunk after the last it saw, none twice.
import { describe, expect, it } from 'vitest'
import { LiveLogs } from '../../../node/coordinator/index.ts'
import type { LiveLogEvent } from '../../../node/coordinator/index.ts'
import { LIVE_LOG_JOBS_MAX } from '../../../protocol/index.ts'

function collect(): { events: LiveLogEvent[]; push: (event: LiveLogEvent) => void } {
  const events: LiveLogEvent[] = []
  return { events, push: (event) => events.push(event) }
}

const texts = (events: readonly LiveLogEvent[]) =>
  events.map((event) => ('data' in event ? event.data : `end:${event.state}`))

describe('LiveLogs', () => {
  it('should replay only the chunks after the cursor when a follower resumes', () => {
    const logs = new LiveLogs()
    for (let seq = 0; seq < 4; seq++)
      logs.append('j1', 'stdout', `line ${seq}\n`, { fence: 7, seq })
    const { events, push } = collect()
    logs.follow('j1', push, { fence: 7, seq: 1 })
    logs.append('j1', 'stdout', 'line 4\n', { fence: 7, seq: 4 })
    expect(texts(events)).toEqual(['line 2\n', 'line 3\n', 'line 4\n'])
    expect(events[0]).toMatchObject({ fence: 7, seq: 2 })
  })

  it('should drop a chunk it already has when the executor sends it again', () => {
    const logs = new LiveLogs()
    const { events, push } = collect()
    logs.follow('j1', push)
    logs.append('j1', 'stdout', 'a', { fence: 3, seq: 0 })
    logs.append('j1', 'stdout', 'b', { fence: 3, seq: 1 })
    logs.append('j1', 'stdout', 'a', { fence: 3, seq: 0 })
    expect(texts(events)).toEqual(['a', 'b'])
  })

  it('should start afresh when a retry of the job runs under a new fence', () => {
    const logs = new LiveLogs()
    logs.append('j1', 'stdout', 'first run', { fence: 3, seq: 0 })
    logs.append('j1', 'stdout', 'retry', { fence: 9, seq: 0 })
    const { events, push } = collect()
    logs.follow('j1', push, { fence: 3, seq: 0 })
    expect(texts(events)).toEqual(['retry'])
  })

  it('should number chunks itself when a report carries no sequence', () => {
    const logs = new LiveLogs()
    logs.append('j1', 'stderr', 'x')
    logs.append('j1', 'stderr', 'y')
    const { events, push } = collect()
    logs.follow('j1', push, { fence: 0, seq: 0 })
    expect(events).toEqual([{ stream: 'stderr', data: 'y', fence: 0, seq: 1 }])
  })

  it('should tell followers the end and forget the job when it ends', () => {
    const logs = new LiveLogs()
    const { events, push } = collect()
    logs.follow('j1', push)
    logs.append('j1', 'stdout', 'a', { fence: 1, seq: 0 })
    logs.end('j1', 'succeeded')
    expect(texts(events)).toEqual(['a', 'end:succeeded'])
    expect(logs.size).toBe(0)
  })

  it('should keep a followed job, and end its follower, when more jobs come than it keeps', () => {
    const logs = new LiveLogs()
    const { events, push } = collect()
    logs.follow('jfollowed', push)
    logs.append('jfollowed', 'stdout', 'a', { fence: 1, seq: 0 })
    for (let n = 0; n < LIVE_LOG_JOBS_MAX; n++) logs.append(`j${n}`, 'stdout', 'x')
    expect(logs.size).toBe(LIVE_LOG_JOBS_MAX)
    logs.append('jfollowed', 'stdout', 'b', { fence: 1, seq: 1 })
    logs.end('jfollowed', 'succeeded')
    expect(texts(events)).toEqual(['a', 'b', 'end:succeeded'])
  })

  it('should drop the oldest followed job only when every job kept is followed', () => {
    const logs = new LiveLogs()
    const followers = Array.from({ length: LIVE_LOG_JOBS_MAX + 1 }, () => collect())
    followers.forEach((follower, n) => logs.follow(`j${n}`, follower.push))
    expect(logs.size).toBe(LIVE_LOG_JOBS_MAX)
    // Its output is gone, but its follower is kept and still hears the end, from the state.
    logs.end('j0', 'failed')
    expect(texts(followers[0]!.events)).toEqual(['end:failed'])
  })

  it('should drop what it kept and still end a follower when this peer stops leading', () => {
    const logs = new LiveLogs()
    const { events, push } = collect()
    logs.follow('j1', push)
    logs.append('j1', 'stdout', 'a', { fence: 1, seq: 0 })
    logs.append('j2', 'stdout', 'b', { fence: 1, seq: 0 })
    logs.release()
    expect(logs.size).toBe(0)
    logs.end('j1', 'succeeded')
    expect(texts(events)).toEqual(['a', 'end:succeeded'])
  })
})
