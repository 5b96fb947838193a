// The job list: newest first, live, filterable by state.
import { html, LitElement, css } from 'lit'
import type { TemplateResult } from 'lit'
import { JOB_STATES } from '../../../protocol/index.ts'
import type { JobState, JobView } from '../../../protocol/index.ts'
import { JobsController } from '../controllers/jobs-controller.ts'
import { formatCredits, formatDurationMs, formatTime, stateLabel } from '../format.ts'
import type { AppServices } from '../services.ts'
import { sharedStyles } from '../styles/shared-styles.ts'
import './gridx-state-badge.ts'
import './gridx-saved-notice.ts'

export class GridxJobList extends LitElement {
  static override properties = { services: { attribute: false } }
  static override styles = [
    sharedStyles,
    css`
      .toolbar {
        display: flex;
        flex-wrap: wrap;
        gap: 0.75rem;
        align-items: center;
        justify-content: space-between;
        margin-bottom: 1rem;
      }
      .toolbar h1 {
        margin: 0;
      }
      /* Should a row still be wider than the screen, it scrolls inside this box, and a shadow
         at the edge that has more (background-attachment: local over scroll) says so. */
      .scroll {
        overflow-x: auto;
        background:
          linear-gradient(to right, var(--bg) 30%, transparent) left / 2rem 100% no-repeat local,
          linear-gradient(to left, var(--bg) 30%, transparent) right / 2rem 100% no-repeat local,
          radial-gradient(farthest-side at 0 50%, var(--scroll-shadow), transparent) left / 0.75rem
            100% no-repeat scroll,
          radial-gradient(farthest-side at 100% 50%, var(--scroll-shadow), transparent) right /
            0.75rem 100% no-repeat scroll;
      }
      /* A price or a state cut over two lines reads as two values. */
      .price,
      .state {
        white-space: nowrap;
      }
      .empty {
        padding: 2rem 0;
        text-align: center;
      }
      @media (max-width: 600px) {
        .wide {
          display: none;
        }
        /* The id is one long word: on a phone it may break anywhere, the price never. */
        .id code {
          overflow-wrap: anywhere;
        }
        th,
        td {
          padding-inline: 0.3rem;
        }
      }
    `,
  ]

  declare services: AppServices
  #jobs: JobsController | undefined

  override connectedCallback(): void {
    this.#jobs ??= new JobsController(this, this.services.client, this.services.cache)
    super.connectedCallback()
  }

  override render(): TemplateResult {
    const controller = this.#jobs
    if (controller === undefined) return html``
    const jobs = controller.jobs
    return html`
      <div class="toolbar">
        <h1>Jobs</h1>
        <label>
          State
          <select @change=${this.#onFilter} aria-label="Filter by state" data-filter>
            <option value="" ?selected=${controller.stateFilter === undefined}>all</option>
            ${JOB_STATES.map(
              (state) =>
                html`<option value=${state} ?selected=${controller.stateFilter === state}>
                  ${stateLabel(state)}
                </option>`,
            )}
          </select>
        </label>
        <a class="button" href="/submit">New job</a>
      </div>
      <gridx-saved-notice
        .status=${controller.status}
        .error=${controller.error}
      ></gridx-saved-notice>
      ${
        controller.status === 'loading' && jobs.length === 0
          ? html`<p class="muted" aria-busy="true">Loading jobs…</p>`
          : this.#table(jobs)
      }
    `
  }

  #table(jobs: readonly JobView[]): TemplateResult {
    if (jobs.length === 0) {
      return html`<p class="empty muted" data-jobs-empty>
        No jobs here yet. <a href="/submit">Submit one</a>.
      </p>`
    }
    return html`<div class="scroll">
      <table data-jobs>
        <caption class="visually-hidden">
          Your jobs, newest first
        </caption>
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">State</th>
            <th scope="col">Runtime</th>
            <th scope="col" class="wide">Created</th>
            <th scope="col" class="num wide">Ran for</th>
            <th scope="col" class="num price">Price</th>
          </tr>
        </thead>
        <tbody>
          ${jobs.map((job) => this.#row(job))}
        </tbody>
      </table>
    </div>`
  }

  #row(job: JobView): TemplateResult {
    const ranMs = job.result?.wallMs ?? null
    return html`<tr data-job=${job.id} data-state=${job.state}>
      <td class="id">
        <a href="/jobs/${job.id}"><code>${job.id}</code></a>
      </td>
      <td class="state"><gridx-state-badge .state=${job.state}></gridx-state-badge></td>
      <td>${job.runtime}</td>
      <td class="wide">${formatTime(job.createdAt)}</td>
      <td class="num wide">${formatDurationMs(ranMs)}</td>
      <td class="num price">
        ${formatCredits(job.priceMc ?? job.maxPriceMc)}${
          job.priceMc === null ? html`<span class="muted"> max</span>` : ''
        }
      </td>
    </tr>`
  }

  #onFilter = (event: Event): void => {
    const value = (event.target as HTMLSelectElement).value
    this.#jobs?.setStateFilter(value === '' ? undefined : (value as JobState))
  }
}

customElements.define('gridx-job-list', GridxJobList)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-job-list': GridxJobList
  }
}
