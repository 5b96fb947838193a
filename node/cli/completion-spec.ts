// What shell completion offers, read from the commander program the CLI parses: its commands,
// each command's options and arguments, and the values an option or argument takes. Read
// through commander's Help, so what completes is what --help lists (hidden options do not).
import type { Argument, Command, Option } from 'commander'

/** What a value is, for the shell to complete it. */
export type ValueKind =
  | { readonly kind: 'choice'; readonly choices: readonly string[] }
  | { readonly kind: 'file' }
  | { readonly kind: 'directory' }
  /** Anything the user types (a port, an id): nothing to offer. */
  | { readonly kind: 'free' }

export interface CompletionOption {
  /** The flags of one option: `-c` and `--code`, or `--json` alone. */
  readonly flags: readonly string[]
  readonly description: string
  /** The value the option takes, or undefined for a switch. */
  readonly value: (ValueKind & { readonly name: string }) | undefined
  /** Given more than once (`--env A=1 --env B=2`). */
  readonly repeatable: boolean
}

export interface CompletionArgument {
  readonly name: string
  readonly value: ValueKind
}

export interface CompletionCommand {
  readonly name: string
  readonly description: string
  readonly options: readonly CompletionOption[]
  readonly arguments: readonly CompletionArgument[]
}

export interface CompletionSpec {
  readonly program: string
  /** The program's own options (--help, --version). */
  readonly options: readonly CompletionOption[]
  readonly commands: readonly CompletionCommand[]
}

/** Value names that mean a path: `<file>`, `[file]`, `<dir>`. */
const FILE_NAMES = new Set(['file', 'path'])
const DIRECTORY_NAMES = new Set(['dir', 'directory'])

export function completionSpec(program: Command): CompletionSpec {
  const help = program.createHelp()
  const commands = help.visibleCommands(program)
  const names = commands.map((command) => command.name())
  return {
    program: program.name(),
    options: help.visibleOptions(program).map(option),
    commands: commands.map((command) => ({
      name: command.name(),
      description: command.description(),
      options: help.visibleOptions(command).map(option),
      // All of them: Help lists arguments only when one has a description.
      arguments: command.registeredArguments.map((argument) =>
        // commander's own `help [command]` takes a command's name.
        command.name() === 'help' && argument.name() === 'command'
          ? { name: 'command', value: { kind: 'choice', choices: names } }
          : commandArgument(argument),
      ),
    })),
  }
}

function option(definition: Option): CompletionOption {
  const flags = [definition.short, definition.long].filter(
    (flag): flag is string => flag !== undefined,
  )
  const takesValue = definition.required || definition.optional
  // `<host[:port]>` names its value host[:port]; an optional value is `[name]`.
  const named = /<([^>]+)>|\[([^\]]+)\]$/.exec(definition.flags)
  const name = named?.[1] ?? named?.[2] ?? 'value'
  return {
    flags,
    description: definition.description,
    value: takesValue ? { name, ...valueKind(name, definition.argChoices) } : undefined,
    repeatable: Array.isArray(definition.defaultValue) || definition.variadic,
  }
}

function commandArgument(definition: Argument): CompletionArgument {
  return { name: definition.name(), value: valueKind(definition.name(), definition.argChoices) }
}

function valueKind(name: string, choices: readonly string[] | undefined): ValueKind {
  if (choices !== undefined) return { kind: 'choice', choices }
  if (FILE_NAMES.has(name)) return { kind: 'file' }
  if (DIRECTORY_NAMES.has(name)) return { kind: 'directory' }
  return { kind: 'free' }
}
