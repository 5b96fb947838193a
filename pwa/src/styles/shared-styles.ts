// Styles every view shares. Colours come from custom properties set in index.html, which
// switch with prefers-color-scheme, so each element only names roles (--fg, --muted, …).
import { css } from 'lit'

export const sharedStyles = css`
  :host {
    display: block;
    color: var(--fg);
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  h1,
  h2,
  h3 {
    margin: 0 0 0.75rem;
    line-height: 1.2;
  }
  h1 {
    font-size: 1.4rem;
  }
  h2 {
    font-size: 1.1rem;
  }
  a {
    color: var(--link);
  }
  a:focus-visible,
  button:focus-visible,
  select:focus-visible,
  input:focus-visible,
  textarea:focus-visible {
    outline: 3px solid var(--focus);
    outline-offset: 2px;
  }
  button,
  .button {
    font: inherit;
    border: 1px solid var(--border);
    background: var(--surface);
    color: var(--fg);
    border-radius: 6px;
    padding: 0.45rem 0.9rem;
    cursor: pointer;
    text-decoration: none;
    display: inline-block;
  }
  button.primary {
    background: var(--accent);
    border-color: var(--accent);
    color: var(--on-accent);
    font-weight: 600;
  }
  button.danger {
    border-color: var(--danger);
    color: var(--danger);
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  input,
  select,
  textarea {
    font: inherit;
    color: var(--fg);
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: 6px;
    padding: 0.4rem 0.5rem;
  }
  .card {
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: 8px;
    padding: 1rem;
    margin-bottom: 1rem;
  }
  .muted {
    color: var(--muted);
  }
  .error {
    color: var(--danger);
  }
  .notice {
    border-left: 4px solid var(--warning);
    background: var(--warning-bg);
    padding: 0.5rem 0.75rem;
    border-radius: 4px;
    margin-bottom: 1rem;
  }
  table {
    width: 100%;
    border-collapse: collapse;
  }
  th,
  td {
    text-align: left;
    padding: 0.45rem 0.5rem;
    border-bottom: 1px solid var(--border);
    vertical-align: top;
  }
  th {
    font-weight: 600;
    color: var(--muted);
    font-size: 0.85rem;
  }
  .num {
    text-align: right;
    font-variant-numeric: tabular-nums;
  }
  dl.facts {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 0.35rem 1rem;
    margin: 0;
  }
  dl.facts dt {
    color: var(--muted);
  }
  dl.facts dd {
    margin: 0;
    overflow-wrap: anywhere;
  }
  code,
  pre {
    font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace;
    font-size: 0.875rem;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`
