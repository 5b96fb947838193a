// The `gridx` command line. Every command has --help and --json, accepts --data-dir, and talks
// to the daemon only through its API.
import { Command, Option } from 'commander'
import { VERSION } from '../local/index.ts'
import { accountCommands } from './account-commands.ts'
import { completionCommand } from './completion-command.ts'
import { jobCommands } from './job-commands.ts'
import { meshCommands } from './mesh-commands.ts'
import { startCommand } from './start-command.ts'
import { trainCommand } from './train-commands.ts'
import type { CliContext } from './context.ts'

export function buildProgram(context: CliContext): Command {
  const program = new Command('gridx')
    .description('Grid-X: pool machines into one compute mesh and run jobs on it for credits')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
    })
    .exitOverride()
  const common = (command: Command): Command =>
    command
      .addOption(
        new Option('--data-dir <dir>', 'data directory of the daemon').default(
          context.defaultDataDir,
        ),
      )
      .option('--json', 'print machine-readable JSON and no progress')
  const client = (command: Command): Command =>
    common(command).option('--api <url>', 'API address of the daemon (or GRIDX_API)')

  program.addCommand(startCommand(context, common))
  for (const command of jobCommands(context, client)) program.addCommand(command)
  program.addCommand(trainCommand(context, client))
  for (const command of accountCommands(context, client)) program.addCommand(command)
  for (const command of meshCommands(context, client)) program.addCommand(command)
  program.addCommand(completionCommand(context))
  // addCommand does not pass settings down: without this a subcommand's help and errors went
  // to the process's own stdout and exit instead of the context's.
  inheritSettings(program)
  return program
}

function inheritSettings(parent: Command): void {
  for (const command of parent.commands) {
    command.copyInheritedSettings(parent)
    inheritSettings(command)
  }
}
