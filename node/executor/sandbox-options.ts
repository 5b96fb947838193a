// The container a job runs in, as one pure function of its spec, so the executor, the tests and
// the benchmark's bare-dockerode baseline all create exactly the same sandbox.

import assert from 'node:assert/strict'
import type Docker from 'dockerode'
import {
  isContainerRuntime,
  JOB_NOFILE_MAX,
  JOB_SHM_MB,
  JOB_TMPFS_MB,
  type JobSpec,
  type ContainerRuntime,
} from '../../protocol/index.ts'
import {
  JOB_TIMEOUT_BACKSTOP_S,
  JOB_USER,
  LABEL_EXECUTOR,
  LABEL_FENCE,
  LABEL_JOB,
  LABEL_MANAGED,
  WORK_DIR,
} from './constants.ts'
import type { JobMounts } from './job-files.ts'

const MIB = 1024 * 1024

/** The image each runtime runs in, unless the executor is told otherwise. */
export const DEFAULT_RUNTIME_IMAGES: Readonly<Record<ContainerRuntime, string>> = {
  python: 'gridx/runtime-python:latest',
  node: 'gridx/runtime-node:latest',
  bash: 'gridx/runtime-bash:latest',
  'python-torch': 'gridx/runtime-python-torch:latest',
}

const INTERPRETERS: Readonly<Record<ContainerRuntime, { command: string; file: string }>> = {
  python: { command: 'python3', file: 'main.py' },
  node: { command: 'node', file: 'main.js' },
  bash: { command: 'bash', file: 'main.sh' },
  'python-torch': { command: 'python3', file: 'main.py' },
}

/** Where the job's code lands inside the container. */
export function scriptPath(runtime: ContainerRuntime): string {
  return `${WORK_DIR}/${INTERPRETERS[runtime].file}`
}

/**
 * The command: `sh` copies the code from stdin into the work dir and then execs the interpreter
 * on it, under `timeout` when `killAfterS` is given, so its errors name a real file. The root
 * filesystem is read-only (no putArchive) and the code can reach 1 MiB (too big for argv),
 * hence stdin. Arguments follow the script unchanged through "$@"; the job's own stdin is then
 * at end of file. `killAfterS` is the container's own hard stop (JOB_TIMEOUT_BACKSTOP_S past the
 * job's timeout), which holds even when the daemon that started it is gone.
 */
export function runtimeCommand(
  runtime: ContainerRuntime,
  args: readonly string[],
  killAfterS?: number,
): string[] {
  const { command } = INTERPRETERS[runtime]
  const path = scriptPath(runtime)
  const stop = killAfterS === undefined ? '' : `timeout -s KILL ${killAfterS} `
  return ['sh', '-c', `cat > ${path} && exec ${stop}${command} ${path} "$@"`, 'gridx-job', ...args]
}

/** Environment every job gets; the job's own env is applied over it. */
export function baseEnvironment(): Record<string, string> {
  return {
    HOME: WORK_DIR,
    TMPDIR: '/tmp',
    // Output must reach the user live, not when Python's 8 KiB buffer fills.
    PYTHONUNBUFFERED: '1',
    // The image's site-packages are read-only: do not even try to write bytecode there.
    PYTHONDONTWRITEBYTECODE: '1',
  }
}

export interface SandboxInit {
  readonly image: string
  /** Labels that let a restarted daemon find the container: see `jobLabels`. */
  readonly labels: Readonly<Record<string, string>>
  /** The job's inputs/ and outputs/ directories on this host, when the executor keeps files. */
  readonly mounts?: JobMounts
}

/** The job's own directories, and nothing else of the host: inputs read-only, since they are
 * links to the blob store's files, and outputs writable. no-new-privileges keeps a set-id file
 * a job wrote there from granting anything. */
export function jobMounts(mounts: JobMounts | undefined): Docker.MountSettings[] {
  if (mounts === undefined) return []
  const bind = (source: string, target: string, readOnly: boolean): Docker.MountSettings => ({
    Type: 'bind',
    Source: source,
    Target: target,
    ReadOnly: readOnly,
    BindOptions: { Propagation: 'rprivate' },
  })
  return [
    ...(mounts.inputsDir === null ? [] : [bind(mounts.inputsDir, `${WORK_DIR}/inputs`, true)]),
    bind(mounts.outputsDir, `${WORK_DIR}/outputs`, false),
  ]
}

