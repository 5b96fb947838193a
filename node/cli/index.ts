// The command line, as the composition root (node/main.ts) uses it.
export { buildProgram } from './program.ts'
export { CliError } from './connect.ts'
export { parseMeshStartOptions } from './mesh-start-options.ts'
export type { MeshStartFlags, MeshStartOptions } from './mesh-start-options.ts'
export { ago, meshInfoText, peersText } from './mesh-format.ts'
export { DAEMON_LOG_FILE } from './logger.ts'
