// The command line, as the composition root (node/main.ts) uses it.
export { buildProgram } from './program.ts'
export { CliError } from './connect.ts'
