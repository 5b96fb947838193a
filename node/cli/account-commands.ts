// gridx balance | history
import { Command, InvalidArgumentError } from 'commander'
import { call, target } from './api.ts'
import type { CliContext, CommonOptions } from './context.ts'
import { TRANSFER_HEADER, credits, table, transferLine } from './format.ts'

type Decorate = (command: Command) => Command

export function accountCommands(context: CliContext, decorate: Decorate): Command[] {
  const balance = decorate(new Command('balance'))
    .description('show your credits: balance and what is held in escrow for unfinished jobs')
    .action(async (options: CommonOptions) => {
      const view = await call(await target(context, options), 'account.balance', {})
      const text =
        `account   ${view.account}\n` +
        `balance   ${credits(view.balanceMc)} credits\n` +
        `escrowed  ${credits(view.escrowedMc)} credits (held for unfinished jobs)`
      context.stdout.write(options.json ? `${JSON.stringify(view, null, 2)}\n` : `${text}\n`)
    })
  const history = decorate(new Command('history'))
    .description('list every transfer of your account with the job it belongs to, newest first')
    .option('--limit <n>', 'how many', whole, 50)
    .option('--before <index>', 'only transfers applied before this log index (next page)', whole)
    .action(async (options: CommonOptions & { limit: number; before?: number }) => {
      const api = await target(context, options)
      const account = (await call(api, 'account.balance', {})).account
      const { limit, before } = options
      const { transfers } = await call(api, 'account.history', { limit, before })
      // A page ends on a whole log index (a settlement posts several transfers at one), so it
      // can be short of --limit with more behind it: look, and say how to get the next page
      // on stderr, so that --json stays clean.
      const oldest = transfers.at(-1)
      const behind =
        oldest === undefined
          ? []
          : (await call(api, 'account.history', { limit: 1, before: oldest.index })).transfers
      if (oldest !== undefined && behind.length > 0)
        context.stderr.write(`more: gridx history --before ${oldest.index}\n`)
      if (options.json) {
        context.stdout.write(`${JSON.stringify(transfers, null, 2)}\n`)
        return
      }
      const rows = transfers.map((transfer) => transferLine(transfer, account))
      context.stdout.write(
        `${rows.length === 0 ? 'no transfers' : table([TRANSFER_HEADER, ...rows])}\n`,
      )
    })
  return [balance, history]
}

function whole(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number')
  return Number(value)
}
