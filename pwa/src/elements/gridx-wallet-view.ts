// The wallet: balance, what is held in escrow, and every transfer with its job.
import { html, LitElement, css } from 'lit'
import type { TemplateResult } from 'lit'
import type { TransferView } from '../../../protocol/index.ts'
import { WalletController } from '../controllers/wallet-controller.ts'
import { formatCredits, formatTime, shortId } from '../format.ts'
import type { AppServices } from '../services.ts'
import { sharedStyles } from '../styles/shared-styles.ts'
import './gridx-saved-notice.ts'

export class GridxWalletView extends LitElement {
  static override properties = { services: { attribute: false } }
  static override styles = [
    sharedStyles,
    css`
      .figures {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr));
        gap: 1rem;
      }
      .figure {
        margin: 0;
      }
      .figure .value {
        font-size: 1.6rem;
        font-weight: 700;
        font-variant-numeric: tabular-nums;
      }
      .scroll {
        overflow-x: auto;
      }
      .in {
        color: var(--success);
      }
      @media (max-width: 600px) {
        .wide {
          display: none;
        }
      }
    `,
  ]

  declare services: AppServices
  #wallet: WalletController | undefined

  override connectedCallback(): void {
    this.#wallet ??= new WalletController(this, this.services.client, this.services.cache)
    super.connectedCallback()
  }

  override render(): TemplateResult {
    const wallet = this.#wallet
    if (wallet === undefined) return html``
    const balance = wallet.balance
    return html`
      <h1>Wallet</h1>
      <gridx-saved-notice .status=${wallet.status} .error=${wallet.error}></gridx-saved-notice>
      <div class="figures">
        <section class="card figure" aria-labelledby="bal-h">
          <h2 id="bal-h">Balance</h2>
          <div class="value" data-balance=${balance?.balanceMc ?? ''}>
            ${formatCredits(balance?.balanceMc)}
          </div>
        </section>
        <section class="card figure" aria-labelledby="esc-h">
          <h2 id="esc-h">In escrow</h2>
          <div class="value" data-escrowed>${formatCredits(balance?.escrowedMc)}</div>
        </section>
        <section class="card figure" aria-labelledby="av-h">
          <h2 id="av-h">Available</h2>
          <div class="value" data-available>${formatCredits(balance?.availableMc)}</div>
        </section>
      </div>
      <p class="muted" data-account>
        ${
          balance
            ? html`Account <code title=${balance.account}>${shortId(balance.account)}</code>`
            : // Its line is held while the balance loads, so History does not move down then.
              html`&nbsp;`
        }
      </p>
      <h2>History</h2>
      ${
        wallet.transfers.length === 0
          ? html`<p class="muted">No transfers yet.</p>`
          : this.#table(wallet.transfers, balance?.account)
      }
    `
  }

  #table(transfers: readonly TransferView[], account: string | undefined): TemplateResult {
    return html`<div class="scroll">
      <table data-history>
        <caption class="visually-hidden">
          Transfers, newest first
        </caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Kind</th>
            <th scope="col">Job</th>
            <th scope="col" class="wide">From → to</th>
            <th scope="col" class="num">Amount</th>
          </tr>
        </thead>
        <tbody>
          ${transfers.map((transfer) => {
            const incoming = transfer.credit === account
            return html`<tr data-transfer=${transfer.kind}>
              <td>${formatTime(transfer.at)}</td>
              <td>${transfer.kind}</td>
              <td>
                ${
                  transfer.jobId
                    ? html`<a href="/jobs/${transfer.jobId}"><code>${transfer.jobId}</code></a>`
                    : '—'
                }
              </td>
              <td class="wide">
                <span title=${transfer.debit}>${shortId(transfer.debit)}</span> →
                <span title=${transfer.credit}>${shortId(transfer.credit)}</span>
              </td>
              <td class="num ${incoming ? 'in' : ''}">
                ${incoming ? '+' : transfer.debit === account ? '−' : ''}${formatCredits(
                  transfer.amountMc,
                )}
              </td>
            </tr>`
          })}
        </tbody>
      </table>
    </div>`
  }
}

customElements.define('gridx-wallet-view', GridxWalletView)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-wallet-view': GridxWalletView
  }
}
