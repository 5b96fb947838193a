// The lint rules that keep the layout of DESIGN section 2: each area imports only what it may,
// and the consensus core and state machine stay pure. Checked on sample code placed (virtually)
// in each folder, with the project's own ESLint configuration.
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const eslint = new ESLint({ cwd: process.cwd() })

async function problemsFor(filePath: string, code: string, severityMin = 2): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return (result?.messages ?? [])
    .filter((m) => m.severity >= severityMin)
    .map((m) => m.ruleId ?? '')
}

async function errorsFor(filePath: string, code: string): Promise<string[]> {
  return problemsFor(filePath, code)
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
    // The purity override of these folders must add to the area rule, not replace it.
    [
      'ledger/raft/sample.ts',
      "import { h } from '../../test/ledger/raft/harness.ts'\nexport { h }\n",
    ],
    ['ledger/state/sample.ts', "import { b } from '../../scripts/bench.ts'\nexport { b }\n"],
    ['ledger/raft/sample.ts', "import { d } from '../../node/daemon/index.ts'\nexport { d }\n"],
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

describe('crossing an area only through its index.ts', () => {
  const rule = 'gridx/area-index'

  it.each([
    ['node/gateway/sample.ts', "import { Scheduler } from '../coordinator/scheduler.ts'\n"],
    ['node/gateway/sample.ts', "export { Scheduler } from '../coordinator/scheduler.ts'\n"],
    ['node/gateway/sample.ts', "export * from '../coordinator/scheduler.ts'\n"],
    ['node/cli/sample.ts', "export const d = () => import('../daemon/daemon.ts')\n"],
    ['node/main-sample.ts', "import { RawNode } from '../ledger/raft/raw-node.ts'\n"],
    ['node/sample.ts', "import { raft } from '../ledger/raft/index.ts'\nexport { raft }\n"],
    ['ledger/sample.ts', "import { GridxError } from '../protocol/errors.ts'\n"],
    ['pwa/src/sample.ts', "import { RpcClient } from '../../protocol/client.ts'\n"],
    ['scripts/sample.ts', "import { Daemon } from '../node/daemon/daemon.ts'\n"],
  ])('should report the import in %s: %s', async (filePath, code) => {
    expect(await problemsFor(filePath, `${code}export {}\n`, 1)).toContain(rule)
  })

  it.each([
    ['node/gateway/sample.ts', "import { Scheduler } from '../coordinator/index.ts'\n"],
    ['node/gateway/sample.ts', "import { x } from './rate-limiter.ts'\n"],
    ['node/sample.ts', "import { raft } from '../ledger/index.ts'\n"],
    ['ledger/sample.ts', "import { RawNode } from './raft/raw-node.ts'\n"],
    ['ledger/storage/sample.ts', "import { RawNode } from '../raft/index.ts'\n"],
    ['pwa/src/elements/sample.ts', "import { format } from '../format.ts'\n"],
    ['test/ledger/sample.ts', "import { RawNode } from '../../ledger/raft/raw-node.ts'\n"],
    ['node/cli/sample.ts', "import { Command } from 'commander'\n"],
  ])('should allow the import in %s: %s', async (filePath, code) => {
    expect(await problemsFor(filePath, `${code}export {}\n`, 1)).not.toContain(rule)
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
