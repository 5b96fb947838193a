// The mesh: its id, coordinator, term and commit index, queue, its voters and learners with
// their health, and each peer with its roles, capacity, live load, and whether it is reachable.
// It follows the daemon live and says so when it is reconnecting and what it shows is older.
import { html, LitElement, css, nothing } from 'lit'
import type { TemplateResult } from 'lit'
import type { PeerView } from '../../../protocol/index.ts'
import { ConnectionController } from '../controllers/connection-controller.ts'
import { MeshController } from '../controllers/mesh-controller.ts'
import { formatCredits, shortId } from '../format.ts'
import { capacityLabel, formatAgo, ownerLabel } from '../mesh-format.ts'
import type { AppServices } from '../services.ts'
import { sharedStyles } from '../styles/shared-styles.ts'
import './gridx-load-chart.ts'
import './gridx-mesh-members.ts'
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
  #connection: ConnectionController | undefined

  override connectedCallback(): void {
    this.#mesh ??= new MeshController(this, this.services.client, this.services.cache)
    this.#connection ??= new ConnectionController(this, this.services.client)
    super.connectedCallback()
  }

  override render(): TemplateResult {
    const mesh = this.#mesh
    if (mesh === undefined) return html``
    const info = mesh.info
    const unreachable = mesh.peers.filter((peer) => !peer.reachable).length
    const nowMs = Date.now()
    // The peers' subscription can answer before mesh.info: shown at once, they would be pushed
    // down when the overview arrives above them (a layout shift). So both come together.
    if (mesh.status === 'loading' && info === undefined) {
      return html`<h1>Mesh</h1>
        <p class="muted" aria-busy="true">Loading the mesh…</p>`
    }
    return html`
      <h1>Mesh</h1>
      <gridx-saved-notice .status=${mesh.status} .error=${mesh.error}></gridx-saved-notice>
      ${this.#reconnecting(mesh, nowMs)}
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
                <dt>Commit index</dt>
                <dd data-commit-index>${info.commitIndex ?? info.appliedIndex}</dd>
                <dt>Applied index</dt>
                <dd data-applied-index>${info.appliedIndex}</dd>
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
      ${info ? html`<gridx-mesh-members .info=${info} .nowMs=${nowMs}></gridx-mesh-members>` : nothing}
      <h2>Peers</h2>
      <div class="peers">${mesh.peers.map((peer) => this.#peer(peer, mesh, nowMs))}</div>
    `
  }

  /** While the connection is down, what is shown is as old as the last data that came. */
  #reconnecting(mesh: MeshController, nowMs: number): TemplateResult | typeof nothing {
    if (this.#connection?.online !== false || mesh.freshAtMs === undefined) return nothing
    return html`<p class="notice" role="status" data-reconnecting>
      Reconnecting to the daemon: the figures below are from ${formatAgo(mesh.freshAtMs, nowMs)} and
      will refresh when it answers.
    </p>`
  }

  #peer(peer: PeerView, mesh: MeshController, nowMs: number): TemplateResult {
    const name = `${shortId(peer.peerId)}${peer.self ? ' (this peer)' : ''}`
    return html`<section class="card peer ${peer.reachable ? '' : 'unreachable'}" data-peer>
      <h3 title=${peer.peerId}>${name}</h3>
      <ul class="roles" aria-label="Roles">
        ${peer.roles.map((role) => html`<li>${role}</li>`)}
      </ul>
      <dl class="facts">
        <dt>Owner</dt>
        <dd title=${peer.owner} data-owner>${ownerLabel(peer)}</dd>
        <dt>Reachable</dt>
        <dd>${peer.reachable ? 'yes' : 'no'}</dd>
        <dt>Capacity</dt>
        <dd>${capacityLabel(peer)}</dd>
        <dt>Load</dt>
        <dd data-load>${peer.load ? loadText(peer.load) : '—'}</dd>
        ${
          peer.lastHeartbeatMs === undefined
            ? nothing
            : html`<dt>Last heartbeat</dt>
                <dd>${formatAgo(peer.lastHeartbeatMs, nowMs)}</dd>`
        }
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

function loadText(load: NonNullable<PeerView['load']>): string {
  const jobs = `${load.runningJobs} job${load.runningJobs === 1 ? '' : 's'}`
  return `${jobs}, ${load.cpusInUse} CPU, ${load.memoryMbInUse} MB in use`
}

customElements.define('gridx-mesh-view', GridxMeshView)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-mesh-view': GridxMeshView
  }
}
