// The code field of the submit view: a plain text area at once, CodeMirror once its chunk
// has loaded (it stays a text area if that chunk cannot load, e.g. offline before caching).
import { html, LitElement, css } from 'lit'
import type { PropertyValues, TemplateResult } from 'lit'
import type { Runtime } from '../../../protocol/index.ts'
import { sharedStyles } from '../styles/shared-styles.ts'
import type { CodeEditorHandle } from './code-editor-setup.ts'

/**
 * @fires code-change - `CustomEvent<string>` with the whole code after each edit
 * @csspart editor - the box holding the editor
 */
export class GridxCodeEditor extends LitElement {
  static override properties = {
    value: {},
    runtime: {},
    label: {},
    invalid: { type: Boolean },
    describedBy: { attribute: 'described-by' },
    mode: { state: true },
  }
  static override styles = [
    sharedStyles,
    css`
      .box {
        border: 1px solid var(--border);
        border-radius: 6px;
        overflow: hidden;
        min-height: var(--code-editor-min-height, 14rem);
      }
      .box.invalid {
        border-color: var(--danger);
        border-width: 2px;
      }
      textarea {
        width: 100%;
        min-height: var(--code-editor-min-height, 14rem);
        border: none;
        border-radius: 0;
        font-family: ui-monospace, Menlo, Consolas, monospace;
        resize: vertical;
      }
    `,
  ]

  declare value: string
  declare runtime: Runtime
  declare label: string
  declare invalid: boolean
  declare describedBy: string
  declare mode: 'plain' | 'loading' | 'editor'
  #editor: CodeEditorHandle | undefined

  constructor() {
    super()
    this.value = ''
    this.runtime = 'python'
    this.label = 'Code'
    this.invalid = false
    this.describedBy = ''
    this.mode = 'loading'
  }

  override disconnectedCallback(): void {
    this.#editor?.destroy()
    this.#editor = undefined
    super.disconnectedCallback()
  }

  protected override firstUpdated(): void {
    void this.#load()
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('value')) this.#editor?.setValue(this.value)
    if (changed.has('runtime')) this.#editor?.setRuntime(this.runtime)
  }

  override focus(): void {
    if (this.#editor) this.#editor.focus()
    else this.renderRoot.querySelector('textarea')?.focus()
  }

  override render(): TemplateResult {
    return html`<div
      class="box ${this.invalid ? 'invalid' : ''}"
      part="editor"
      aria-busy=${this.mode === 'loading' ? 'true' : 'false'}
    >
      ${
        this.mode === 'editor'
          ? html`<div class="host"></div>`
          : html`<textarea
              aria-label=${this.label}
              aria-invalid=${this.invalid ? 'true' : 'false'}
              aria-describedby=${this.describedBy}
              spellcheck="false"
              .value=${this.value}
              @input=${this.#onInput}
            ></textarea>`
      }
    </div>`
  }

  async #load(): Promise<void> {
    try {
      const { createCodeEditor } = await import('./code-editor-setup.ts')
      this.mode = 'editor'
      await this.updateComplete
      const parent = this.renderRoot.querySelector<HTMLElement>('.host')
      if (parent === null || !(this.renderRoot instanceof ShadowRoot)) return
      this.#editor = createCodeEditor({
        parent,
        root: this.renderRoot,
        value: this.value,
        runtime: this.runtime,
        label: this.label,
        onChange: (value) => this.#changed(value),
      })
    } catch (error) {
      console.warn('gridx: the code editor could not load; using a plain text area', error)
      this.mode = 'plain'
    }
  }

  #onInput = (event: Event): void => {
    this.#changed((event.target as HTMLTextAreaElement).value)
  }

  #changed(value: string): void {
    this.value = value
    this.dispatchEvent(
      new CustomEvent('code-change', { detail: value, bubbles: true, composed: true }),
    )
  }
}

customElements.define('gridx-code-editor', GridxCodeEditor)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-code-editor': GridxCodeEditor
  }
}
