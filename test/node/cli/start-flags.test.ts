// gridx start --token-rate: the API token's rate limit is the user's to raise (a script or a
// benchmark submitting faster than a person), within the bounds in protocol/limits.ts; and
// --join-grant: the founder of a new mesh chooses what each owner is granted.
import { readdir } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { resolveApiTarget } from '../../../node/cli/connect.ts'
import { httpCall } from '../../../protocol/client.ts'
import { GridxError } from '../../../protocol/index.ts'
import { runInProcess } from './fixtures/in-process-gridx.ts'

/** Runs `gridx ARGS` in this process; see runInProcess. */
function run(args: readonly string[], whileRunning?: (dataDir: string) => Promise<void>) {
  return runInProcess(args, whileRunning === undefined ? {} : { whileRunning })
}

const LOOPBACK = ['--api-port', '0', '--p2p-host', '127.0.0.1', '--p2p-port', '0', '--json']

describe('gridx start --token-rate', () => {
  it('should refuse to start and write nothing when the rate is out of bounds', async () => {
    for (const rate of ['0', '100001', 'fast', '1.5']) {
      const { error, dataDir } = await run(['start', '--token-rate', rate])
      expect((error as Error).message).toMatch(/--token-rate takes requests a second from 1 to/)
      await expect(readdir(dataDir)).rejects.toThrow(/ENOENT/)
    }
  })

  it('should refuse the token past its burst when the rate is set to one a second', async () => {
    const refusals: string[] = []
    const args = ['start', '--no-executor', '--token-rate', '1', ...LOOPBACK]
    const { error } = await run(args, async (dataDir) => {
      const target = await resolveApiTarget({ dataDir, env: {} })
      // A burst of two, refilled at one a second: five calls in a row cannot all pass unless
      // they take three seconds, far beyond five loopback calls even on a loaded machine.
      for (let call = 0; call < 5; call++) {
        await httpCall(target.url, target.token, 'mesh.info', {}).catch((caught: unknown) => {
          if (caught instanceof GridxError) refusals.push(caught.name)
          else throw caught
        })
      }
    })
    expect(error).toBeUndefined()
    expect(refusals).toContain('RATE_LIMITED')
  })
})

describe('gridx start --join-grant', () => {
  it('should grant the founder’s owner that many credits when the mesh is created', async () => {
    let balanceMc = -1
    const args = ['start', '--no-executor', '--join-grant', '25000', ...LOOPBACK]
    const { error } = await run(args, async (dataDir) => {
      const target = await resolveApiTarget({ dataDir, env: {} })
      balanceMc = (await httpCall(target.url, target.token, 'account.balance', {})).balanceMc
    })
    expect(error).toBeUndefined()
    expect(balanceMc).toBe(25_000_000)
  })
})
