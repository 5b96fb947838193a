// The completion scripts `gridx completion bash|zsh` prints, written from a CompletionSpec:
// every word in them comes from the commander program, none from a list kept here.
import type {
  CompletionCommand,
  CompletionOption,
  CompletionSpec,
  ValueKind,
} from './completion-spec.ts'

export const SHELLS = ['bash', 'zsh'] as const
export type Shell = (typeof SHELLS)[number]

/** A word for either shell, inside single quotes. */
const quote = (word: string): string => `'${word.replaceAll("'", "'\\''")}'`

const flagsOf = (options: readonly CompletionOption[]): string[] =>
  options.flatMap((option) => option.flags)

export function bashCompletion(spec: CompletionSpec): string {
  const fn = `_${spec.program.replaceAll(/\W/g, '_')}`
  const rootWords = [...spec.commands.map((command) => command.name), ...flagsOf(spec.options)]
  return [
    `# bash completion for ${spec.program}, printed by \`${spec.program} completion bash\``,
    '# from the commands it parses. Load it with: source <(gridx completion bash)',
    `${fn}_words() { COMPREPLY=($(compgen -W "$*" -- "$cur")); }`,
    `${fn}_paths() {`,
    '  compopt -o filenames 2>/dev/null',
    "  local IFS=$'\\n'",
    '  COMPREPLY=($(compgen "$1" -- "$cur"))',
    '}',
    `${fn}() {`,
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} command= i',
    '  COMPREPLY=()',
    // `--opt=value`: bash splits at "=", so the option is the word before it.
    '  if [[ $prev == = ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi',
    '  if [[ $cur == = ]]; then cur=; fi',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    case ${COMP_WORDS[i]} in',
    '      -* | =) ;;',
    '      *) command=${COMP_WORDS[i]}; break ;;',
    '    esac',
    '  done',
    '  case $command in',
    `    '') ${fn}_words ${rootWords.map(quote).join(' ')} ;;`,
    ...spec.commands.flatMap((command) => bashCommand(fn, command)),
    '  esac',
    '}',
    `complete -F ${fn} ${spec.program}`,
    '',
  ].join('\n')
}

function bashCommand(fn: string, command: CompletionCommand): string[] {
  const options = flagsOf(command.options).map(quote).join(' ')
  const valued = command.options.filter((option) => option.value !== undefined)
  const first = command.arguments[0]
  const positional =
    first === undefined || first.value.kind === 'free' ? undefined : bashValue(fn, first.value)
  return [
    `    ${quote(command.name)})`,
    ...(valued.length === 0
      ? []
      : [
          '      case $prev in',
          ...valued.map((option) => {
            const value = option.value as ValueKind
            const action = value.kind === 'free' ? '' : `${bashValue(fn, value)}; `
            return `        ${option.flags.map(quote).join(' | ')}) ${action}return ;;`
          }),
          '      esac',
        ]),
    // Options, unless an argument that is a path or a choice is being typed.
    ...(positional === undefined
      ? [`      ${fn}_words ${options} ;;`]
      : [
          '      case $cur in',
          `        -*) ${fn}_words ${options} ;;`,
          `        *) ${positional} ;;`,
          '      esac ;;',
        ]),
  ]
}

function bashValue(fn: string, value: ValueKind): string {
  if (value.kind === 'choice') return `${fn}_words ${value.choices.map(quote).join(' ')}`
  if (value.kind === 'file') return `${fn}_paths -f`
  if (value.kind === 'directory') return `${fn}_paths -d`
  return 'return'
}

export function zshCompletion(spec: CompletionSpec): string {
  const fn = `_${spec.program.replaceAll(/\W/g, '_')}`
  const described = spec.commands.map(
    (command) => `    ${quote(`${command.name.replaceAll(':', '\\:')}:${command.description}`)}`,
  )
  const noCompinit =
    `${spec.program} completion: run compinit first ` +
    '(autoload -Uz compinit && compinit), then source this again'
  return [
    `#compdef ${spec.program}`,
    `# zsh completion for ${spec.program}, printed by \`${spec.program} completion zsh\``,
    '# from the commands it parses. Load it with: source <(gridx completion zsh), after compinit.',
    `${fn}() {`,
    '  local curcontext=$curcontext state line',
    '  local -a commands',
    '  commands=(',
    ...described,
    '  )',
    '  _arguments -C \\',
    // --help and --version end the command line: nothing completes after them.
    ...spec.options.flatMap((option) => zshOption(option, '(- *)')).map(continued),
    "    '1: :->command' \\",
    "    '*:: :->argument' && return",
    '  case $state in',
    `    command) _describe -t commands ${quote(`${spec.program} command`)} commands ;;`,
    '    argument)',
    `      curcontext=\${curcontext%:*:*}:${spec.program}-$words[1]:`,
    '      case $words[1] in',
    ...spec.commands.flatMap(zshCommand),
    '      esac ;;',
    '  esac',
    '}',
    // Autoloaded from $fpath the file is the function's body; sourced, it registers itself,
    // which needs compinit's compdef: without it zsh would say only "command not found".
    `if [[ $funcstack[1] == ${fn} ]]; then ${fn} "$@"`,
    `elif (( $+functions[compdef] )); then compdef ${fn} ${spec.program}`,
    `else print -u2 ${quote(noCompinit)}; return 1`,
    'fi',
    '',
  ].join('\n')
}

const continued = (line: string): string => `    ${line} \\`

function zshCommand(command: CompletionCommand): string[] {
  const specs = [
    ...command.options.flatMap((option) => zshOption(option)),
    ...command.arguments.map((argument, index) => {
      const message = argument.name.replaceAll(':', '\\:')
      return quote(`${index + 1}:${message}:${zshAction(argument.value)}`)
    }),
  ]
  return [
    `        ${quote(command.name)})`,
    '          _arguments \\',
    ...specs.map((spec) => `            ${spec} \\`),
    '            && return ;;',
  ]
}

/** One `_arguments` spec per flag: `(-c --code)-c[the code itself]:code: `. */
function zshOption(option: CompletionOption, exclusive?: string): string[] {
  const description = option.description.replaceAll(/([\\[\]])/g, '\\$1')
  const value =
    option.value === undefined
      ? ''
      : `:${option.value.name.replaceAll(':', '\\:')}:${zshAction(option.value)}`
  const excluded =
    exclusive ?? (option.repeatable || option.flags.length < 2 ? '' : `(${option.flags.join(' ')})`)
  const repeated = option.repeatable ? '*' : ''
  return option.flags.map((flag) => quote(`${excluded}${repeated}${flag}[${description}]${value}`))
}

function zshAction(value: ValueKind): string {
  if (value.kind === 'choice') return `(${value.choices.join(' ')})`
  if (value.kind === 'file') return '_files'
  if (value.kind === 'directory') return '_files -/'
  return ' '
}
