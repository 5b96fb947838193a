// One output stream of a job, following its end while the job runs, with a download link.
import { html, LitElement, css } from 'lit'
import type { PropertyValues, TemplateResult } from 'lit'
import { sharedStyles } from '../styles/shared-styles.ts'

/**
 * @csspart output - the <pre> holding the text
 */
export class GridxOutputPane extends LitElement {
  static override properties = { label: {}, text: {}, jobId: {}, live: { type: Boolean } }
  static override styles = [
    sharedStyles,
    css`
      .bar {
        display: flex;
        justify-content: space-between;
        align-items: baseline;
        gap: 1rem;
      }
      pre {
        background: var(--code-bg);
        color: var(--fg);
        border: 1px solid var(--border);
        border-radius: 6px;
        padding: 0.75rem;
        margin: 0.25rem 0 0;
        max-height: 24rem;
        overflow: auto;
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        min-height: 3rem;
      }
    `,
  ]

  declare label: string
  declare text: string
  declare jobId: string
  declare live: boolean
  #url: string | undefined

  constructor() {
    super()
    this.label = 'output'
    this.text = ''
    this.jobId = ''
    this.live = false
  }

  override disconnectedCallback(): void {
    if (this.#url !== undefined) URL.revokeObjectURL(this.#url)
    this.#url = undefined
    super.disconnectedCallback()
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (!changed.has('text')) return
    const pre = this.renderRoot.querySelector('pre')
    if (pre !== null && this.live) pre.scrollTop = pre.scrollHeight
  }

  override render(): TemplateResult {
    const id = `out-${this.label}`
    return html`
      <div class="bar">
        <h2 id=${id}>${this.label}${this.live ? html` <span class="muted">(live)</span>` : ''}</h2>
        <a href="#" download="${this.jobId}.${this.label}.txt" @click=${this.#download}>
          Download ${this.label}
        </a>
      </div>
      <pre part="output" role="log" aria-labelledby=${id} tabindex="0">
${this.text || (this.live ? '' : '(empty)')}</pre>
    `
  }

  /** Builds the file only when asked: the text may be a megabyte. */
  #download = (event: Event): void => {
    const anchor = event.currentTarget as HTMLAnchorElement
    if (this.#url !== undefined) URL.revokeObjectURL(this.#url)
    this.#url = URL.createObjectURL(new Blob([this.text], { type: 'text/plain' }))
    anchor.href = this.#url
  }
}

customElements.define('gridx-output-pane', GridxOutputPane)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-output-pane': GridxOutputPane
  }
}
