import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** The package version, reported by the API and `gridx --version`. */
export const VERSION: string = (require('../../package.json') as { version: string }).version
