// The banner that says the app is offline (showing saved data) or still connecting.
import { html, LitElement, css, nothing } from 'lit'
import type { TemplateResult } from 'lit'
import type { AppConnectionState } from '../net/gridx-client.ts'

/**
 * Shows nothing while connected. Its text sits in a polite live region, so a screen reader
 * hears the connection drop and come back.
 * @csspart banner - the coloured bar
 */
export class GridxConnectionBanner extends LitElement {
  static override properties = { state: {} }
  static override styles = css`
    .banner {
      padding: 0.5rem 1rem;
      font-weight: 600;
      text-align: center;
    }
    .offline {
      background: var(--offline-bg);
      color: var(--offline-fg);
    }
    .connecting {
      background: var(--warning-bg);
      color: var(--fg);
    }
  `

  declare state: AppConnectionState

  constructor() {
    super()
    this.state = 'connecting'
  }

  override render(): TemplateResult {
    return html`<div role="status" aria-live="polite">${this.#text()}</div>`
  }

  #text(): TemplateResult | typeof nothing {
    if (this.state === 'offline') {
      return html`<div class="banner offline" part="banner" data-state="offline">
        Offline: showing saved data. Reconnecting to the daemon…
      </div>`
    }
    if (this.state === 'connecting') {
      return html`<div class="banner connecting" part="banner" data-state="connecting">
        Connecting to the daemon…
      </div>`
    }
    return nothing
  }
}

customElements.define('gridx-connection-banner', GridxConnectionBanner)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-connection-banner': GridxConnectionBanner
  }
}
