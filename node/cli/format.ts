// Plain-text rendering for people; `--json` prints the API's objects instead.
import { MILLICREDITS_PER_CREDIT } from '../../protocol/index.ts'
import type { JobView, TransferView } from '../../protocol/index.ts'
import { fileLines } from './file-format.ts'

export function credits(millicredits: number): string {
  return (millicredits / MILLICREDITS_PER_CREDIT).toFixed(3).replace(/\.?0+$/, '') || '0'
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

function time(ms: number | null): string {
  return ms === null
    ? '-'
    : new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
}

export function jobLine(job: JobView): string[] {
  return [
    job.id,
    job.runtime,
    job.state,
    job.result?.exitCode?.toString() ?? '-',
    job.priceMc === null ? `≤${credits(job.maxPriceMc)}` : credits(job.priceMc),
    time(job.createdAt),
  ]
}

export const JOB_HEADER = ['JOB', 'RUNTIME', 'STATE', 'EXIT', 'CREDITS', 'CREATED']

export function jobDetails(job: JobView): string {
  const result = job.result
  const lines: [string, string][] = [
    ['job', job.id],
    ['state', job.state + (job.reason ? ` (${job.reason})` : '')],
    ['runtime', job.runtime],
    [
      'limits',
      `${job.spec.cpus} cpus, ${job.spec.memoryMb} MB, ${job.spec.timeoutS} s, ${job.spec.pids} processes`,
    ],
    ['created', time(job.createdAt)],
    ['started', time(job.startedAt)],
    ['finished', time(job.finishedAt)],
    ['attempts', String(job.attempts)],
    ['executor', job.executor ?? '-'],
    ['escrowed', credits(job.maxPriceMc)],
    ['price', job.priceMc === null ? '-' : credits(job.priceMc)],
    ['paid to executor', job.executorPaidMc === null ? '-' : credits(job.executorPaidMc)],
    ['fees', job.feesPaidMc === null ? '-' : credits(job.feesPaidMc)],
  ]
  if (result !== null) {
    lines.push(
      ['exit code', result.exitCode === null ? '-' : String(result.exitCode)],
      ['wall time', `${result.wallMs} ms`],
      ['cpu time', result.cpuMs === null ? '-' : `${result.cpuMs} ms`],
      [
        'memory peak',
        result.memoryPeakBytes === null ? '-' : `${Math.round(result.memoryPeakBytes / 1024)} KiB`,
      ],
      [
        'stdout',
        `${result.stdoutBytes} bytes${result.stdoutTruncated ? ` (cut at ${result.outputCapBytes})` : ''}`,
      ],
      [
        'stderr',
        `${result.stderrBytes} bytes${result.stderrTruncated ? ` (cut at ${result.outputCapBytes})` : ''}`,
      ],
    )
  }
  lines.push(...fileLines(job))
  const width = Math.max(...lines.map(([key]) => key.length))
  return lines.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n')
}

export function transferLine(transfer: TransferView, account: string): string[] {
  const sign = transfer.credit === account ? '+' : '-'
  const other = transfer.credit === account ? transfer.debit : transfer.credit
  return [
    time(transfer.at),
    transfer.kind,
    `${sign}${credits(transfer.amountMc)}`,
    transfer.jobId ?? '-',
    other,
  ]
}

export const TRANSFER_HEADER = ['TIME', 'KIND', 'CREDITS', 'JOB', 'COUNTERPART']
