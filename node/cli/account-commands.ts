// gridx balance | history
import { Command } from 'commander'
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
    .option('--limit <n>', 'how many', '50')
    .action(async (options: CommonOptions & { limit: string }) => {
      const api = await target(context, options)
      const account = (await call(api, 'account.balance', {})).account
      const { transfers } = await call(api, 'account.history', { limit: Number(options.limit) })
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
