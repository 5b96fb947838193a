// One job: state, live output, exit code, timings, resources, who ran it, what it cost, and
// its files.
import { html, LitElement, css, nothing } from 'lit'
import type { PropertyValues, TemplateResult } from 'lit'
import { isFinalJobState } from '../../../protocol/index.ts'
import type { JobView } from '../../../protocol/index.ts'
import { JobController } from '../controllers/job-controller.ts'
import { formatBytes, formatCredits, formatDurationMs, formatTime, shortId } from '../format.ts'
import type { AppServices } from '../services.ts'
import { sharedStyles } from '../styles/shared-styles.ts'
import './gridx-state-badge.ts'
import './gridx-saved-notice.ts'
import './gridx-output-pane.ts'
import './gridx-job-files.ts'
import './gridx-job-parent.ts'

export class GridxJobPage extends LitElement {
  static override properties = {
    services: { attribute: false },
    jobId: {},
    actionError: { state: true },
    cancelling: { state: true },
    isParent: { state: true },
  }
  static override styles = [
    sharedStyles,
    css`
      .head {
        display: flex;
        flex-wrap: wrap;
        gap: 0.75rem;
        align-items: center;
        margin-bottom: 1rem;
      }
      .head h1 {
        margin: 0;
        overflow-wrap: anywhere;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        margin-left: auto;
      }
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(260px, 1fr));
        gap: 1rem;
      }
      .grid .card {
        margin: 0;
      }
      .outputs {
        margin-top: 1rem;
        display: grid;
        gap: 1rem;
      }
    `,
  ]

  declare services: AppServices
  declare jobId: string
  declare actionError: string | undefined
  declare cancelling: boolean
  /** The id names a sharded job: its card says it all, and no plain job of the id exists. */
  declare isParent: boolean
  #job: JobController | undefined

  constructor() {
    super()
    this.jobId = ''
    this.cancelling = false
    this.isParent = false
  }

