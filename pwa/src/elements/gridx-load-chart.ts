// A small line chart of one peer's CPU and memory use over the last samples, in plain SVG.
import { html, LitElement, css, svg } from 'lit'
import type { TemplateResult } from 'lit'
import type { LoadSample } from '../controllers/mesh-controller.ts'
import { LOAD_SAMPLES_MAX } from '../controllers/mesh-controller.ts'

const WIDTH = 180
const HEIGHT = 40

function points(samples: readonly LoadSample[], pick: (sample: LoadSample) => number): string {
  const step = WIDTH / (LOAD_SAMPLES_MAX - 1)
  const offset = LOAD_SAMPLES_MAX - samples.length
  return samples
    .map((sample, index) => {
      const x = (offset + index) * step
      const y = HEIGHT - 2 - pick(sample) * (HEIGHT - 4)
      return `${x.toFixed(1)},${y.toFixed(1)}`
    })
    .join(' ')
}

/** The chart is an image with a text alternative giving the latest figures. */
export class GridxLoadChart extends LitElement {
  static override properties = { samples: { attribute: false }, label: {} }
  static override styles = css`
    svg {
      display: block;
      width: 100%;
      max-width: ${WIDTH * 1.5}px;
      height: auto;
      background: var(--code-bg);
      border-radius: 4px;
    }
    .legend {
      font-size: 0.8rem;
      color: var(--muted);
    }
    .cpu {
      color: var(--chart-cpu);
    }
    .memory {
      color: var(--chart-memory);
    }
  `

  declare samples: readonly LoadSample[]
  declare label: string

  constructor() {
    super()
    this.samples = []
    this.label = 'load'
  }

  override render(): TemplateResult {
    const last = this.samples.at(-1)
    const percent = (value: number | undefined) => `${Math.round((value ?? 0) * 100)} %`
    const summary = `${this.label}: CPU ${percent(last?.cpu)}, memory ${percent(last?.memory)}`
    return html`
      <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label=${summary}>
        ${svg`<polyline fill="none" stroke="var(--chart-cpu)" stroke-width="1.5"
          points=${points(this.samples, (sample) => sample.cpu)}></polyline>
        <polyline fill="none" stroke="var(--chart-memory)" stroke-width="1.5"
          stroke-dasharray="3 2" points=${points(this.samples, (sample) => sample.memory)}></polyline>`}
      </svg>
      <div class="legend">
        <span class="cpu">━ CPU ${percent(last?.cpu)}</span>
        <span class="memory">┅ memory ${percent(last?.memory)}</span>
      </div>
    `
  }
}

customElements.define('gridx-load-chart', GridxLoadChart)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-load-chart': GridxLoadChart
  }
}
