// A sharded job on a job page: its state, progress (shards done of N), cost (the sum of its
// children) and each shard's map jobs, linked; a training job's rounds too. Shown on the
// parent's own page and on each child's.
import { Task } from '@lit/task'
import { css, html, LitElement, nothing } from 'lit'
import type { TemplateResult } from 'lit'
import { GridxError, PARENT_REFRESH_MS } from '../../../protocol/index.ts'
import type { ParentView } from '../../../protocol/index.ts'
import { formatCredits, formatTime } from '../format.ts'
import type { AppServices } from '../services.ts'
import { sharedStyles } from '../styles/shared-styles.ts'
import './gridx-training.ts'

/**
 * @fires parent-found - when `parentId` names a sharded job the caller owns.
 * @attr data-parent on the section, data-parent-progress and data-parent-cost on the facts.
 */
export class GridxJobParent extends LitElement {
  static override properties = {
    services: { attribute: false },
    parentId: {},
    /** The child's page passes the child's id, to say which shard this page is. */
    childId: {},
    cancelError: { state: true },
  }
  static override styles = [
    sharedStyles,
    css`
      progress {
        width: 100%;
      }
    `,
  ]

  declare services: AppServices
  declare parentId: string
  declare childId: string | undefined
  declare cancelError: string | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #round = 0

  readonly #parent = new Task(this, {
    task: async ([id]): Promise<ParentView | null> => {
      if (id === '') return null
      try {
        const parent = await this.services.client.call('job.parent', { id })
        this.dispatchEvent(new CustomEvent('parent-found', { bubbles: true, composed: true }))
        this.#again(parent)
        return parent
      } catch (error) {
        if (error instanceof GridxError && error.name === 'NOT_FOUND') return null
        throw error
      }
    },
    args: () => [this.parentId, this.#round] as const,
  })

  constructor() {
    super()
    this.parentId = ''
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearTimeout(this.#timer)
  }

  /** While it runs, the parent is looked at again: its children's events are on their pages. */
  #again(parent: ParentView): void {
    clearTimeout(this.#timer)
    if (parent.state !== 'running') return
    this.#timer = setTimeout(() => {
      this.#round++
      this.requestUpdate()
    }, PARENT_REFRESH_MS)
  }

  override render(): unknown {
    return this.#parent.render({
      complete: (parent) => (parent === null ? nothing : this.#card(parent)),
      error: (error) =>
        html`<p class="notice error" role="alert">
          Could not load the sharded job: ${error instanceof Error ? error.message : error}
        </p>`,
    })
  }

  #card(parent: ParentView): TemplateResult {
    const total = parent.shards.length
    const shard = parent.shards.find((one) => one.jobs.includes(this.childId ?? ''))
    const role =
      this.childId === undefined
        ? nothing
        : html`<p data-parent-role>
            ${
              shard !== undefined
                ? `Shard ${shard.index} of ${total} of`
                : parent.reduce === this.childId
                  ? 'The reduce of'
                  : 'A child of'
            }
            <a href="/jobs/${parent.id}"><code>${parent.id}</code></a>
          </p>`
    return html`
      <section class="card" aria-labelledby="parent-h" data-parent>
        <h2 id="parent-h">${parent.training === undefined ? 'Sharded job' : 'Training job'}</h2>
        ${role}
        ${
          this.cancelError
            ? html`<p class="notice error" role="alert">${this.cancelError}</p>`
            : nothing
        }
        ${
          parent.state === 'running'
            ? html`<button class="danger" @click=${() => this.#cancel(parent)} data-parent-cancel>
                Cancel every shard
              </button>`
            : nothing
        }
        <progress max=${total} value=${parent.shardsDone}></progress>
        <dl class="facts">
          <dt>State</dt>
          <dd data-parent-state>${parent.state}${parent.reason ? ` (${parent.reason})` : ''}</dd>
          <dt>Progress</dt>
          <dd data-parent-progress>${parent.shardsDone}/${total} shards done</dd>
          <dt>Cost</dt>
          <dd data-parent-cost>
            ${formatCredits(parent.costMc)} of ${formatCredits(parent.maxPriceMc)} escrowed
          </dd>
          <dt>Reduce</dt>
          <dd>${this.#link(parent.reduce, parent.hasReduce ? 'waits for every shard' : 'none')}</dd>
          <dt>Created</dt>
          <dd>${formatTime(parent.createdAt)}</dd>
        </dl>
        ${this.#training(parent)}
        <table>
          <caption>
            Shards
          </caption>
          <tbody>
            ${parent.shards.map(
              (one) => html`
                <tr data-shard=${one.index}>
                  <td>${one.index}</td>
                  <td>${one.state}</td>
                  <td>${one.jobs.map((id) => html`${this.#link(id, '')} `)}</td>
                </tr>
              `,
            )}
          </tbody>
        </table>
      </section>
    `
  }

  #training(parent: ParentView): TemplateResult | typeof nothing {
    // Only on the parent's own page: a child's page links the parent, where the rounds are.
    if (parent.training === undefined || this.childId !== undefined) return nothing
    return html`<gridx-training
      .training=${parent.training}
      .download=${(cid: string, from: string | null) => this.services.client.blob(cid, from)}
    ></gridx-training>`
  }

  async #cancel(parent: ParentView): Promise<void> {
    this.cancelError = undefined
    try {
      const idempotencyId = crypto.randomUUID()
      await this.services.client.call('job.cancel-parent', { id: parent.id, idempotencyId })
      this.#round++
      this.requestUpdate()
    } catch (error) {
      this.cancelError = `Could not cancel: ${error instanceof Error ? error.message : error}`
    }
  }

  #link(id: string | null, otherwise: string): TemplateResult | string {
    return id === null ? otherwise : html`<a href="/jobs/${id}"><code>${id}</code></a>`
  }
}

customElements.define('gridx-job-parent', GridxJobParent)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-job-parent': GridxJobParent
  }
}
