// gridx completion bash|zsh: prints the shell's completion script, made from this program's
// own commands and options (completion-spec.ts), so it can never list a flag the CLI lacks.
import { Argument, Command } from 'commander'
import type { CliContext } from './context.ts'
import { bashCompletion, SHELLS, zshCompletion } from './completion-scripts.ts'
import type { Shell } from './completion-scripts.ts'
import { completionSpec } from './completion-spec.ts'

export function completionCommand(context: CliContext): Command {
  return new Command('completion')
    .description('print the shell completion script for bash or zsh (see the README)')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(SHELLS))
    .action((shell: Shell, _options: object, command: Command) => {
      const program = command.parent as Command
      const spec = completionSpec(program)
      context.stdout.write(shell === 'bash' ? bashCompletion(spec) : zshCompletion(spec))
    })
}
