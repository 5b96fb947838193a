// The API token: read once from the URL fragment that `gridx start` prints
// (`http://127.0.0.1:7070/#token=…`), kept in localStorage, and removed from the address bar
// so it does not end up in bookmarks, screenshots or the history.

export const TOKEN_STORAGE_KEY = 'gridx.api-token'

/** The parts of the browser this module touches, so tests can pass their own. */
export interface TokenEnvironment {
  readonly location: { readonly hash: string; readonly pathname: string; readonly search: string }
  readonly history: { replaceState(data: unknown, unused: string, url: string): void }
  readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>
}

/** Token of a URL fragment such as `#token=abc`, if any. */
export function tokenFromFragment(hash: string): string | undefined {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token')?.trim()
  return token === undefined || token === '' ? undefined : token
}

/** Takes a token from the fragment (storing it and cleaning the address bar), or the stored
 * one. Undefined when there is none. */
export function loadApiToken(environment: TokenEnvironment): string | undefined {
  const { location, history, storage } = environment
  const fromUrl = tokenFromFragment(location.hash)
  if (fromUrl !== undefined) {
    storage.setItem(TOKEN_STORAGE_KEY, fromUrl)
    history.replaceState(null, '', location.pathname + location.search)
    return fromUrl
  }
  return storage.getItem(TOKEN_STORAGE_KEY) ?? undefined
}

/** Forgets the stored token (after the daemon refused it). */
export function forgetApiToken(storage: Pick<Storage, 'removeItem'>): void {
  storage.removeItem(TOKEN_STORAGE_KEY)
}
