// gridx peers | mesh | token | leave
import { Command } from 'commander'
import { call, target } from './api.ts'
import type { CliContext, CommonOptions } from './context.ts'
import { meshInfoText, peersText } from './mesh-format.ts'
import { leaveCommand } from './leave-command.ts'

type Decorate = (command: Command) => Command
type TokenOptions = CommonOptions & { voter?: boolean; rotate?: boolean; sameOwner?: boolean }

export function meshCommands(context: CliContext, decorate: Decorate): Command[] {
  const peers = decorate(new Command('peers'))
    .description('list the peers of the mesh with their roles, capacity, load and heartbeat')
    .action(async (options: CommonOptions) => {
      const result = await call(await target(context, options), 'mesh.peers', {})
      const list = result.peers
      if (options.json) return void context.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
      context.stdout.write(`${peersText(list, context.clock.now(), result.executorsUnknown)}\n`)
    })
  const mesh = decorate(new Command('mesh'))
    .description('show the mesh: its id, coordinator, voters and learners, queue and policy')
    .action(async (options: CommonOptions) => {
      const info = await call(await target(context, options), 'mesh.info', {})
      if (options.json) return void context.stdout.write(`${JSON.stringify(info, null, 2)}\n`)
      context.stdout.write(`${meshInfoText(info, context.clock.now())}\n`)
    })
  const token = decorate(new Command('token'))
    .description('print the join token for executors (or voters) of this mesh')
    .option('--voter', 'the token that joins as a voter candidate instead of an executor')
    .option('--rotate', 'replace the token: the old one no longer admits new peers')
    .option('--same-owner', 'the token whose peer joins as this peer’s owner (your own machines)')
    .action(async (options: TokenOptions) => {
      const role = options.voter === true ? 'voter' : 'executor'
      const { token: text } = await call(await target(context, options), 'mesh.token', {
        role,
        rotate: options.rotate === true,
        sameOwner: options.sameOwner === true,
      })
      context.stdout.write(options.json ? `${JSON.stringify({ token: text })}\n` : `${text}\n`)
    })
  return [peers, mesh, token, leaveCommand(context, decorate)]
}
