// The mesh's Raft group: every voter and learner with its health, match index and last
// contact, as the coordinator last reported them.
import { html, LitElement, css } from 'lit'
import type { TemplateResult } from 'lit'
import type { MeshInfo, MeshMemberView } from '../../../protocol/index.ts'
import { shortId } from '../format.ts'
import { contactLabel, memberHealth, meshMembers, voterSummary } from '../mesh-format.ts'
import { sharedStyles } from '../styles/shared-styles.ts'

/**
 * A table of the members of `info` (one row each, voters first). `nowMs` is the time the
 * last-contact column is read against; the owner sets it on each refresh, so the column ages
 * without a timer of its own.
 */
export class GridxMeshMembers extends LitElement {
  static override properties = { info: { attribute: false }, nowMs: { type: Number } }
  static override styles = [
    sharedStyles,
    css`
      table {
        font-size: 0.875rem;
      }
      th,
      td {
        padding: 0.4rem 0.3rem;
      }
      td:first-child {
        overflow-wrap: anywhere;
      }
      /* The word carries the meaning; the dot's colour only repeats it. */
      .health::before {
        content: '● ';
      }
      .healthy::before {
        color: var(--success);
      }
      .lagging::before {
        color: var(--warning);
      }
      .unreachable::before {
        color: var(--danger);
      }
      .summary {
        margin: 0 0 0.5rem;
      }
      /* Five columns on a phone: tighter cells, and the word alone says the health. */
      @media (max-width: 600px) {
        table {
          font-size: 0.8rem;
        }
        th,
        td {
          padding: 0.35rem 0.15rem;
        }
        .health::before {
          content: none;
        }
      }
    `,
  ]

  declare info: MeshInfo
  declare nowMs: number

  override render(): TemplateResult {
    const { info } = this
    return html`<section class="card" aria-labelledby="members-h">
      <h2 id="members-h">Voters and learners</h2>
      <p class="summary" data-voters>${voterSummary(info)}</p>
      ${
        info.membersUnknown === undefined
          ? ''
          : html`<p class="summary" data-members-unknown>
              Health not known on this peer: ${info.membersUnknown}
            </p>`
      }
      <table data-members>
        <caption class="visually-hidden">
          Members of the mesh's Raft group, voters first
        </caption>
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Role</th>
            <th scope="col">Health</th>
            <th scope="col" class="num">Match index</th>
            <th scope="col">Last contact</th>
          </tr>
        </thead>
        <tbody>
          ${meshMembers(info).map((member) => this.#row(member))}
        </tbody>
      </table>
    </section>`
  }

  #row(member: MeshMemberView): TemplateResult {
    const { info, nowMs } = this
    const health = memberHealth(member, nowMs, info)
    const coordinator = member.peerId === info.coordinator
    return html`<tr data-member=${member.peerId} data-health=${health}>
      <td title=${member.peerId}>
        ${shortId(member.peerId)}${coordinator ? html`<br /><small>coordinator</small>` : ''}
      </td>
      <td data-role>${member.role}</td>
      <td class="health ${health}">${health}</td>
      <td class="num" data-match-index>${member.matchIndex}</td>
      <td data-last-contact>${contactLabel(member, info, nowMs)}</td>
    </tr>`
  }
}

customElements.define('gridx-mesh-members', GridxMeshMembers)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-mesh-members': GridxMeshMembers
  }
}
