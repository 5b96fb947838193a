import { describe, expect, it } from 'vitest'
import { parseRoute } from '../../../pwa/src/router.ts'

describe('parseRoute', () => {
  it('should route the app paths', () => {
    expect(parseRoute('/')).toEqual({ name: 'jobs' })
    expect(parseRoute('/jobs/')).toEqual({ name: 'jobs' })
    expect(parseRoute('/jobs/jabc123')).toEqual({ name: 'job', id: 'jabc123' })
    expect(parseRoute('/submit', '?from=jabc123')).toEqual({ name: 'submit', from: 'jabc123' })
    expect(parseRoute('/submit')).toEqual({ name: 'submit', from: undefined })
    expect(parseRoute('/wallet')).toEqual({ name: 'wallet' })
    expect(parseRoute('/mesh')).toEqual({ name: 'mesh' })
  })

  it('should say not found for anything else', () => {
    expect(parseRoute('/jobs/a/b')).toEqual({ name: 'not-found' })
    expect(parseRoute('/admin')).toEqual({ name: 'not-found' })
  })
})
