// The banner that says the app is offline (showing saved data) or still connecting.
import { html, LitElement, css, nothing } from 'lit'
import type { TemplateResult } from 'lit'
import type { AppConnectionState } from '../net/gridx-client.ts'

/**
 * Shows nothing while connected. Its text sits in a polite live region, so a screen reader
 * hears the connection drop and come back. The bar lies over the foot of the screen, out of
 * the page's flow: coming and going, it moves nothing (no layout shift). "Connecting" shows
 * only once the first connection has taken longer than a blink, so a load that connects at
 * once flashes nothing.
 * @csspart banner - the coloured bar
 */
export class GridxConnectionBanner extends LitElement {
  static override properties = { state: {} }
  static override styles = css`
    :host {
      position: fixed;
      inset-inline: 0;
      bottom: 0;
      z-index: 10;
    }
    .banner {
      padding: 0.5rem 1rem;
      font-weight: 600;
      text-align: center;
      box-shadow: 0 -1px 4px rgb(0 0 0 / 0.25);
    }
    /* Hidden for its first 600 ms, by CSS alone: no timer to clear when it goes. */
    .connecting {
      animation: appear 0s linear 600ms both;
    }
    @keyframes appear {
      from {
        visibility: hidden;
      }
      to {
        visibility: visible;
      }
    }
    .offline {
      background: var(--offline-bg);
      color: var(--offline-fg);
    }
    .connecting.banner {
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
