// A job's state as a small coloured label (colour is never the only cue: the word is there).
import { html, LitElement, css } from 'lit'
import type { TemplateResult } from 'lit'
import type { JobState } from '../../../protocol/index.ts'
import { stateLabel } from '../format.ts'

/** @csspart badge - the label */
export class GridxStateBadge extends LitElement {
  static override properties = { state: { reflect: true } }
  static override styles = css`
    span {
      display: inline-block;
      padding: 0.1rem 0.5rem;
      border-radius: 999px;
      font-size: 0.8rem;
      font-weight: 600;
      white-space: nowrap;
      border: 1px solid currentColor;
      color: var(--muted);
    }
    :host([state='running']) span,
    :host([state='assigned']) span {
      color: var(--info);
    }
    :host([state='succeeded']) span {
      color: var(--success);
    }
    :host([state='failed']) span,
    :host([state='timed_out']) span,
    :host([state='lost']) span {
      color: var(--danger);
    }
  `

  declare state: JobState

  constructor() {
    super()
    this.state = 'queued'
  }

  override render(): TemplateResult {
    return html`<span part="badge">${stateLabel(this.state)}</span>`
  }
}

customElements.define('gridx-state-badge', GridxStateBadge)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-state-badge': GridxStateBadge
  }
}
