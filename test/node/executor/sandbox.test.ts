// Each wall of the sandbox, proved against the real engine with the state and message a user
// would see. Tests run concurrently: each is its own container and asserts only on its own job.
import { once } from 'node:events'
import { createConnection, createServer, type Server } from 'node:net'
import { networkInterfaces } from 'node:os'
import type Docker from 'dockerode'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DockerExecutor } from '../../../node/executor/index.ts'
import {
  describeWithDocker,
  runJob,
  startedExecutor,
  stopAndCheckClean,
  testExecutorId,
} from '../../fixtures/docker.ts'

/** IPv4 addresses of this host a container could try: its interfaces and the bridge gateway. */
async function hostAddresses(docker: Docker): Promise<string[]> {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal)
    .map((entry) => entry!.address)
  const bridge = (await docker.getNetwork('bridge').inspect()) as {
    IPAM?: { Config?: { Gateway?: string }[] }
  }
  const gateway = bridge.IPAM?.Config?.[0]?.Gateway
  return [...new Set(gateway === undefined ? addresses : [...addresses, gateway])]
}

async function reachableFromHost(address: string, port: number): Promise<boolean> {
  const socket = createConnection({ host: address, port })
  try {
    await once(socket, 'connect')
    return true
  } catch {
    // Refused or unreachable from the host itself: the test cannot use this address.
    return false
  } finally {
    socket.destroy()
  }
}

const NETWORK_PROBE = `
import json, socket, sys
port = int(sys.argv[1])
with open('/proc/net/dev') as dev:
    interfaces = [line.split(':')[0].strip() for line in dev.readlines()[2:]]
results = {}
for address in sys.argv[2:]:
    try:
        socket.create_connection((address, port), timeout=2).close()
        results[address] = 'connected'
    except OSError as error:
        results[address] = type(error).__name__ + ': ' + str(error)
print(json.dumps({'interfaces': interfaces, 'results': results}))
`

