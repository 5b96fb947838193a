// The `gridx` command line as a user runs it, against a real daemon process.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ENGINE_RECHECK_MS } from '../../node/executor/index.ts'
import { openEngineProxy } from '../fixtures/engine-proxy.ts'
import type { EngineProxy } from '../fixtures/engine-proxy.ts'
import { hasEngine } from '../fixtures/engine.ts'
import {
  GRIDX_BIN,
  runCommand,
  runGridx,
  startGridxDaemon,
} from '../../scripts/lib/gridx-process.ts'
import type { StartedDaemon } from '../../scripts/lib/gridx-process.ts'

describe('gridx without a daemon', () => {
  it('should say what it tried and exit non-zero when no daemon runs', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gridx-none-'))
    try {
      const result = await runGridx(['balance', '--data-dir', dataDir], {
        env: { GRIDX_API: '', GRIDX_TOKEN: '' },
      })
      expect(result.code).not.toBe(0)
      expect(result.stderr).toMatch(/cannot find a running Grid-X daemon \(tried/)
      expect(result.stderr).toMatch(/gridx start/)
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it('should say the daemon is unreachable when --api points nowhere', async () => {
    const result = await runGridx(['jobs', '--api', 'http://127.0.0.1:9'], {
      env: { GRIDX_TOKEN: 'x'.repeat(32) },
    })
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/cannot reach the Grid-X daemon at http:\/\/127\.0\.0\.1:9/)
  })

  it('should print help for every command', async () => {
    for (const command of [
      'start',
      'submit',
      'jobs',
      'status',
      'logs',
      'cancel',
      'balance',
      'history',
      'peers',
      'mesh',
    ]) {
      const result = await runGridx([command, '--help'])
      expect(result.code, command).toBe(0)
      expect(result.stdout, command).toMatch(/--json/)
      expect(result.stdout, command).toMatch(/--data-dir/)
    }
  })
})

describe.skipIf(!hasEngine)('gridx against a running daemon', () => {
  let dataDir: string
  let daemon: StartedDaemon
  const gridx = (args: string[], input?: string) =>
    runGridx([...args, '--data-dir', dataDir], { input, env: { GRIDX_API: '', GRIDX_TOKEN: '' } })

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gridx-cli-'))
    daemon = await startGridxDaemon(dataDir)
  })
  afterAll(async () => {
    daemon?.child.kill('SIGTERM')
    await daemon?.exited
    await rm(dataDir, { recursive: true, force: true })
  })

  it('should print the API address and a URL with the token on start', async () => {
    expect(daemon.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(daemon.appUrl).toMatch(/#token=[\w-]{16,}$/)
  })

  it('should stream the output and exit with the job’s exit code when following', async () => {
    const ok = await gridx(['submit', '-c', 'print("hello from python")', '--follow'])
    expect(ok.stdout).toBe('hello from python\n')
    expect(ok.code).toBe(0)
    const failed = await gridx([
      'submit',
      '--runtime',
      'bash',
      '-c',
      'echo oops >&2; exit 3',
      '--follow',
    ])
    expect(failed.code).toBe(3)
    expect(failed.stderr).toMatch(/oops/)
    expect(failed.stderr).toMatch(/failed/)
  })

  it('should pick the runtime from the file extension and read code from stdin', async () => {
    const file = join(dataDir, 'hello.js')
    await writeFile(file, 'console.log("node " + (1 + 2))')
    const fromFile = await gridx(['submit', file, '--follow'])
    expect(fromFile.stdout).toBe('node 3\n')
    const fromStdin = await gridx(
      ['submit', '-', '--runtime', 'bash', '--follow'],
      'echo from stdin',
    )
    expect(fromStdin.stdout).toBe('from stdin\n')
  })

  it('should pass arguments and environment to the code', async () => {
    const result = await gridx([
      'submit',
      '-c',
      'import os, sys; print(sys.argv[1:], os.environ["GREETING"])',
      '--arg',
      'a b',
      '--arg',
      'c',
      '--env',
      'GREETING=hi',
      '--follow',
    ])
    expect(result.stdout).toBe("['a b', 'c'] hi\n")
  })

  it('should exit 124 when the job hits its timeout', async () => {
    const result = await gridx([
      'submit',
      '--runtime',
      'bash',
      '-c',
      'sleep 30',
      '--timeout',
      '1',
      '--follow',
    ])
    expect(result.code).toBe(124)
    expect(result.stderr).toMatch(/timed_out/)
  })

  it('should print only JSON with --json', async () => {
    const submitted = await gridx(['submit', '-c', 'print(7)', '--json', '--follow'])
    const job = JSON.parse(submitted.stdout) as {
      id: string
      state: string
      result: { stdoutTail: string }
    }
    expect(job.state).toBe('succeeded')
    expect(job.result.stdoutTail).toBe('7\n')
    expect(submitted.stderr).toBe('')
    for (const args of [
      ['jobs'],
      ['status', job.id],
      ['logs', job.id],
      ['balance'],
      ['history'],
      ['peers'],
      ['mesh'],
    ]) {
      const result = await gridx([...args, '--json'])
      expect(result.code, args.join(' ')).toBe(0)
      expect(() => JSON.parse(result.stdout), args.join(' ')).not.toThrow()
    }
  })

  it('should list, show, print logs of, and cancel jobs', async () => {
    const submitted = await gridx([
      'submit',
      '--runtime',
      'bash',
      '-c',
      'echo waiting; sleep 30',
      '--json',
    ])
    const { job } = JSON.parse(submitted.stdout) as { job: { id: string } }
    const jobs = await gridx(['jobs'])
    expect(jobs.stdout).toContain(job.id)
    const cancelled = await gridx(['cancel', job.id])
    expect(cancelled.stdout).toMatch(new RegExp(`${job.id} cancelled`))
    const status = await gridx(['status', job.id])
    expect(status.stdout).toMatch(/state\s+cancelled/)
    const history = await gridx(['history'])
    expect(history.stdout).toMatch(new RegExp(`escrow .*${job.id}`))
    const balance = await gridx(['balance'])
    expect(balance.stdout).toMatch(/balance\s+\d+(\.\d+)? credits/)
  })

  it('should name the field at fault when a job is refused', async () => {
    const result = await gridx(['submit', '-c', 'print(1)', '--memory', '5'])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/spec\.memoryMb/)
  })
})

describe('gridx start without a Docker engine', () => {
  it('should start, say once that this peer cannot run jobs and how to fix it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gridx-noengine-'))
    const daemon = await startGridxDaemon(dataDir, [], {
      env: { DOCKER_HOST: `unix://${join(dataDir, 'no-such-docker.sock')}` },
    })
    try {
      const health = await fetch(`${daemon.apiUrl}/healthz`)
      expect(health.status).toBe(200)
      const warnings = daemon.stderr().match(/cannot run jobs/g) ?? []
      expect(warnings).toHaveLength(1)
      expect(daemon.stderr()).toMatch(/Docker/)
      const peers = await runGridx(['peers', '--data-dir', dataDir])
      expect(peers.stdout).toMatch(/runs no jobs: .*Docker/)
    } finally {
      daemon.child.kill('SIGTERM')
      await daemon.exited
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})

describe.skipIf(!hasEngine)('gridx start before the Docker engine', () => {
  it('should notice the engine once it runs, say so, and run jobs without a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gridx-late-engine-'))
    const socket = join(dataDir, 'late-docker.sock')
    const daemon = await startGridxDaemon(dataDir, [], { env: { DOCKER_HOST: `unix://${socket}` } })
    let proxy: EngineProxy | undefined
    try {
      expect(daemon.stderr()).toMatch(/cannot run jobs/)
      proxy = await openEngineProxy(socket)
      // The daemon looks again every ENGINE_RECHECK_MS (10 s).
      await vi.waitFor(() => expect(daemon.stderr()).toMatch(/gridx: this peer runs jobs now/), {
        timeout: ENGINE_RECHECK_MS + 10_000,
        interval: 200,
      })
      const result = await runGridx(
        ['submit', '--runtime', 'bash', '-c', 'echo ran late', '--follow', '--data-dir', dataDir],
        { env: { GRIDX_API: '', GRIDX_TOKEN: '' } },
      )
      expect(result.stdout).toBe('ran late\n')
      expect(result.code).toBe(0)
    } finally {
      daemon.child.kill('SIGTERM')
      await daemon.exited
      await proxy?.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 60_000)
})

describe.skipIf(!hasEngine)('gridx progress on a terminal', () => {
  it('should show the job’s state while waiting on a terminal and none with --json', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gridx-tty-'))
    const daemon = await startGridxDaemon(dataDir)
    try {
      // `script` gives the command a pseudo-terminal, as a person's shell would.
      const command = `${process.execPath} ${GRIDX_BIN} submit --runtime bash -c 'sleep 1; echo ok' --follow --data-dir ${dataDir}`
      const onTty = await runCommand('script', ['-qfec', command, '/dev/null'])
      expect(onTty.stdout).toMatch(/job j[0-9a-z]+: (waiting|queued|assigned|running)/)
      expect(onTty.stdout).toMatch(/ok/)
      const json = await runCommand('script', ['-qfec', `${command} --json`, '/dev/null'])
      expect(json.stdout).not.toMatch(/job j[0-9a-z]+: (waiting|queued|assigned|running)/)
    } finally {
      daemon.child.kill('SIGTERM')
      await daemon.exited
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