  override connectedCallback(): void {
    this.#job ??= new JobController(this, this.services.client, this.services.cache, this.jobId)
    super.connectedCallback()
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('jobId')) {
      this.isParent = false
      this.#job?.setId(this.jobId)
    }
  }

  override render(): TemplateResult {
    const controller = this.#job
    const job = controller?.job
    if (controller === undefined) return html``
    return html`
      <div class="head">
        <h1>Job <code>${this.jobId}</code></h1>
        ${job ? html`<gridx-state-badge .state=${job.state} data-job-state></gridx-state-badge>` : nothing}
        <div class="actions">${job ? this.#actions(job) : nothing}</div>
      </div>
      ${
        this.actionError
          ? html`<p class="notice error" role="alert" data-action-error>${this.actionError}</p>`
          : nothing
      }
      <gridx-job-parent
        .services=${this.services}
        .parentId=${job?.parent?.id ?? (job === undefined ? this.jobId : '')}
        .childId=${job?.parent !== undefined ? job.id : undefined}
        @parent-found=${() => (this.isParent = job === undefined)}
      ></gridx-job-parent>
      ${
        this.isParent
          ? nothing
          : html`<gridx-saved-notice
              .status=${controller.status}
              .error=${controller.error}
            ></gridx-saved-notice>`
      }
      ${
        this.isParent
          ? nothing
          : job === undefined
            ? controller.status === 'loading'
              ? html`<p class="muted" aria-busy="true">Loading…</p>`
              : nothing
            : this.#details(job, controller)
      }
    `
  }

  #actions(job: JobView): TemplateResult {
    const online = this.services.client.state === 'open'
    return html`
      ${
        isFinalJobState(job.state)
          ? nothing
          : html`<button
              class="danger"
              @click=${this.#cancel}
              ?disabled=${this.cancelling || !online}
              data-cancel
            >
              ${this.cancelling ? 'Cancelling…' : 'Cancel'}
            </button>`
      }
      <a class="button" href="/submit?from=${encodeURIComponent(job.id)}" data-resubmit>Resubmit</a>
    `
  }

  #details(job: JobView, controller: JobController): TemplateResult {
    const result = job.result
    const waitMs = job.startedAt !== null ? job.startedAt - job.createdAt : null
    return html`
      ${job.reason ? html`<p class="notice" data-reason>${job.reason}</p>` : nothing}
      <div class="grid">
        <section class="card" aria-labelledby="run-h">
          <h2 id="run-h">Run</h2>
          <dl class="facts">
            <dt>Exit code</dt>
            <dd data-exit-code>${result?.exitCode ?? '—'}</dd>
            <dt>Runtime</dt>
            <dd>${job.runtime}</dd>
            <dt>Executor</dt>
            <dd title=${job.executor ?? ''}>${shortId(job.executor)}</dd>
            <dt>Attempts</dt>
            <dd>${job.attempts}</dd>
            ${
              result?.timedOut
                ? html`<dt>Timed out</dt>
                    <dd>yes</dd>`
                : nothing
            }
            ${
              result?.oomKilled
                ? html`<dt>Out of memory</dt>
                    <dd>yes</dd>`
                : nothing
            }
          </dl>
        </section>
        <section class="card" aria-labelledby="time-h">
          <h2 id="time-h">Timings</h2>
          <dl class="facts">
            <dt>Created</dt>
            <dd>${formatTime(job.createdAt)}</dd>
            <dt>Started</dt>
            <dd>${formatTime(job.startedAt)}</dd>
            <dt>Finished</dt>
            <dd>${formatTime(job.finishedAt)}</dd>
            <dt>Waited</dt>
            <dd>${formatDurationMs(waitMs)}</dd>
            <dt>Ran for</dt>
            <dd>${formatDurationMs(result?.wallMs)}</dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="res-h">
          <h2 id="res-h">Resources</h2>
          <dl class="facts">
            <dt>Limits</dt>
            <dd>
              ${job.spec.cpus} CPU, ${job.spec.memoryMb} MB, ${job.spec.timeoutS} s,
              ${job.spec.pids} processes
            </dd>
            <dt>CPU time</dt>
            <dd>${formatDurationMs(result?.cpuMs)}</dd>
            <dt>Memory peak</dt>
            <dd>${formatBytes(result?.memoryPeakBytes)}</dd>
            <dt>Output</dt>
            <dd>
              ${
                result
                  ? `${formatBytes(result.stdoutBytes)} out, ${formatBytes(result.stderrBytes)} err`
                  : '—'
              }
            </dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="cost-h">
          <h2 id="cost-h">Cost</h2>
          <dl class="facts">
            <dt>Escrowed</dt>
            <dd>${formatCredits(job.maxPriceMc)}</dd>
            <dt>Price</dt>
            <dd data-price>${formatCredits(job.priceMc)}</dd>
            <dt>Paid to</dt>
            <dd title=${job.executorOwner ?? ''}>
              ${
                job.executorPaidMc === null
                  ? '—'
                  : html`${formatCredits(job.executorPaidMc)} to ${shortId(job.executorOwner)}`
              }
            </dd>
            <dt>Mesh fees</dt>
            <dd>${formatCredits(job.feesPaidMc)}</dd>
          </dl>
        </section>
      </div>
      <gridx-job-files
        class="outputs"
        .job=${job}
        .download=${(cid: string, from: string | null) => this.services.client.blob(cid, from)}
      ></gridx-job-files>
      <div class="outputs">
        <gridx-output-pane
          label="stdout"
          .text=${controller.stdout}
          .jobId=${job.id}
          .live=${!isFinalJobState(job.state)}
          data-stdout
        ></gridx-output-pane>
        <gridx-output-pane
          label="stderr"
          .text=${controller.stderr}
          .jobId=${job.id}
          .live=${!isFinalJobState(job.state)}
          data-stderr
        ></gridx-output-pane>
      </div>
    `
  }

  #cancel = async (): Promise<void> => {
    this.cancelling = true
    this.actionError = undefined
    try {
      await this.#job?.cancel()
    } catch (error) {
      this.actionError = `Could not cancel: ${error instanceof Error ? error.message : error}`
    } finally {
      this.cancelling = false
    }
  }
}

customElements.define('gridx-job-page', GridxJobPage)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-job-page': GridxJobPage
  }
}