describeWithDocker(
  'sandbox',
  (docker) => {
    const executorId = testExecutorId('sandbox')
    let executor: DockerExecutor
    let server: Server
    let accepted = 0

    beforeAll(async () => {
      executor = await startedExecutor(docker, executorId)
      server = createServer((socket) => {
        accepted += 1
        socket.destroy()
      })
      server.listen(0, '0.0.0.0')
      await once(server, 'listening')
    })

    afterAll(async () => {
      server.close()
      await stopAndCheckClean(docker, executor, executorId)
    })

    describe.concurrent('walls', () => {
      it('should see only loopback and reach no host port when the job tries the network', async () => {
        const port = (server.address() as { port: number }).port
        const candidates = await hostAddresses(docker)
        const addresses: string[] = []
        for (const address of candidates) {
          if (await reachableFromHost(address, port)) addresses.push(address)
        }
        expect(addresses.length).toBeGreaterThan(0)
        const acceptedBefore = accepted
        const outcome = await runJob(executor, {
          runtime: 'python',
          code: NETWORK_PROBE,
          args: [String(port), ...addresses],
        })
        expect(outcome.state).toBe('succeeded')
        const report = JSON.parse(outcome.result.stdoutTail) as {
          interfaces: string[]
          results: Record<string, string>
        }
        expect(report.interfaces).toEqual(['lo'])
        for (const address of addresses) expect(report.results[address]).toMatch(/unreachable/i)
        // Our own sanity connections were accepted; the job's never arrived.
        expect(accepted).toBe(acceptedBefore)
      })

      it('should refuse writes outside the tmpfs and cap /tmp when the job writes', async () => {
        const outcome = await runJob(executor, {
          runtime: 'python',
          memoryMb: 256,
          code: `
import errno
for path in ['/etc/x', '/usr/x', '/x', '/home/x']:
    try:
        open(path, 'w').write('x')
        print(path, 'written')
    except OSError as error:
        print(path, errno.errorcode[error.errno])
open('/tmp/small', 'w').write('ok')
open('/work/small', 'w').write('ok')
print('tmp', open('/tmp/small').read(), open('/work/small').read())
try:
    with open('/tmp/big', 'wb') as big:
        for _ in range(100):
            big.write(b'x' * (1 << 20))
    print('big written')
except OSError as error:
    print('big', errno.errorcode[error.errno])
`,
        })
        expect(outcome.state).toBe('succeeded')
        const lines = outcome.result.stdoutTail.trim().split('\n')
        expect(lines.slice(0, 4)).toEqual([
          '/etc/x EROFS',
          '/usr/x EROFS',
          '/x EROFS',
          '/home/x EROFS',
        ])
        expect(lines).toContain('tmp ok ok')
        expect(lines).toContain('big ENOSPC')
      })

      it('should hit the process limit and survive when the job is a fork bomb', async () => {
        const outcome = await runJob(executor, {
          runtime: 'bash',
          // The classic bomb, relaunched whenever bash gives up retrying a failed fork.
          code: 'bomb() { bomb | bomb & }; while true; do bomb; done',
          pids: 16,
          timeoutS: 3,
        })
        expect(outcome.state).toBe('timed_out')
        expect(outcome.cause).toBe('code')
        expect(outcome.result.stderrTail).toMatch(/Resource temporarily unavailable/)
        const next = await runJob(executor, { runtime: 'bash', code: 'echo still here' })
        expect(next.state).toBe('succeeded')
        expect(next.result.stdoutTail).toBe('still here\n')
      })

      it('should kill the job as out of memory when it allocates past its limit', async () => {
        const outcome = await runJob(executor, {
          runtime: 'python',
          memoryMb: 64,
          code: `
hoard = []
while True:
    hoard.append(b'x' * (1 << 20))
`,
        })
        expect(outcome.state).toBe('failed')
        expect(outcome.cause).toBe('code')
        expect(outcome.result.oomKilled).toBe(true)
        expect(outcome.error).toBe('killed: out of memory (limit 64 MiB)')
      })

      it('should kill the job at its timeout when it loops forever', async () => {
        const outcome = await runJob(executor, {
          runtime: 'python',
          code: 'while True:\n    pass\n',
          timeoutS: 1,
        })
        expect(outcome.state).toBe('timed_out')
        expect(outcome.cause).toBe('code')
        expect(outcome.error).toBe('killed at the 1 s timeout')
        expect(outcome.result.timedOut).toBe(true)
        expect(outcome.result.exitCode).toBeNull()
        expect(outcome.result.wallMs).toBeGreaterThanOrEqual(1000)
        expect(outcome.result.wallMs).toBeLessThan(3000)
      })

      it('should run as uid 65534 with no capabilities and no Docker socket', async () => {
        const outcome = await runJob(executor, {
          runtime: 'python',
          code: `
import os
status = dict(line.split(':\\t', 1) for line in open('/proc/self/status').read().splitlines())
print(os.getuid(), os.getgid(), status['CapEff'].strip(), status['CapBnd'].strip(),
      status['NoNewPrivs'].strip())
print([path for path in ['/var/run/docker.sock', '/run/docker.sock'] if os.path.exists(path)])
`,
        })
        expect(outcome.state).toBe('succeeded')
        expect(outcome.result.stdoutTail).toBe(
          '65534 65534 0000000000000000 0000000000000000 1\n[]\n',
        )
      })

      it('should fail with cause code and the exit code when the job exits non-zero', async () => {
        const outcome = await runJob(executor, { runtime: 'bash', code: 'echo oops >&2; exit 3' })
        expect(outcome.state).toBe('failed')
        expect(outcome.cause).toBe('code')
        expect(outcome.error).toBe('exit code 3')
        expect(outcome.result.exitCode).toBe(3)
        expect(outcome.result.stderrTail).toBe('oops\n')
      })

      it('should kill the container promptly when the job is cancelled', async () => {
        const controller = new AbortController()
        let abortedAt = 0
        const outcome = await runJob(
          executor,
          { runtime: 'bash', code: 'echo started; sleep 60' },
          {
            signal: controller.signal,
            onOutput: () => {
              abortedAt = performance.now()
              controller.abort()
            },
          },
        )
        const killMs = performance.now() - abortedAt
        expect(outcome.state).toBe('cancelled')
        expect(outcome.cause).toBeNull()
        expect(outcome.result.stdoutTail).toBe('started\n')
        expect(killMs).toBeLessThan(2000)
      })
    })
  },
  ['python', 'bash'],
)
