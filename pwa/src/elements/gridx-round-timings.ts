// One round of a training job, shard by shard: a bar from when each shard's job started to
// when it finished, on the round's own time line (its opening to its close, or its deadline),
// and the straggler the round cut off marked as such. A table, so that every figure the bars
// draw is also text.
import { css, html, LitElement, nothing, svg } from 'lit'
import type { TemplateResult } from 'lit'
import type { RoundView } from '../../../protocol/index.ts'
import { formatDurationMs } from '../format.ts'
import { roundTimings } from '../training-chart.ts'
import type { ShardBar } from '../training-chart.ts'
import { sharedStyles } from '../styles/shared-styles.ts'

const BAR_WIDTH = 200
const BAR_HEIGHT = 12

/** @attr data-shard-timing on each row, with the shard's index; data-cut on a cut shard's. */
export class GridxRoundTimings extends LitElement {
  static override properties = {
    round: { attribute: false },
    roundTimeoutS: { attribute: false },
  }
  static override styles = [
    sharedStyles,
    css`
      table {
        width: 100%;
        border-collapse: collapse;
      }
      td,
      th {
        text-align: left;
        padding: 0.15rem 0.5rem 0.15rem 0;
        vertical-align: middle;
      }
      svg {
        display: block;
        width: 100%;
        min-width: 6rem;
        max-width: ${BAR_WIDTH}px;
        height: ${BAR_HEIGHT}px;
        background: var(--code-bg);
        border-radius: 2px;
      }
      .bar {
        fill: var(--chart-cpu);
      }
      .bar.cut {
        fill: var(--danger);
        fill-opacity: 0.55;
      }
      .bar.running {
        fill-opacity: 0.55;
      }
      .deadline {
        stroke: var(--danger);
        stroke-width: 2;
      }
      td {
        overflow-wrap: anywhere;
      }
      .took {
        white-space: nowrap;
      }
      .cut-label {
        color: var(--danger);
        font-weight: 600;
      }
    `,
  ]

  declare round: RoundView | undefined
  declare roundTimeoutS: number | null

  constructor() {
    super()
    this.roundTimeoutS = null
  }

  override render(): TemplateResult | typeof nothing {
    if (this.round === undefined) return nothing
    const timings = roundTimings(this.round, this.roundTimeoutS)
    return html`<table>
      <caption class="visually-hidden">
        Shard timings of round ${this.round.index}, over ${formatDurationMs(timings.spanMs)}
      </caption>
      <thead>
        <tr>
          <th scope="col">Shard</th>
          <th scope="col">Job</th>
          <th scope="col">Time line</th>
          <th scope="col">Took</th>
        </tr>
      </thead>
      <tbody>
        ${timings.bars.map((bar) => this.#row(bar, timings.deadline))}
      </tbody>
    </table>`
  }

  #row(bar: ShardBar, deadline: number | null): TemplateResult {
    const took = bar.cut
      ? html`<span class="cut-label">cut at the deadline, not paid</span>`
      : bar.running
        ? 'running'
        : bar.start === null
          ? bar.state
          : html`<span class="took">${formatDurationMs(bar.durationMs)}</span>`
    return html`<tr data-shard-timing=${bar.shard} ?data-cut=${bar.cut}>
      <td>${bar.shard}</td>
      <td>
        <a href="/jobs/${bar.job}"><code>${bar.job}</code></a>
      </td>
      <td>
        <svg viewBox="0 0 ${BAR_WIDTH} ${BAR_HEIGHT}" preserveAspectRatio="none" aria-hidden="true">
          ${
            bar.start === null || bar.end === null
              ? nothing
              : svg`<rect class="bar ${bar.cut ? 'cut' : ''} ${bar.running ? 'running' : ''}"
                  x=${bar.start * BAR_WIDTH} y="1" height=${BAR_HEIGHT - 2}
                  width=${Math.max(2, (bar.end - bar.start) * BAR_WIDTH)}></rect>`
          }
          ${
            deadline === null
              ? nothing
              : svg`<line class="deadline" x1=${deadline * BAR_WIDTH} x2=${deadline * BAR_WIDTH}
                  y1="0" y2=${BAR_HEIGHT}></line>`
          }
        </svg>
      </td>
      <td>${took}</td>
    </tr>`
  }
}

customElements.define('gridx-round-timings', GridxRoundTimings)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-round-timings': GridxRoundTimings
  }
}
