// gridx completion bash|zsh: the scripts run in the real shells and offer what the program
// parses. Bash is driven as its completion does it (COMP_WORDS, COMP_CWORD, COMPREPLY); zsh,
// where installed, through a pseudo-terminal with a real Tab press.
import { execFile, execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildProgram } from '../../../node/cli/index.ts'
import type { CliContext } from '../../../node/cli/context.ts'
import { JOB_STATES } from '../../../protocol/index.ts'

const run = promisify(execFile)

function hasShell(shell: string): boolean {
  try {
    execFileSync(shell, ['-c', 'exit 0'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const hasZsh = hasShell('zsh')

function context(): CliContext & { out: () => string } {
  let out = ''
  const sink = new PassThrough()
  sink.on('data', (chunk: Buffer) => (out += chunk.toString()))
  return {
    env: {},
    stdin: () => new PassThrough(),
    stdout: sink as unknown as NodeJS.WriteStream,
    stderr: sink as unknown as NodeJS.WriteStream,
    defaultDataDir: tmpdir(),
    clock: { now: () => Date.now() },
    setExitCode: () => undefined,
    stopSignal: new AbortController().signal,
    staticDir: tmpdir(),
    createExecutor: () => Promise.reject(new Error('no executor in this test')),
    out: () => out,
  }
}

async function script(shell: string): Promise<string> {
  const cli = context()
  await buildProgram(cli).parseAsync(['node', 'gridx', 'completion', shell])
  return cli.out()
}

/** The program's definitions, to check the scripts against. */
function definitions() {
  const program = buildProgram(context())
  const command = (name: string) => program.commands.find((entry) => entry.name() === name)
  return { program, command }
}

let dir: string
let bashScript: string
let zshScript: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridx-completion-'))
  bashScript = join(dir, 'gridx.bash')
  zshScript = join(dir, '_gridx')
  await writeFile(bashScript, await script('bash'))
  await writeFile(zshScript, await script('zsh'))
  await mkdir(join(dir, 'files', 'subdir'), { recursive: true })
  await writeFile(join(dir, 'files', 'train.py'), 'print(1)\n')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

/** What bash's completion offers for `line`, the last word being the one completed. */
async function bashComplete(line: readonly string[]): Promise<string[]> {
  const words = line.map((word) => `'${word}'`).join(' ')
  const { stdout } = await run(
    'bash',
    [
      '-c',
      `source "$1"; COMP_WORDS=(${words}); COMP_CWORD=${line.length - 1}; _gridx; ` +
        'printf "%s\\n" "${COMPREPLY[@]}"',
      'bash',
      bashScript,
    ],
    { cwd: dir, timeout: 10_000 },
  )
  return stdout.split('\n').filter((word) => word !== '')
}

describe('gridx completion bash', () => {
  it('should offer every command the program has when no command is typed', async () => {
    const { program } = definitions()
    const offered = await bashComplete(['gridx', ''])
    for (const command of program.commands) expect(offered).toContain(command.name())
    expect(offered).toContain('completion')
    expect(await bashComplete(['gridx', 'st'])).toEqual(['start', 'status'])
  })

  it('should offer the options of the command typed when a word starts with -', async () => {
    const { command } = definitions()
    const start = command('start')
    const offered = await bashComplete(['gridx', 'start', '--'])
    const visible = start?.options.filter((option) => !option.hidden) ?? []
    expect(visible.length).toBeGreaterThan(10)
    for (const option of visible) expect(offered).toContain(option.long)
    expect(offered).not.toContain('--noop-executor')
    expect(await bashComplete(['gridx', 'start', '--log'])).toEqual(['--log-level'])
    expect(await bashComplete(['gridx', 'submit', '-'])).toEqual(
      expect.arrayContaining(['-c', '--code', '-f', '--follow', '--runtime', '--help']),
    )
  })

  it('should offer an option’s choices when its value is typed', async () => {
    const { program } = definitions()
    const withChoices = program.commands.flatMap((command) =>
      command.options
        .filter((option) => option.argChoices !== undefined && !option.hidden)
        .map((option) => ({ command: command.name(), option })),
    )
    expect(withChoices.map(({ option }) => option.long)).toEqual(
      expect.arrayContaining(['--log-level', '--state']),
    )
    for (const { command, option } of withChoices) {
      const offered = await bashComplete(['gridx', command, option.long as string, ''])
      expect(offered, `${command} ${option.long}`).toEqual(option.argChoices)
    }
    expect(await bashComplete(['gridx', 'jobs', '--state', ''])).toEqual([...JOB_STATES])
    expect(await bashComplete(['gridx', 'jobs', '--state', '=', 'r'])).toEqual(['running'])
    expect(await bashComplete(['gridx', 'completion', ''])).toEqual(['bash', 'zsh'])
  })

  it('should offer files for a file argument and directories for --data-dir', async () => {
    expect(await bashComplete(['gridx', 'submit', 'files/'])).toEqual([
      'files/subdir',
      'files/train.py',
    ])
    expect(await bashComplete(['gridx', 'jobs', '--data-dir', 'files/'])).toEqual(['files/subdir'])
  })

  it('should offer nothing when the value is the user’s own, such as a port', async () => {
    expect(await bashComplete(['gridx', 'start', '--api-port', ''])).toEqual([])
    expect(await bashComplete(['gridx', 'submit', '-c', ''])).toEqual([])
  })
})

/**
 * What zsh's completion offers for `line` after a Tab: an interactive zsh in a pseudo-terminal
 * with compinit and the script loaded, whose compadd also writes the matches to a file.
 */
async function zshComplete(line: string, load: 'source' | 'fpath' = 'source'): Promise<string[]> {
  const out = join(dir, `zsh-${Math.random().toString(36).slice(2)}.out`)
  const driver = [
    'zmodload zsh/zpty',
    'zpty z zsh -f -i',
    // As the README says: from a directory in $fpath before compinit, or sourced after it.
    `zpty -w z "PS1=''; cd ${dir}${load === 'fpath' ? `; fpath=(${dir} \\$fpath)` : ''}"`,
    'zpty -w z "autoload -Uz compinit; compinit -u -D"',
    ...(load === 'source' ? [`zpty -w z "source ${zshScript}"`] : []),
    // Calls that collect matches for another function (-O, -A, -D) are passed through.
    "zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then " +
      'builtin compadd "$@"; return; fi; local -a hits; builtin compadd -A hits "$@"; ' +
      `print -rl -- $hits >> ${out}; builtin compadd "$@"; }'`,
    `zpty -w z 'comppostfuncs=(done_); done_() { print -r -- "<done>" >> ${out} }'`,
    `zpty -w -n z '${line}'$'\\t'`,
    // Bounded: 10 s for the pseudo-terminal's zsh to start and complete.
    `for i in {1..100}; do [[ -f ${out} ]] && grep -q '<done>' ${out} && break; sleep 0.1; done`,
    'zpty -d z',
  ].join('\n')
  await run('zsh', ['-f', '-c', driver], { timeout: 20_000 })
  const text = await readFile(out, 'utf8')
  expect(text).toContain('<done>')
  return [...new Set(text.split('\n').filter((word) => word !== '' && word !== '<done>'))]
}

describe.skipIf(!hasZsh)('gridx completion zsh', () => {
  it('should offer the commands when the command is being typed', async () => {
    expect(await zshComplete('gridx st')).toEqual(['start', 'status'])
  })

  it('should offer the options of the command typed when a word starts with --', async () => {
    const offered = await zshComplete('gridx start --log')
    expect(offered).toEqual(['--log-level'])
    const jobs = await zshComplete('gridx jobs --')
    expect(jobs).toEqual(expect.arrayContaining(['--state', '--limit', '--data-dir', '--json']))
  })

  it('should offer an option’s choices when its value is typed', async () => {
    expect(await zshComplete('gridx start --log-level ')).toEqual(
      expect.arrayContaining(['debug', 'info', 'warn', 'error']),
    )
    expect(await zshComplete('gridx completion ')).toEqual(['bash', 'zsh'])
  })

  it('should complete when the script is autoloaded from a directory in fpath', async () => {
    expect(await zshComplete('gridx st', 'fpath')).toEqual(['start', 'status'])
    expect(await zshComplete('gridx completion ', 'fpath')).toEqual(['bash', 'zsh'])
  })

  it('should say to run compinit when the script is sourced before it', async () => {
    const sourced = await run('zsh', ['-f', '-c', `source ${zshScript}; print status=$?`], {
      timeout: 10_000,
    }).catch((error: { stdout: string; stderr: string }) => error)
    expect(sourced.stderr).toContain('run compinit first')
    expect(sourced.stderr).not.toContain('command not found')
    expect(sourced.stdout).toContain('status=1')
  })

  it('should offer files for a file argument', async () => {
    expect(await zshComplete('gridx submit files/')).toEqual(
      expect.arrayContaining(['subdir', 'train.py']),
    )
  })
})
