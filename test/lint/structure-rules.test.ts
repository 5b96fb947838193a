// The lint rules that keep the layout of DESIGN section 2: each area imports only what it may,
// and the consensus core and state machine stay pure. Checked on sample code placed (virtually)
// in each folder, with the project's own ESLint configuration.
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const eslint = new ESLint({ cwd: process.cwd() })

async function errorsFor(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return (result?.messages ?? []).filter((m) => m.severity === 2).map((m) => m.ruleId ?? '')
}

describe('area dependency rule', () => {
  it.each([
    ['protocol/sample.ts', "import { Replica } from '../ledger/index.ts'\nexport { Replica }\n"],
    ['protocol/sample.ts', "import { readFile } from 'node:fs'\nexport { readFile }\n"],
    ['ledger/sample.ts', "import { Daemon } from '../node/daemon/index.ts'\nexport { Daemon }\n"],
    ['pwa/src/sample.ts', "import { apply } from '../../ledger/index.ts'\nexport { apply }\n"],
    [
      'pwa/src/sample.ts',
      "import { Daemon } from '../../node/daemon/index.ts'\nexport { Daemon }\n",
    ],
    ['node/sample.ts', "import { x } from '../test/fixtures/daemon.ts'\nexport { x }\n"],
  ])('should refuse the import in %s', async (filePath, code) => {
    expect(await errorsFor(filePath, code)).toContain('no-restricted-imports')
  })

  it('should allow node to import protocol and ledger', async () => {
    const code =
      "import { apply } from '../ledger/index.ts'\nimport { GridxError } from '../protocol/index.ts'\n" +
      'export { apply, GridxError }\n'
    expect(await errorsFor('node/sample.ts', code)).toEqual([])
  })
})

describe('purity of the consensus core and the state machine', () => {
  it.each([
    ['ledger/raft/sample.ts', 'export const now = Date.now()\n', 'no-restricted-properties'],
    ['ledger/state/sample.ts', 'export const r = Math.random()\n', 'no-restricted-properties'],
    ['ledger/raft/sample.ts', 'setTimeout(() => undefined, 1)\n', 'no-restricted-globals'],
    ['ledger/state/sample.ts', 'export async function f() {}\n', 'no-restricted-syntax'],
    [
      'ledger/state/sample.ts',
      "import { readFile } from 'node:fs'\nexport { readFile }\n",
      'no-restricted-imports',
    ],
    [
      'ledger/raft/sample.ts',
      "import { ClassicLevel } from 'classic-level'\nexport { ClassicLevel }\n",
      'no-restricted-imports',
    ],
  ])('should refuse impure code in %s: %s', async (filePath, code, rule) => {
    expect(await errorsFor(filePath, code)).toContain(rule)
  })

  it('should allow clocks and timers outside the pure folders', async () => {
    expect(await errorsFor('ledger/replica-sample.ts', 'export const now = Date.now()\n')).toEqual(
      [],
    )
  })
})
