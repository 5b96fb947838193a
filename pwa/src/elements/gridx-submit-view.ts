// Submit a job: code (editor, file or drop), runtime and limits, the price escrowed before
// submitting (job.quote), and a refusal shown next to the field at fault.
import { html, LitElement, css, nothing } from 'lit'
import type { TemplateResult } from 'lit'
import { Task, TaskStatus } from '@lit/task'
import {
  isGridxError,
  JOB_CPUS_MAX,
  JOB_CPUS_MIN,
  JOB_MEMORY_MB_MAX,
} from '../../../protocol/index.ts'
import {
  JOB_MEMORY_MB_MIN,
  JOB_PIDS_MAX,
  JOB_TIMEOUT_S_MAX,
  CONTAINER_RUNTIMES,
} from '../../../protocol/index.ts'
import type { JobFile, Runtime } from '../../../protocol/index.ts'
import { formatCredits } from '../format.ts'
import type { AppServices } from '../services.ts'
import {
  DEFAULT_FIELDS,
  errorPlace,
  fieldsOfJob,
  runtimeOfFileName,
  specOf,
} from '../submit-form.ts'
import type { ErrorPlace, FieldName, SubmitFields } from '../submit-form.ts'
import { sharedStyles } from '../styles/shared-styles.ts'
import './gridx-code-editor.ts'
import './gridx-input-files.ts'
import type { GridxInputFiles } from './gridx-input-files.ts'

/** Quotes wait for typing to pause this long, so a held arrow key sends one request. */
const QUOTE_DEBOUNCE_MS = 250

const LIMITS: readonly {
  readonly name: Exclude<FieldName, 'runtime' | 'code'>
  readonly label: string
  readonly min: number
  readonly max: number
  readonly step: number
}[] = [
  { name: 'cpus', label: 'CPUs', min: JOB_CPUS_MIN, max: JOB_CPUS_MAX, step: 0.1 },
  {
    name: 'memoryMb',
    label: 'Memory (MB)',
    min: JOB_MEMORY_MB_MIN,
    max: JOB_MEMORY_MB_MAX,
    step: 1,
  },
  { name: 'timeoutS', label: 'Timeout (s)', min: 1, max: JOB_TIMEOUT_S_MAX, step: 1 },
  { name: 'pids', label: 'Processes', min: 8, max: JOB_PIDS_MAX, step: 1 },
]

export class GridxSubmitView extends LitElement {
  static override properties = {
    services: { attribute: false },
    fromJobId: {},
    fields: { state: true },
    errors: { state: true },
    submitting: { state: true },
    dragging: { state: true },
  }
  static override styles = [
    sharedStyles,
    css`
      /* minmax(0, …): a long line of code or file name scrolls in its box instead of
         widening the page past a phone's screen. */
      form {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 1rem;
      }
      .row {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 0.35rem;
      }
      .limits {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr));
        gap: 1rem;
      }
      label {
        font-weight: 600;
      }
      .field-error {
        color: var(--danger);
        font-weight: 600;
        margin: 0;
      }
      input[aria-invalid='true'],
      select[aria-invalid='true'] {
        border: 2px solid var(--danger);
      }
      .drop {
        border: 2px dashed transparent;
        border-radius: 8px;
      }
      .drop.dragging {
        border-color: var(--accent);
      }
      .file {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
      }
      .price {
        display: flex;
        flex-wrap: wrap;
        gap: 1rem;
        align-items: center;
      }
      .price output {
        font-size: 1.2rem;
        font-weight: 700;
      }
      /* A phone's screen fits the form down to Submit only with a shorter empty editor (it
         still grows as code is typed) and narrower gaps. */
      gridx-code-editor {
        --code-editor-min-height: 14rem;
      }
      @media (max-width: 600px), (max-height: 700px) {
        form {
          gap: 0.75rem;
        }
        gridx-code-editor {
          --code-editor-min-height: 4.5rem;
        }
      }
      /* A touch screen has nothing to drag a file from. */
      @media (hover: none), (pointer: coarse) {
        .drop-hint {
          display: none;
        }
      }
    `,
  ]

  declare services: AppServices
  declare fromJobId: string | undefined
  declare fields: SubmitFields
  declare errors: Partial<Record<ErrorPlace, string>>
  declare submitting: boolean
  declare dragging: boolean
  /** Kept across retries of one submission so a retry after a lost answer creates no twin. */
  #idempotencyId = crypto.randomUUID()

