// The sandbox as data: every isolation option is set explicitly, whatever the spec.
import { describe, expect, it } from 'vitest'
import {
  JOB_TIMEOUT_BACKSTOP_S,
  jobLabels,
  runtimeCommand,
  sandboxOptions,
  scriptPath,
} from '../../../node/executor/index.ts'
import { JOB_TMPFS_MB, jobSpecSchema } from '../../../protocol/index.ts'

const spec = jobSpecSchema.parse({
  runtime: 'python',
  code: 'print(1)',
  args: ['a b', '$HOME'],
  env: { GREETING: 'hi', HOME: '/tmp' },
  cpus: 0.5,
  memoryMb: 64,
  pids: 32,
})
const labels = jobLabels('peer-1', 'jabcdef12', 7)
const options = sandboxOptions(spec, { image: 'gridx/runtime-python:latest', labels })
const host = options.HostConfig!

describe('sandboxOptions', () => {
  it('should cut the network and the Docker socket off when building any job', () => {
    expect(host.NetworkMode).toBe('none')
    expect(options.NetworkDisabled).toBe(true)
    expect(host.Binds).toEqual([])
    expect(host.Mounts).toEqual([])
    expect(host.Devices).toEqual([])
    expect(host.Privileged).toBe(false)
  })

  it('should make the root read-only with size-capped noexec tmpfs for /tmp and /work', () => {
    expect(host.ReadonlyRootfs).toBe(true)
    expect(Object.keys(host.Tmpfs!).sort()).toEqual(['/tmp', '/work'])
    for (const mount of Object.values(host.Tmpfs!)) {
      expect(mount).toContain(`size=${JOB_TMPFS_MB}m`)
      expect(mount).toContain('noexec')
      expect(mount).toContain('nosuid')
    }
  })

  it('should drop every capability and privilege and run as nobody', () => {
    expect(host.CapDrop).toEqual(['ALL'])
    expect(host.CapAdd).toEqual([])
    expect(host.SecurityOpt).toEqual(['no-new-privileges'])
    expect(options.User).toBe('65534:65534')
  })

  it('should set memory equal to memory plus swap, CPUs and process limits from the spec', () => {
    expect(host.Memory).toBe(64 * 1024 * 1024)
    expect(host.MemorySwap).toBe(host.Memory)
    expect(host.NanoCpus).toBe(500_000_000)
    expect(host.PidsLimit).toBe(32)
    expect(host.Ulimits?.map((limit) => limit.Name)).toEqual(['nofile', 'core'])
  })

  it('should keep no engine log and leave removal to the executor', () => {
    expect(host.LogConfig).toEqual({ Type: 'none', Config: {} })
    expect(host.AutoRemove).toBe(false)
    expect(host.RestartPolicy).toEqual({ Name: 'no', MaximumRetryCount: 0 })
  })

  it('should label the container with executor, job and fence for the orphan sweep', () => {
    expect(options.Labels).toEqual({
      'gridx.managed': 'true',
      'gridx.executor': 'peer-1',
      'gridx.job': 'jabcdef12',
      'gridx.fence': '7',
    })
  })

  it('should pass args after the script and let the job env override the base env', () => {
    const killAfterS = spec.timeoutS + JOB_TIMEOUT_BACKSTOP_S
    expect(options.Cmd).toEqual(runtimeCommand('python', ['a b', '$HOME'], killAfterS))
    expect(options.Cmd!.slice(-2)).toEqual(['a b', '$HOME'])
    expect(options.Cmd![2]).toBe(
      `cat > /work/main.py && exec timeout -s KILL ${killAfterS} python3 /work/main.py "$@"`,
    )
    expect(options.Entrypoint).toEqual([])
    expect(options.Env).toContain('GREETING=hi')
    expect(options.Env).toContain('HOME=/tmp')
    expect(options.Env).not.toContain('HOME=/work')
    expect(options.OpenStdin && options.StdinOnce && options.AttachStdin).toBe(true)
  })

  it('should name a script file per runtime in the work dir', () => {
    expect([scriptPath('python'), scriptPath('node'), scriptPath('bash')]).toEqual([
      '/work/main.py',
      '/work/main.js',
      '/work/main.sh',
    ])
  })
})
