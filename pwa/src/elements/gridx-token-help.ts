// The screen for a missing or refused API token: how to get the right URL.
import { html, LitElement, css } from 'lit'
import type { TemplateResult } from 'lit'
import { sharedStyles } from '../styles/shared-styles.ts'

/** `missing`: the page was opened without `#token=…`; `refused`: the daemon refused it. */
export class GridxTokenHelp extends LitElement {
  static override properties = { reason: {} }
  static override styles = [
    sharedStyles,
    css`
      :host {
        max-width: 40rem;
        margin: 2rem auto;
      }
      pre {
        background: var(--code-bg);
        padding: 0.75rem;
        border-radius: 6px;
        overflow-x: auto;
      }
    `,
  ]

  declare reason: 'missing' | 'refused'

  constructor() {
    super()
    this.reason = 'missing'
  }

  override render(): TemplateResult {
    return html`
      <div class="card">
        <h1>
          ${this.reason === 'refused' ? 'This link’s token was refused' : 'Sign in to Grid-X'}
        </h1>
        <p>
          ${
            this.reason === 'refused'
              ? 'The daemon did not accept the API token this browser had. It may have been made for another daemon or data directory.'
              : 'This app needs the API token of the daemon that serves it. It travels in the link that the daemon prints.'
          }
        </p>
        <h2>Get the right link</h2>
        <ol>
          <li>
            On the machine that runs the daemon, run <code>gridx start</code> (or
            <code>npm start</code> in the repository). It prints a line such as
            <pre tabindex="0">  web app   http://127.0.0.1:7070/#token=…</pre>
          </li>
          <li>
            Open that link in this browser. The token is stored here and removed from the address
            bar.
          </li>
        </ol>
        <p>
          If the daemon is already running, the token is in <code>~/.gridx/api-token</code> (or
          <code>api-token</code> in its <code>--data-dir</code>): open
          <code>${location.origin}/#token=</code> followed by it.
        </p>
      </div>
    `
  }
}

customElements.define('gridx-token-help', GridxTokenHelp)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-token-help': GridxTokenHelp
  }
}
