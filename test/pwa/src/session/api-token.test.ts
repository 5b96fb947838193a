import { describe, expect, it } from 'vitest'
import {
  forgetApiToken,
  loadApiToken,
  TOKEN_STORAGE_KEY,
  tokenFromFragment,
} from '../../../../pwa/src/session/api-token.ts'
import type { TokenEnvironment } from '../../../../pwa/src/session/api-token.ts'

function environment(hash: string, stored?: string) {
  const items = new Map<string, string>(stored === undefined ? [] : [[TOKEN_STORAGE_KEY, stored]])
  const replaced: string[] = []
  const env: TokenEnvironment = {
    location: { hash, pathname: '/jobs', search: '?x=1' },
    history: { replaceState: (_data, _unused, url) => void replaced.push(url) },
    storage: {
      getItem: (key) => items.get(key) ?? null,
      setItem: (key, value) => void items.set(key, value),
      removeItem: (key) => void items.delete(key),
    },
  }
  return { env, items, replaced }
}

describe('api token', () => {
  it('should read the token of a #token= fragment', () => {
    expect(tokenFromFragment('#token=abc123')).toBe('abc123')
    expect(tokenFromFragment('#token=a%2Bb')).toBe('a+b')
  })

  it('should find no token when the fragment has none or an empty one', () => {
    expect(tokenFromFragment('')).toBeUndefined()
    expect(tokenFromFragment('#token=')).toBeUndefined()
    expect(tokenFromFragment('#other=1')).toBeUndefined()
  })

  it('should store a fragment token and take it out of the address bar', () => {
    const { env, items, replaced } = environment('#token=fresh', 'old')
    expect(loadApiToken(env)).toBe('fresh')
    expect(items.get(TOKEN_STORAGE_KEY)).toBe('fresh')
    expect(replaced).toEqual(['/jobs?x=1'])
  })

  it('should use the stored token when the URL has none, without touching the address bar', () => {
    const { env, replaced } = environment('', 'kept')
    expect(loadApiToken(env)).toBe('kept')
    expect(replaced).toEqual([])
  })

  it('should have no token when none was given or stored, and forget a refused one', () => {
    const { env, items } = environment('')
    expect(loadApiToken(env)).toBeUndefined()
    items.set(TOKEN_STORAGE_KEY, 'bad')
    forgetApiToken(env.storage)
    expect(loadApiToken(env)).toBeUndefined()
  })
})
