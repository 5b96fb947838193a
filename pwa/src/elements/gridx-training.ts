// A training job on its parent's page: the round it is in, a chart of each metric over the
// rounds, each round's shard timings with its cut stragglers, and the final model's files to
// download as a job's outputs are.
import { css, html, LitElement, nothing } from 'lit'
import type { TemplateResult } from 'lit'
import type { JobFile, RoundView, TrainingView } from '../../../protocol/index.ts'
import { formatBytes, formatDurationMs } from '../format.ts'
import { saveBlob, saveBlobFailure } from '../net/save-blob.ts'
import type { BlobDownload } from '../net/save-blob.ts'
import { sharedStyles } from '../styles/shared-styles.ts'
import { metricSeries } from '../training-chart.ts'
import './gridx-metric-chart.ts'
import './gridx-round-timings.ts'

const METRIC_LINE = '{"metric": "accuracy", "value": 0.93}'

/**
 * @attr data-training on the section, data-training-round on the round figure,
 * data-round on each round's details and data-model-download on each model file's button.
 */
export class GridxTraining extends LitElement {
  static override properties = {
    training: { attribute: false },
    download: { attribute: false },
    error: { state: true },
    busy: { state: true },
  }
  static override styles = [
    sharedStyles,
    css`
      .charts {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(min(100%, 18rem), 1fr));
        gap: 1rem;
      }
      h3 {
        margin: 1.5rem 0 0.5rem;
      }
      table {
        border-collapse: collapse;
        margin-bottom: 1rem;
      }
      caption {
        text-align: left;
        font-weight: 600;
      }
      td,
      th {
        text-align: left;
        padding: 0.15rem 0.5rem 0.15rem 0;
        overflow-wrap: anywhere;
      }
      summary {
        cursor: pointer;
      }
    `,
  ]

  declare training: TrainingView | undefined
  declare download: BlobDownload | undefined
  declare error: string | undefined
  declare busy: boolean

  constructor() {
    super()
    this.busy = false
  }

  override render(): TemplateResult | typeof nothing {
    const training = this.training
    if (training === undefined) return nothing
    const series = metricSeries(training.history)
    const closed = training.history.filter((round) => round.state === 'done').length
    return html`<section aria-labelledby="training-h" data-training>
      <h3 id="training-h">Training</h3>
      <dl class="facts">
        <dt>Round</dt>
        <dd data-training-round>${training.round}/${training.rounds}</dd>
        <dt>Rounds done</dt>
        <dd>${closed}</dd>
        <dt>Aggregate</dt>
        <dd>${training.aggregate}</dd>
        <dt>Round closes</dt>
        <dd>
          ${
            training.roundTimeoutS === null
              ? 'when every shard is in'
              : `when every shard is in, or after ${training.roundTimeoutS} s with
                ${training.minShards} in`
          }
        </dd>
      </dl>
      ${this.#model(training.model)}
      <div class="charts">
        ${
          series.length === 0
            ? html`<p class="muted" data-no-metrics>
                No metrics yet. A train script reports one by printing a line such as
                <code>${METRIC_LINE}</code>.
              </p>`
            : series.map(
                (one) =>
                  html`<gridx-metric-chart
                    .name=${one.name}
                    .points=${one.points}
                    .rounds=${training.rounds}
                  ></gridx-metric-chart>`,
              )
        }
      </div>
      ${[...training.history].reverse().map((round) => this.#round(round, training))}
    </section>`
  }

  #round(round: RoundView, training: TrainingView): TemplateResult {
    const took =
      round.closedAt === null ? 'open' : formatDurationMs(round.closedAt - round.openedAt)
    const cut = round.shards.filter((shard) => shard.cut).length
    return html`<details data-round=${round.index} ?open=${round.index === training.round}>
      <summary>
        Round ${round.index}: ${round.state}, ${took}${cut > 0 ? `, ${cut} cut` : ''}
      </summary>
      <gridx-round-timings
        .round=${round}
        .roundTimeoutS=${training.roundTimeoutS}
      ></gridx-round-timings>
      <p>
        Aggregate:
        ${
          round.aggregateJob === null
            ? 'waits for the round to close'
            : html`<a href="/jobs/${round.aggregateJob}"><code>${round.aggregateJob}</code></a>`
        }
      </p>
    </details>`
  }

  #model(model: readonly JobFile[] | null): TemplateResult {
    if (model === null) {
      return html`<p class="muted">The model is ready once the last round's aggregate is.</p>`
    }
    return html`
      ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : nothing}
      <table>
        <caption>
          Final model
        </caption>
        <tbody>
          ${model.map(
            (file) =>
              html`<tr>
                <td>${file.name}</td>
                <td>${formatBytes(file.size)}</td>
                <td>
                  <button
                    type="button"
                    data-model-download=${file.name}
                    ?disabled=${this.busy}
                    @click=${() => this.#save(file)}
                  >
                    Download
                  </button>
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    `
  }

  async #save(file: JobFile): Promise<void> {
    if (this.download === undefined) return
    this.busy = true
    this.error = undefined
    try {
      // No executor to ask first: the daemon finds a peer that holds it.
      await saveBlob(this.download, file, null)
    } catch (error) {
      this.error = saveBlobFailure(file, error)
    } finally {
      this.busy = false
    }
  }
}

customElements.define('gridx-training', GridxTraining)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-training': GridxTraining
  }
}
