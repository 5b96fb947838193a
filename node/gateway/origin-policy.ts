// Who may use the daemon's port from a browser (DESIGN section 7). A page on another site
// can make a browser send requests here; the browser names that site in `Origin`, so the API
// accepts only the daemon's own origins and those the owner allowed (`--allow-origin`). DNS
// rebinding points a foreign name at 127.0.0.1, which makes the page same-origin, but the
// browser still sends the foreign name in `Host`: a loopback listener answers only its own
// names. Requests without Origin (curl, the CLI) are not a browser acting for another site.
import { networkInterfaces } from 'node:os'

/** Names by which a loopback listener is reached. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]']

/** A Host value that is safe to repeat inside a header (a name or an address, and a port). */
const HOST_SYNTAX = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/

export interface OriginPolicyInit {
  /** The address the gateway binds, as configured (`127.0.0.1`, `0.0.0.0`, `::`, ...). */
  readonly listenHost: string
  /** Extra origins allowed to use the API, e.g. a TLS proxy's `https://gridx.example`. */
  readonly allowOrigins?: readonly string[]
  /** Addresses of this machine, for a listener on every address; os.networkInterfaces(). */
  readonly interfaceAddresses?: () => readonly string[]
}

/** Normalises an allowed origin; throws a TypeError when `value` is not an http(s) origin. */
export function parseOrigin(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new TypeError(`"${value}" is not an origin such as https://gridx.example:8443`)
  }
  const bare = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === ''
  if (!['http:', 'https:'].includes(url.protocol) || !bare || url.password !== '') {
    throw new TypeError(`"${value}" is not an origin such as https://gridx.example:8443`)
  }
  return url.origin
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase()
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare)
}

function bracketed(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address
}

/** The Host values by which a browser on `origin` reaches the daemon through a proxy that
 * passes Host on: the origin's host, with its default port written out or not. */
function hostsOfOrigin(origin: string): string[] {
  const url = new URL(origin)
  if (url.port !== '') return [url.host]
  return [url.host, `${url.host}:${url.protocol === 'https:' ? 443 : 80}`]
}

function machineAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .map((entry) => entry.address.replace(/%.*$/, ''))
}

export class OriginPolicy {
  readonly #init: OriginPolicyInit
  readonly #allowed: ReadonlySet<string>
  readonly #loopback: boolean
  /** `name:port` values a loopback listener answers; empty until bind(). */
  #hosts = new Set<string>()
  #origins = new Set<string>()

  constructor(init: OriginPolicyInit) {
    this.#init = init
    this.#allowed = new Set((init.allowOrigins ?? []).map(parseOrigin))
    this.#loopback = isLoopback(init.listenHost)
  }

  /** Called once the port is known (port 0 resolves at listen). Until then nothing passes. */
  bind(port: number): void {
    const { listenHost } = this.#init
    const wildcard = listenHost === '0.0.0.0' || listenHost === '::' || listenHost === ''
    // A wildcard listener is reached at each of the machine's addresses, and at the wildcard
    // itself: the URL the daemon prints for it names that.
    const addresses = wildcard
      ? [listenHost, ...(this.#init.interfaceAddresses ?? machineAddresses)(), ...LOOPBACK_NAMES]
      : [listenHost, ...(this.#loopback ? LOOPBACK_NAMES : [])]
    const names = addresses.map((address) => bracketed(address).toLowerCase())
    const withPort = (name: string) => (port === 80 ? [name, `${name}:80`] : [`${name}:${port}`])
    // A proxy in front of the daemon (the reason for --allow-origin) may pass the browser's
    // Host on unchanged, as Caddy does: the owner named that host, so it is not a rebinding.
    const proxied = [...this.#allowed].flatMap(hostsOfOrigin)
    this.#hosts = new Set([...names.flatMap(withPort), ...proxied])
    this.#origins = new Set(
      names.map((name) => (port === 80 ? `http://${name}` : `http://${name}:${port}`)),
    )
  }

  /** True when a request with this Host header may be answered at all. Only a loopback
   * listener checks it: behind any other, the names that reach it are the network's. */
  acceptsHost(host: string | undefined): boolean {
    if (!this.#loopback || host === undefined) return true
    return this.#hosts.has(host.toLowerCase())
  }

  /** True when a request with this Origin header may use the API; no Origin is no browser
   * acting for a site, and passes. */
  acceptsOrigin(origin: string | undefined): boolean {
    if (origin === undefined) return true
    const lower = origin.toLowerCase()
    return this.#origins.has(lower) || this.#allowed.has(lower)
  }

  /** The Content-Security-Policy of the web app served to `host`: its own scripts only, no
   * framing, no plugins, no <base>; the API's WebSocket is the only other place it talks to.
   * style-src allows inline styles: the app's page and CodeMirror's editor set them. */
  contentSecurityPolicy(host: string | undefined): string {
    const self = host !== undefined && HOST_SYNTAX.test(host.toLowerCase()) ? ` ws://${host}` : ''
    return [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "font-src 'self'",
      `connect-src 'self'${self}`,
      "worker-src 'self'",
      "manifest-src 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
      "base-uri 'none'",
    ].join('; ')
  }
}
