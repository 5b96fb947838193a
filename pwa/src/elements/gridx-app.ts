// The app shell: header and navigation, the connection banner, and the current view. It
// owns the daemon client and the offline cache for the page's life.
import { html, LitElement, css } from 'lit'
import type { PropertyValues, TemplateResult } from 'lit'
import { GridxClient } from '../net/gridx-client.ts'
import { forgetApiToken, loadApiToken, tokenFromFragment } from '../session/api-token.ts'
import { OfflineCache } from '../storage/offline-cache.ts'
import { ConnectionController } from '../controllers/connection-controller.ts'
import { parseRoute, routeTitle } from '../router.ts'
import type { Route } from '../router.ts'
import type { AppServices } from '../services.ts'
import { sharedStyles } from '../styles/shared-styles.ts'
import './gridx-connection-banner.ts'
import './gridx-token-help.ts'
import './gridx-job-list.ts'
import './gridx-job-page.ts'
import './gridx-submit-view.ts'
import './gridx-wallet-view.ts'
import './gridx-mesh-view.ts'

const NAV: readonly { readonly path: string; readonly label: string; readonly route: string }[] = [
  { path: '/jobs', label: 'Jobs', route: 'jobs' },
  { path: '/submit', label: 'Submit', route: 'submit' },
  { path: '/wallet', label: 'Wallet', route: 'wallet' },
  { path: '/mesh', label: 'Mesh', route: 'mesh' },
]

/**
 * The root element. Reads the API token (fragment, then storage), connects, and routes by
 * path. Without a token, or when the daemon refuses it, shows `gridx-token-help` instead.
 */
export class GridxApp extends LitElement {
  static override properties = { route: { state: true } }
  static override styles = [
    sharedStyles,
    css`
      :host {
        min-height: 100vh;
        display: flex;
        flex-direction: column;
      }
      header {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem 1.5rem;
        padding: 0.6rem 1rem;
        background: var(--header-bg);
        border-bottom: 1px solid var(--border);
      }
      .brand {
        font-weight: 700;
        font-size: 1.1rem;
        color: var(--fg);
        text-decoration: none;
      }
      nav ul {
        display: flex;
        gap: 0.25rem;
        list-style: none;
        margin: 0;
        padding: 0;
        flex-wrap: wrap;
      }
      nav a {
        display: block;
        padding: 0.4rem 0.7rem;
        border-radius: 6px;
        color: var(--fg);
        text-decoration: none;
      }
      nav a[aria-current='page'] {
        background: var(--accent);
        color: var(--on-accent);
      }
      main {
        flex: 1;
        width: 100%;
        max-width: 1100px;
        margin: 0 auto;
        /* Room at the foot for the connection banner, which lies over it when shown. */
        padding: 1rem 1rem 3.5rem;
      }
      main:focus {
        outline: none;
      }
    `,
  ]

  declare route: Route
  readonly #token: string | undefined
  readonly #services: AppServices | undefined
  readonly #connection: ConnectionController | undefined

  constructor() {
    super()
    this.route = parseRoute(location.pathname, location.search)
    this.#token = loadApiToken({ location, history, storage: localStorage })
    if (this.#token !== undefined) {
      const client = new GridxClient(location.origin, this.#token)
      this.#services = {
        client,
        cache: new OfflineCache(localStorage),
        navigate: (path) => this.#navigate(path),
      }
      this.#connection = new ConnectionController(this, client)
    }
  }

  override connectedCallback(): void {
    super.connectedCallback()
    addEventListener('popstate', this.#onPopState)
    addEventListener('hashchange', this.#onHashChange)
    void this.#services?.client.start().then((state) => {
      if (state === 'unauthorized') forgetApiToken(localStorage)
    })
  }

  override disconnectedCallback(): void {
    removeEventListener('popstate', this.#onPopState)
    removeEventListener('hashchange', this.#onHashChange)
    this.#services?.client.close()
    super.disconnectedCallback()
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('route')) document.title = `${routeTitle(this.route)} · Grid-X`
  }

  override render(): TemplateResult {
    const services = this.#services
    const state = this.#connection?.state
    if (services === undefined || state === 'unauthorized') {
      return html`<main id="main">
        <gridx-token-help .reason=${services ? 'refused' : 'missing'}></gridx-token-help>
      </main>`
    }
    return html`
      <header>
        <a class="brand" href="/jobs" @click=${this.#onLink}>Grid-X</a>
        <nav aria-label="Main">
          <ul>
            ${NAV.map(
              (item) =>
                html`<li>
                  <a
                    href=${item.path}
                    @click=${this.#onLink}
                    aria-current=${this.#current(item.route) ? 'page' : 'false'}
                    >${item.label}</a
                  >
                </li>`,
            )}
          </ul>
        </nav>
      </header>
      <gridx-connection-banner .state=${state ?? 'connecting'}></gridx-connection-banner>
      <main id="main" tabindex="-1" @click=${this.#onLink}>${this.#view(services)}</main>
    `
  }

  #view(services: AppServices): TemplateResult {
    const route = this.route
    switch (route.name) {
      case 'jobs':
        return html`<gridx-job-list .services=${services}></gridx-job-list>`
      case 'job':
        return html`<gridx-job-page .services=${services} .jobId=${route.id}></gridx-job-page>`
      case 'submit':
        return html`<gridx-submit-view
          .services=${services}
          .fromJobId=${route.from}
        ></gridx-submit-view>`
      case 'wallet':
        return html`<gridx-wallet-view .services=${services}></gridx-wallet-view>`
      case 'mesh':
        return html`<gridx-mesh-view .services=${services}></gridx-mesh-view>`
      case 'not-found':
        return html`<h1>Not found</h1>
          <p>Nothing lives at this address. <a href="/jobs">See your jobs</a>.</p>`
    }
  }

  #current(name: string): boolean {
    return this.route.name === name || (name === 'jobs' && this.route.name === 'job')
  }

  /** Same-origin links inside the app change the route without a page load. */
  #onLink = (event: MouseEvent): void => {
    if (event.defaultPrevented || event.button !== 0) return
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    const anchor = event
      .composedPath()
      .find((node): node is HTMLAnchorElement => node instanceof HTMLAnchorElement)
    if (anchor === undefined || anchor.target !== '' || anchor.hasAttribute('download')) return
    const url = new URL(anchor.href)
    if (url.origin !== location.origin) return
    event.preventDefault()
    this.#navigate(url.pathname + url.search)
  }

  #navigate(path: string): void {
    if (path !== location.pathname + location.search) history.pushState(null, '', path)
    this.route = parseRoute(location.pathname, location.search)
    // Move focus to the new view so keyboard and screen reader users land on it.
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('main')?.focus())
  }

  /** A login URL opened in a tab that already shows the app only changes the fragment: take
   * the new token and start again with it. */
  #onHashChange = (): void => {
    if (tokenFromFragment(location.hash) === undefined) return
    loadApiToken({ location, history, storage: localStorage })
    location.reload()
  }

  #onPopState = (): void => {
    this.route = parseRoute(location.pathname, location.search)
  }
}

customElements.define('gridx-app', GridxApp)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-app': GridxApp
  }
}
