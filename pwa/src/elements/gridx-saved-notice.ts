// Says that a view shows saved data (offline), or that loading failed.
import { html, LitElement, nothing } from 'lit'
import type { TemplateResult } from 'lit'
import type { LoadStatus } from '../controllers/live-resource.ts'
import { sharedStyles } from '../styles/shared-styles.ts'

export class GridxSavedNotice extends LitElement {
  static override properties = { status: {}, error: {} }
  static override styles = sharedStyles

  declare status: LoadStatus
  declare error: string | undefined

  constructor() {
    super()
    this.status = 'loading'
  }

  override render(): TemplateResult | typeof nothing {
    if (this.status === 'saved') {
      return html`<p class="notice" data-saved>
        Saved data from your last visit: it may be out of date until the daemon is reachable.
      </p>`
    }
    if (this.status === 'error') {
      return html`<p class="notice error" role="alert">Could not load: ${this.error}</p>`
    }
    return nothing
  }
}

customElements.define('gridx-saved-notice', GridxSavedNotice)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-saved-notice': GridxSavedNotice
  }
}
