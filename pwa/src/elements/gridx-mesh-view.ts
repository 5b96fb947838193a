// The mesh: its id, coordinator and term, queue, and each peer with its roles, capacity,
// live load, and whether it is reachable.
import { html, LitElement, css, nothing } from 'lit'
import type { TemplateResult } from 'lit'
import type { PeerView } from '../../../protocol/index.ts'
import { MeshController } from '../controllers/mesh-controller.ts'
import { formatCredits, shortId } from '../format.ts'
import type { AppServices } from '../services.ts'
import { sharedStyles } from '../styles/shared-styles.ts'
import './gridx-load-chart.ts'
import './gridx-saved-notice.ts'

export class GridxMeshView extends LitElement {
  static override properties = { services: { attribute: false } }
  static override styles = [
    sharedStyles,
    css`
      .peers {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr));
        gap: 1rem;
      }
      .peer h3 {
        font-size: 1rem;
        overflow-wrap: anywhere;
      }
      .roles {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem;
        list-style: none;
        padding: 0;
        margin: 0 0 0.5rem;
      }
      .roles li {
        border: 1px solid var(--border);
        border-radius: 999px;
        padding: 0 0.5rem;
        font-size: 0.8rem;
      }
      .unreachable {
        border-color: var(--danger);
      }
      .unreachable h3::after {
        content: ' (unreachable)';
        color: var(--danger);
      }
    `,
  ]

  declare services: AppServices
  #mesh: MeshController | undefined

  override connectedCallback(): void {
    this.#mesh ??= new MeshController(this, this.services.client, this.services.cache)
    super.connectedCallback()
  }

  override render(): TemplateResult {
    const mesh = this.#mesh
    if (mesh === undefined) return html``
    const info = mesh.info
    const unreachable = mesh.peers.filter((peer) => !peer.reachable).length
    return html`
      <h1>Mesh</h1>
      <gridx-saved-notice .status=${mesh.status} .error=${mesh.error}></gridx-saved-notice>
      ${
        info
          ? html`<section class="card" aria-labelledby="mesh-h">
              <h2 id="mesh-h">Overview</h2>
              <dl class="facts">
                <dt>Mesh</dt>
                <dd><code>${info.meshId}</code></dd>
                <dt>Coordinator</dt>
                <dd title=${info.coordinator ?? ''} data-coordinator>
                  ${info.coordinator ? shortId(info.coordinator) : 'none (election under way)'}
                </dd>
                <dt>Term</dt>
                <dd data-term>${info.term}</dd>
                <dt>Queue</dt>
                <dd>${info.queueLength} jobs waiting or running</dd>
                <dt>Price</dt>
                <dd>
                  ${formatCredits(info.policy.cpuSecondMc)} per CPU-second,
                  ${formatCredits(info.policy.gibSecondMc)} per GiB-second, at least
                  ${formatCredits(info.policy.jobMinimumMc)}
                </dd>
                <dt>Peers</dt>
                <dd>${mesh.peers.length}, ${unreachable} unreachable</dd>
                <dt>Version</dt>
                <dd>${info.version}</dd>
              </dl>
            </section>`
          : nothing
      }
      <h2>Peers</h2>
      <div class="peers">${mesh.peers.map((peer) => this.#peer(peer, mesh))}</div>
    `
  }

  #peer(peer: PeerView, mesh: MeshController): TemplateResult {
    const name = `${shortId(peer.peerId)}${peer.self ? ' (this peer)' : ''}`
    return html`<section class="card peer ${peer.reachable ? '' : 'unreachable'}" data-peer>
      <h3 title=${peer.peerId}>${name}</h3>
      <ul class="roles" aria-label="Roles">
        ${peer.roles.map((role) => html`<li>${role}</li>`)}
      </ul>
      <dl class="facts">
        <dt>Reachable</dt>
        <dd>${peer.reachable ? 'yes' : 'no'}</dd>
        <dt>Capacity</dt>
        <dd>
          ${
            peer.capacity
              ? `${peer.capacity.cpus} CPU, ${peer.capacity.memoryMb} MB, ${peer.capacity.runtimes.join(', ')}`
              : 'runs no jobs'
          }
        </dd>
        <dt>Running</dt>
        <dd>${peer.load ? `${peer.load.runningJobs} jobs` : '—'}</dd>
        ${
          peer.executorProblem
            ? html`<dt>Problem</dt>
                <dd class="error">${peer.executorProblem}</dd>`
            : nothing
        }
      </dl>
      ${
        peer.capacity
          ? html`<gridx-load-chart
              .samples=${mesh.samples.get(peer.peerId) ?? []}
              label="Load of ${name}"
            ></gridx-load-chart>`
          : nothing
      }
    </section>`
  }
}

customElements.define('gridx-mesh-view', GridxMeshView)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-mesh-view': GridxMeshView
  }
}
