// A job's files: each input and output with its size and CID, and a download for each output
// (net/save-blob.ts: fetched with the API token, checked against its size).
import { css, html, LitElement, nothing } from 'lit'
import type { TemplateResult } from 'lit'
import type { JobFile, JobView } from '../../../protocol/index.ts'
import { formatBytes } from '../format.ts'
import { saveBlob, saveBlobFailure } from '../net/save-blob.ts'
import type { BlobDownload } from '../net/save-blob.ts'
import { sharedStyles } from '../styles/shared-styles.ts'

export type { BlobDownload }

/**
 * @attr data-files on the section, for tests.
 * Each output's button carries `data-download` with the output's name.
 */
export class GridxJobFiles extends LitElement {
  static override properties = {
    job: { attribute: false },
    download: { attribute: false },
    error: { state: true },
    busy: { state: true },
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
        padding: 0.25rem 0.5rem 0.25rem 0;
        overflow-wrap: anywhere;
      }
      code {
        font-size: 0.8em;
      }
    `,
  ]

  declare job: JobView | undefined
  declare download: BlobDownload | undefined
  declare error: string | undefined
  declare busy: string | undefined

  override render(): TemplateResult | typeof nothing {
    const job = this.job
    const inputs = job?.spec.inputs ?? []
    const outputs = job?.result?.outputs ?? []
    if (job === undefined || (inputs.length === 0 && outputs.length === 0)) return nothing
    return html`
      <section class="card" aria-labelledby="files-h" data-files>
        <h2 id="files-h">Files</h2>
        ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : nothing}
        ${this.#table('Outputs', outputs, true)} ${this.#table('Inputs', inputs, false)}
      </section>
    `
  }

  #table(caption: string, files: readonly JobFile[], downloadable: boolean) {
    if (files.length === 0) return nothing
    return html`
      <table>
        <caption>
          ${caption}
        </caption>
        <tbody>
          ${files.map(
            (file) => html`
              <tr>
                <td>${file.name}</td>
                <td>${formatBytes(file.size)}</td>
                <td><code title=${file.cid}>${file.cid.slice(0, 16)}…</code></td>
                ${
                  downloadable
                    ? html`<td>
                        <button
                          type="button"
                          data-download=${file.name}
                          ?disabled=${this.busy !== undefined}
                          @click=${() => this.#save(file)}
                        >
                          Download
                        </button>
                      </td>`
                    : nothing
                }
              </tr>
            `,
          )}
        </tbody>
      </table>
    `
  }

  async #save(file: JobFile): Promise<void> {
    if (this.download === undefined || this.job === undefined) return
    this.busy = file.name
    this.error = undefined
    try {
      await saveBlob(this.download, file, this.job.executor)
    } catch (error) {
      this.error = saveBlobFailure(file, error)
    } finally {
      this.busy = undefined
    }
  }
}

customElements.define('gridx-job-files', GridxJobFiles)

declare global {
  interface HTMLElementTagNameMap {
    'gridx-job-files': GridxJobFiles
  }
}
