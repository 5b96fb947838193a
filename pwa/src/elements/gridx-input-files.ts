// The input files of a job on the submit page: picked (files, or a folder where the browser
// allows) or dropped, listed with their sizes, refused at once when a bound of a job's inputs
// is broken, and uploaded with a progress bar each when the job is submitted.
import { css, html, LitElement, nothing } from 'lit'
import type { TemplateResult } from 'lit'
import { JOB_INPUTS_MAX } from '../../../protocol/index.ts'
import type { JobFile } from '../../../protocol/index.ts'
import { formatBytes } from '../format.ts'
import { inputsProblems, withPicked } from '../input-files.ts'
import { uploadInputs } from '../net/input-upload.ts'
import type { BlobClient, PickedInput, UploadProgress } from '../net/input-upload.ts'
import { sharedStyles } from '../styles/shared-styles.ts'
import { droppedFiles } from '../dropped-files.ts'

const STAGE_TEXT: Readonly<Record<UploadProgress['stage'], string>> = {
  hashing: 'hashing…',
  checking: 'asking the daemon…',
  uploading: 'uploading',
  sent: 'uploaded',
  present: 'already on the daemon: not sent again',
  failed: 'not uploaded',
}

/**
 * @fires inputs-change - when a file is added or removed.
 * Each listed file carries `data-input` with its name, and `data-stage` once an upload began.
 */
export class GridxInputFiles extends LitElement {
  static override properties = {
    client: { attribute: false },
    inputs: { state: true },
    progress: { state: true },
    dragging: { state: true },
    uploading: { state: true },
    dropError: { state: true },
  }
  static override styles = [
    sharedStyles,
    css`
      .pick {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        border: 2px dashed transparent;
        border-radius: 8px;
      }
      .pick.dragging {
        border-color: var(--accent);
      }
      ul {
        list-style: none;
        margin: 0.35rem 0 0;
        padding: 0;
        display: grid;
        gap: 0.35rem;
      }
      li {
        display: grid;
        grid-template-columns: minmax(0, 1fr) auto auto;
        gap: 0.25rem 0.5rem;
        align-items: center;
      }
      .name {
        overflow-wrap: anywhere;
      }
      .stage {
        grid-column: 1 / -1;
        display: flex;
        gap: 0.5rem;
        align-items: center;
        font-size: 0.9rem;
      }
      progress {
        flex: 1;
      }
      .field-error {
        color: var(--danger);
        font-weight: 600;
        margin: 0;
      }
      li .field-error {
        grid-column: 1 / -1;
      }
      @media (hover: none), (pointer: coarse) {
        .drop-hint {
          display: none;
        }
      }
    `,
  ]

  declare client: BlobClient
  declare inputs: readonly PickedInput[]
  declare progress: ReadonlyMap<string, UploadProgress>
  declare dragging: boolean
  declare uploading: boolean
  declare dropError: string | undefined

  constructor() {
    super()
    this.inputs = []
    this.progress = new Map()
    this.dragging = false
    this.uploading = false
  }

  /** Lists the inputs of a job being resubmitted: their bytes are on the daemon, not here. */
  keep(files: readonly JobFile[]): void {
    this.#change(files.map((file) => ({ ...file, file: null })))
  }

  /** What is wrong with the listed files as a job's inputs, or null. */
  problem(): string | null {
    const { files, overall } = inputsProblems(this.inputs)
    const [first] = files
    return overall ?? (first === undefined ? null : `${first[0]}: ${first[1]}`)
  }

  /** Uploads what the daemon lacks; resolves to the spec's inputs. Rejects with what to fix. */
  async upload(signal?: AbortSignal): Promise<JobFile[]> {
    const problem = this.problem()
    if (problem !== null) throw new Error(problem)
    this.uploading = true
    this.progress = new Map()
    const inputs = this.inputs
    try {
      return await uploadInputs(
        this.client,
        inputs,
        (index, progress) => {
          this.progress = new Map(this.progress).set(inputs[index]!.name, progress)
        },
        signal,
      )
    } finally {
      this.uploading = false
    }
  }