  readonly #quote = new Task(this, {
    task: async ([, fieldsKey, state], { signal }) => {
      if (state !== 'open') throw new Error('offline')
      await abortableDelay(QUOTE_DEBOUNCE_MS, signal)
      const fields = JSON.parse(fieldsKey) as SubmitFields
      // The price depends on the limits only: quote with an empty program.
      return this.services.client.call('job.quote', { spec: specOf(fields, '') }, { signal })
    },
    args: () => [this.fields.runtime, this.#limitsKey(), this.services.client.state] as const,
  })

  readonly #resubmit = new Task(this, {
    task: async ([from]) => {
      if (from === undefined) return
      const { cache, client } = this.services
      const job =
        cache.jobs()?.value.find((saved) => saved.id === from) ??
        (await client.call('job.get', { id: from }))
      this.fields = fieldsOfJob(job, cache.codeOf(from))
      await this.updateComplete
      this.#inputFiles()?.keep(job.spec.inputs ?? [])
      return job
    },
    args: () => [this.fromJobId] as const,
  })

  constructor() {
    super()
    this.fields = DEFAULT_FIELDS
    this.errors = {}
    this.submitting = false
    this.dragging = false
  }

  override connectedCallback(): void {
    super.connectedCallback()
    this.#unlisten = this.services.client.onStateChange(() => this.requestUpdate())
  }

  override disconnectedCallback(): void {
    this.#unlisten?.()
    super.disconnectedCallback()
  }

  #unlisten: (() => void) | undefined

  override render(): TemplateResult {
    const offline = this.services.client.state !== 'open'
    return html`
      <h1>Submit a job</h1>
      ${this.#resubmit.render({
        complete: (job) =>
          job && this.fields.code === ''
            ? html`<p class="notice">
                The code of <code>${job.id}</code> is not stored in this browser: paste or upload it
                again. Its runtime and limits are filled in.
              </p>`
            : nothing,
        error: (error) =>
          html`<p class="notice error">Could not load the job to resubmit: ${String(error)}</p>`,
      })}
      <form novalidate @submit=${this.#submit}>
        <div class="row">
          <label for="runtime">Runtime</label>
          <select
            id="runtime"
            name="runtime"
            .value=${this.fields.runtime}
            @change=${(event: Event) =>
              this.#set('runtime', (event.target as HTMLSelectElement).value as Runtime)}
            aria-invalid=${this.#errorOf('runtime') ? 'true' : 'false'}
            aria-describedby=${this.#errorOf('runtime') ? 'runtime-error' : ''}
          >
            ${CONTAINER_RUNTIMES.map(
              (runtime) =>
                html`<option value=${runtime} ?selected=${runtime === this.fields.runtime}>
                  ${runtime}
                </option>`,
            )}
          </select>
          ${this.#error('runtime')}
        </div>
        ${this.#codeRow()}
        <div class="row">
          <gridx-input-files
            .client=${this.services.client}
            @inputs-change=${this.#onInputsChange}
          ></gridx-input-files>
          ${this.#error('inputs')}
        </div>
        <fieldset class="limits card">
          <legend>Limits</legend>
          ${LIMITS.map((limit) => this.#limit(limit))}
        </fieldset>
        <div class="price card" aria-live="polite">
          ${this.#quoteView()}
          <button class="primary" type="submit" ?disabled=${this.submitting} data-submit>
            ${this.submitting ? 'Submitting…' : 'Submit'}
          </button>
          ${
            offline
              ? html`<span class="muted">Offline: submitting needs the daemon.</span>`
              : nothing
          }
        </div>
        <div aria-live="assertive">${this.#error('submit')}</div>
      </form>
    `
  }

  #codeRow(): TemplateResult {
    return html`<div
      class="row drop ${this.dragging ? 'dragging' : ''}"
      @dragover=${this.#onDragOver}
      @dragleave=${() => (this.dragging = false)}
      @drop=${this.#onDrop}
      data-drop
    >
      <div class="file">
        <span id="code-label"><strong>Code</strong></span>
        <label class="button" for="file" style="font-weight: normal">Open a file…</label>
        <input
          id="file"
          class="visually-hidden"
          type="file"
          accept=".py,.js,.mjs,.cjs,.sh,.bash,.txt,text/*"
          @change=${this.#onFile}
        />
        <span class="muted drop-hint">or drop one here</span>
      </div>
      <gridx-code-editor
        .value=${this.fields.code}
        .runtime=${this.fields.runtime}
        .invalid=${this.errors.code !== undefined}
        label="Code"
        described-by=${this.errors.code ? 'code-error' : ''}
        @code-change=${(event: CustomEvent<string>) => this.#set('code', event.detail)}
      ></gridx-code-editor>
      ${this.#error('code')}
    </div>`
  }

  #limit(limit: (typeof LIMITS)[number]): TemplateResult {
    return html`<div class="row">
      <label for=${limit.name}>${limit.label}</label>
      <input
        id=${limit.name}
        name=${limit.name}
        type="number"
        inputmode="decimal"
        min=${limit.min}
        max=${limit.max}
        step=${limit.step}
        .value=${this.fields[limit.name]}
        aria-invalid=${this.#errorOf(limit.name) ? 'true' : 'false'}
        aria-describedby=${this.#errorOf(limit.name) ? `${limit.name}-error` : ''}
        @input=${(event: Event) => this.#set(limit.name, (event.target as HTMLInputElement).value)}
      />
      ${this.#error(limit.name)}
    </div>`
  }

  #quoteView(): TemplateResult {
    return html`<div>
      <div class="muted">Price escrowed (the most this job can cost)</div>
      ${this.#quote.render({
        pending: () => html`<output data-price aria-busy="true">…</output>`,
        complete: (quote) =>
          html`<output data-price>${formatCredits(quote.maxPriceMc)}</output>
            <span class="muted"> of ${formatCredits(quote.availableMc)} available</span>
            ${
              quote.maxPriceMc > quote.availableMc
                ? html`<p class="field-error">More than you have: lower the limits or timeout.</p>`
                : nothing
            }`,
        error: (error) =>
          html`<output data-price>—</output> <span class="muted">${quoteProblem(error)}</span>`,
      })}
    </div>`
  }

  /** The refusal of the last submit at this place, else the quote's refusal of this field
   * (job.quote validates the limits as job.submit does, so a bad limit shows before submit). */
  #errorOf(place: ErrorPlace): string | undefined {
    const submitted = this.errors[place]
    if (submitted !== undefined) return submitted
    const error = this.#quote.status === TaskStatus.ERROR ? this.#quote.error : undefined
    if (!isGridxError(error) || place === 'submit') return undefined
    return errorPlace(error.data?.field) === place ? error.message : undefined
  }

  #error(place: ErrorPlace): TemplateResult | typeof nothing {
    const message = this.#errorOf(place)
    if (message === undefined) return nothing
    return html`<p class="field-error" id="${place}-error" role="alert" data-error=${place}>
      ${message}
    </p>`
  }

  #limitsKey(): string {
    return JSON.stringify({ ...this.fields, code: '' })
  }

  #set<K extends keyof SubmitFields>(name: K, value: SubmitFields[K]): void {
    if (this.fields[name] === value) return
    this.fields = { ...this.fields, [name]: value }
    if (this.errors[name] !== undefined || this.errors.submit !== undefined) {
      const errors = { ...this.errors }
      delete errors[name]
      delete errors.submit
      this.errors = errors
    }
    // A changed request is a new request.
    this.#idempotencyId = crypto.randomUUID()
  }

  #submit = async (event: Event): Promise<void> => {
    event.preventDefault()
    const { client, cache, navigate } = this.services
    if (client.state !== 'open') {
      this.errors = {
        submit:
          'You are offline: the job was not submitted. It will not be queued; submit it again once the daemon is reachable.',
      }
      return
    }
    this.submitting = true
    this.errors = {}
    try {
      const inputs = await this.#upload()
      const { job } = await client.call('job.submit', {
        idempotencyId: this.#idempotencyId,
        spec: specOf(this.fields, this.fields.code, inputs),
      })
      cache.rememberCode(job.id, this.fields.code)
      cache.saveJob(job)
      this.#idempotencyId = crypto.randomUUID()
      navigate(`/jobs/${job.id}`)
    } catch (error) {
      const place =
        error instanceof InputsError
          ? 'inputs'
          : isGridxError(error)
            ? errorPlace(error.data?.field)
            : 'submit'
      const message = error instanceof Error ? error.message : String(error)
      this.errors = { [place]: `Refused: ${message}` }
      await this.updateComplete
      this.renderRoot.querySelector<HTMLElement>(`#${place === 'code' ? 'file' : place}`)?.focus()
    } finally {
      this.submitting = false
    }
  }

  #inputFiles(): GridxInputFiles | null {
    return this.renderRoot.querySelector('gridx-input-files')
  }

  /** The inputs, uploaded where the daemon lacks them; an InputsError says what to fix. */
  async #upload(): Promise<JobFile[]> {
    try {
      return (await this.#inputFiles()?.upload()) ?? []
    } catch (error) {
      throw new InputsError(error instanceof Error ? error.message : String(error))
    }
  }

  #onInputsChange = (): void => {
    if (this.errors.inputs !== undefined || this.errors.submit !== undefined) this.errors = {}
    // Other inputs make another job.
    this.#idempotencyId = crypto.randomUUID()
  }

  #onDragOver = (event: DragEvent): void => {
    event.preventDefault()
    this.dragging = true
  }

  #onDrop = (event: DragEvent): void => {
    event.preventDefault()
    this.dragging = false
    const file = event.dataTransfer?.files[0]
    if (file !== undefined) void this.#readFile(file)
  }

  #onFile = (event: Event): void => {
    const file = (event.target as HTMLInputElement).files?.[0]
    if (file !== undefined) void this.#readFile(file)
  }

  async #readFile(file: File): Promise<void> {
    const runtime = runtimeOfFileName(file.name)
    if (runtime !== undefined) this.#set('runtime', runtime)
    this.#set('code', await file.text())
  }
}

/** A refusal of the input files, shown by them. */
class InputsError extends Error {
  override name = 'InputsError'
}

function quoteProblem(error: unknown): string {
  if (error instanceof Error && error.message === 'offline') return 'needs the daemon'
  return isGridxError(error) ? `cannot price this job: ${error.message}` : String(error)
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(signal.reason)
      },
      { once: true },
    )
  })
}

customElements.define('gridx-submit-view', GridxSubmitView)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-submit-view': GridxSubmitView
  }
}
