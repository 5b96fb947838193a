// One metric of a training job over its rounds, as a line chart in plain SVG: a title, both
// axes labelled, a point per round, and the same figures as a table for whoever cannot see the
// chart (a screen reader, a copy into a spreadsheet).
import { css, html, LitElement, svg } from 'lit'
import type { SVGTemplateResult, TemplateResult } from 'lit'
import { plotPoints, roundX, valueAxis, valueY } from '../training-chart.ts'
import type { ChartBox, MetricPoint, ValueAxis } from '../training-chart.ts'
import { sharedStyles } from '../styles/shared-styles.ts'

/** Room for the value labels on the left and the round labels and axis name below. */
const BOX: ChartBox = { width: 320, height: 180, left: 48, right: 12, top: 12, bottom: 36 }

/** Round labels beyond this many crowd the axis: every nth is drawn instead. */
const ROUND_LABELS_MAX = 10

/** A value as a tick or a table shows it: four significant digits are more than a chart reads. */
export function formatMetric(value: number): string {
  return Number(value.toPrecision(4)).toString()
}

/**
 * @attr data-metric-chart on the figure, with the metric's name.
 * The table's rows carry `data-round`.
 */
export class GridxMetricChart extends LitElement {
  static override properties = {
    name: {},
    points: { attribute: false },
    rounds: { type: Number },
  }
  static override styles = [
    sharedStyles,
    css`
      figure {
        margin: 0;
      }
      svg {
        display: block;
        width: 100%;
        max-width: 30rem;
        height: auto;
        background: var(--code-bg);
        border-radius: 4px;
      }
      text {
        fill: var(--muted);
        font-size: 11px;
      }
      .axis-name {
        fill: var(--fg);
        font-weight: 600;
      }
      .grid {
        stroke: var(--muted);
        stroke-opacity: 0.25;
      }
      .line {
        fill: none;
        stroke: var(--chart-cpu);
        stroke-width: 2;
      }
      .point {
        fill: var(--chart-cpu);
      }
      figcaption {
        font-weight: 600;
      }
      table {
        border-collapse: collapse;
      }
      td,
      th {
        text-align: right;
        padding: 0.1rem 0.75rem 0.1rem 0;
      }
    `,
  ]

  declare name: string
  declare points: readonly MetricPoint[]
  declare rounds: number

  constructor() {
    super()
    this.name = ''
    this.points = []
    this.rounds = 1
  }

  override render(): TemplateResult {
    const axis = valueAxis(this.points.map((point) => point.value))
    const last = this.points.at(-1)
    const summary =
      last === undefined
        ? `No ${this.name} reported yet.`
        : `${this.name} is ${formatMetric(last.value)} after round ${last.round} of ${this.rounds}.`
    return html`<figure data-metric-chart=${this.name}>
      <figcaption id="caption">${this.name} by round</figcaption>
      <svg
        viewBox="0 0 ${BOX.width} ${BOX.height}"
        role="img"
        aria-labelledby="title"
        aria-describedby="desc"
      >
        <title id="title">${this.name} by round</title>
        <desc id="desc">${summary}</desc>
        ${this.#valueTicks(axis)} ${this.#roundTicks()} ${this.#line(axis)}
      </svg>
      <details>
        <summary>${this.name} as a table</summary>
        <table>
          <caption class="visually-hidden">
            ${this.name} by round
          </caption>
          <thead>
            <tr>
              <th scope="col">Round</th>
              <th scope="col">${this.name}</th>
            </tr>
          </thead>
          <tbody>
            ${this.points.map(
              (point) =>
                html`<tr data-round=${point.round}>
                  <td>${point.round}</td>
                  <td>${formatMetric(point.value)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </details>
    </figure>`
  }

  #valueTicks(axis: ValueAxis): SVGTemplateResult {
    const right = BOX.width - BOX.right
    const middle = (BOX.top + BOX.height - BOX.bottom) / 2
    return svg`${axis.ticks.map((tick) => {
      const y = valueY(tick, axis, BOX)
      return svg`<line class="grid" x1=${BOX.left} x2=${right} y1=${y} y2=${y}></line>
        <text x=${BOX.left - 4} y=${y + 4} text-anchor="end">${formatMetric(tick)}</text>`
    })}
      <text class="axis-name" text-anchor="middle" transform="translate(10 ${middle}) rotate(-90)">
        ${this.name}
      </text>`
  }

  #roundTicks(): SVGTemplateResult {
    const every = Math.ceil(this.rounds / ROUND_LABELS_MAX)
    const rounds = Array.from({ length: this.rounds }, (_, at) => at + 1).filter(
      (round) => round === 1 || round % every === 0,
    )
    const baseline = BOX.height - BOX.bottom
    const middle = (BOX.left + BOX.width - BOX.right) / 2
    return svg`<line class="grid" x1=${BOX.left} x2=${BOX.width - BOX.right}
        y1=${baseline} y2=${baseline}></line>
      ${rounds.map(
        (round) => svg`<text x=${roundX(round, this.rounds, BOX)} y=${baseline + 14}
          text-anchor="middle">${round}</text>`,
      )}
      <text class="axis-name" x=${middle} y=${BOX.height - 4} text-anchor="middle">Round</text>`
  }

  #line(axis: ValueAxis): SVGTemplateResult {
    const points = plotPoints(this.points, this.rounds, axis, BOX)
    const path = points.map(({ x, y }) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')
    return svg`<polyline class="line" points=${path}></polyline>
      ${points.map(({ x, y }) => svg`<circle class="point" cx=${x} cy=${y} r="3"></circle>`)}`
  }
}

customElements.define('gridx-metric-chart', GridxMetricChart)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-metric-chart': GridxMetricChart
  }
}