  override render(): TemplateResult {
    const problems = inputsProblems(this.inputs)
    return html`
      <div
        class="pick ${this.dragging ? 'dragging' : ''}"
        @dragover=${this.#onDragOver}
        @dragleave=${() => (this.dragging = false)}
        @drop=${this.#onDrop}
      >
        <span><strong>Inputs</strong></span>
        <label class="button" for="pick-files">Add files…</label>
        <input
          id="pick-files"
          class="visually-hidden"
          type="file"
          multiple
          data-pick-files
          ?disabled=${this.uploading}
          @change=${this.#onPick}
        />
        <label class="button" for="pick-folder">Add a folder…</label>
        <input
          id="pick-folder"
          class="visually-hidden"
          type="file"
          webkitdirectory
          data-pick-folder
          ?disabled=${this.uploading}
          @change=${this.#onPick}
        />
        <span class="muted drop-hint">or drop them here</span>
      </div>
      ${
        this.dropError === undefined
          ? nothing
          : html`<p class="field-error" role="alert">${this.dropError}</p>`
      }
      ${
        problems.overall === null
          ? nothing
          : html`<p class="field-error" role="alert" data-inputs-problem>${problems.overall}</p>`
      }
      ${
        this.inputs.length === 0
          ? nothing
          : html`<ul aria-label="Input files">
              ${this.inputs.map((input) => this.#row(input, problems.files.get(input.name)))}
            </ul>`
      }
    `
  }

  #row(input: PickedInput, refused: string | undefined): TemplateResult {
    const progress = this.progress.get(input.name)
    return html`<li data-input=${input.name} data-stage=${progress?.stage ?? ''}>
      <span class="name">${input.name}</span>
      <span class="muted">${formatBytes(input.size)}</span>
      <button
        type="button"
        ?disabled=${this.uploading}
        aria-label="Remove ${input.name}"
        data-remove
        @click=${() => this.#change(this.inputs.filter((other) => other !== input))}
      >
        Remove
      </button>
      ${refused === undefined ? nothing : html`<p class="field-error" role="alert">${refused}</p>`}
      ${progress === undefined ? nothing : this.#stage(input, progress)}
    </li>`
  }

  #stage(input: PickedInput, progress: UploadProgress): TemplateResult {
    const percent = Math.floor((progress.loaded / Math.max(input.size, 1)) * 100)
    const text =
      progress.stage === 'uploading'
        ? `${STAGE_TEXT.uploading} ${percent} %`
        : STAGE_TEXT[progress.stage]
    return html`<span class="stage" aria-live="polite">
      <progress
        max=${Math.max(input.size, 1)}
        value=${progress.loaded}
        aria-label="Upload of ${input.name}"
      ></progress>
      <span>${text}</span>
      ${
        progress.error === undefined
          ? nothing
          : html`<span class="field-error" role="alert">${progress.error}</span>`
      }
    </span>`
  }

  #change(inputs: readonly PickedInput[]): void {
    this.inputs = inputs
    this.progress = new Map()
    this.dispatchEvent(new CustomEvent('inputs-change', { bubbles: true, composed: true }))
  }

  #add(files: readonly { readonly name: string; readonly file: File }[]): void {
    const picked = files.map(({ name, file }) => ({ name, size: file.size, file, cid: null }))
    this.#change(withPicked(this.inputs, picked))
  }

  #onPick = (event: Event): void => {
    const field = event.target as HTMLInputElement
    // A folder's files carry their path below the folder's parent, the folder's name first.
    const files = [...(field.files ?? [])].map((file) => ({
      name: file.webkitRelativePath === '' ? file.name : file.webkitRelativePath,
      file,
    }))
    // Cleared, so that picking the same file again is a change too.
    field.value = ''
    this.#add(files)
  }

  #onDragOver = (event: DragEvent): void => {
    event.preventDefault()
    this.dragging = true
  }

  #onDrop = (event: DragEvent): void => {
    event.preventDefault()
    this.dragging = false
    // The files being uploaded are the ones the job is submitted with.
    if (this.uploading) return
    this.dropError = undefined
    if (event.dataTransfer === null) return
    // One more than a job may have is enough to tell the user there are too many.
    droppedFiles(event.dataTransfer, JOB_INPUTS_MAX + 1).then(
      (files) => this.#add(files),
      (error: unknown) => {
        const why = error instanceof Error ? error.message : String(error)
        this.dropError = `Could not read the dropped files: ${why}`
      },
    )
  }
}

customElements.define('gridx-input-files', GridxInputFiles)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-input-files': GridxInputFiles
  }
}
