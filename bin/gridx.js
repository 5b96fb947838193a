#!/usr/bin/env node
// The `gridx` command. Grid-X is written in TypeScript and runs from source through tsx's
// loader, so there is no build step between a checkout and a working command.
import { register } from 'tsx/esm/api'

register()
await import('../node/main.ts')