/** Mount options of a tmpfs: Docker adds nothing we rely on, so every flag is spelled out. */
function tmpfsOptions(extra: string): string {
  return `rw,noexec,nosuid,nodev,size=${JOB_TMPFS_MB}m,${extra}`
}

/** The host side of the sandbox: isolation, limits, logging and lifecycle. */
function hostConfig(spec: JobSpec, mounts: JobMounts | undefined): Docker.HostConfig {
  const memoryBytes = spec.memoryMb * MIB
  return {
    NetworkMode: 'none',
    ReadonlyRootfs: true,
    // noexec on both: the interpreters read the script, nothing needs to execute from them.
    Tmpfs: {
      '/tmp': tmpfsOptions('mode=1777'),
      [WORK_DIR]: tmpfsOptions('mode=0700,uid=65534,gid=65534'),
    },
    ShmSize: JOB_SHM_MB * MIB,
    CapAdd: [],
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges'],
    Privileged: false,
    // No host paths but the job's own inputs and outputs, so never the Docker socket.
    Binds: [],
    Mounts: jobMounts(mounts),
    Devices: [],
    VolumesFrom: [],
    PortBindings: {},
    PublishAllPorts: false,
    Dns: [],
    ExtraHosts: [],
    GroupAdd: [],
    IpcMode: 'private',
    PidMode: '',
    UTSMode: '',
    UsernsMode: '',
    Memory: memoryBytes,
    // Equal to Memory: no swap, so the memory limit is a hard one.
    MemorySwap: memoryBytes,
    OomKillDisable: false,
    // When the host itself runs short, a job dies before the daemon does.
    OomScoreAdj: 500,
    NanoCpus: Math.round(spec.cpus * 1e9),
    PidsLimit: spec.pids,
    // No nproc ulimit: it counts every process of uid 65534 on the host, so one job's fork
    // bomb would starve the others. PidsLimit bounds each container on its own.
    Ulimits: [
      { Name: 'nofile', Soft: JOB_NOFILE_MAX, Hard: JOB_NOFILE_MAX },
      { Name: 'core', Soft: 0, Hard: 0 },
    ],
    // Output is read from the attach stream; the engine keeps no log file to fill its disk.
    LogConfig: { Type: 'none', Config: {} },
    // We remove the container ourselves after reading its exit state (OOM, exit code).
    AutoRemove: false,
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    Init: false,
  }
}

/**
 * Container create options for one job. Nothing is left to a library or daemon default that
 * matters for isolation: every field here is deliberate, and the reasons are beside them.
 */
export function sandboxOptions(spec: JobSpec, init: SandboxInit): Docker.ContainerCreateOptions {
  // A job without a container (noop) never reaches the engine: the executor refuses it first.
  assert(isContainerRuntime(spec.runtime), `the ${spec.runtime} runtime has no container`)
  const env = { ...baseEnvironment(), ...spec.env }
  return {
    Image: init.image,
    Cmd: runtimeCommand(spec.runtime, spec.args, spec.timeoutS + JOB_TIMEOUT_BACKSTOP_S),
    // An empty list clears any ENTRYPOINT the image might carry.
    Entrypoint: [],
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    Labels: { ...init.labels },
    User: JOB_USER,
    WorkingDir: WORK_DIR,
    Hostname: 'gridx-job',
    // The code arrives on stdin, then stdin closes; output comes back over the same attach.
    Tty: false,
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    NetworkDisabled: true,
    // Stopping a job always means killing it: there is no graceful shutdown to wait for.
    StopSignal: 'SIGKILL',
    StopTimeout: 0,
    HostConfig: hostConfig(spec, init.mounts),
  }
}

/** Labels that mark a job's container as ours, for the orphan sweep after a crash. */
export function jobLabels(
  executorId: string,
  jobId: string,
  fence: number,
): Record<string, string> {
  return {
    [LABEL_MANAGED]: 'true',
    [LABEL_EXECUTOR]: executorId,
    [LABEL_JOB]: jobId,
    [LABEL_FENCE]: String(fence),
  }
}
