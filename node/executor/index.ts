// The executor area's public surface: the service, the sandbox as a pure function of a job's
// spec, and the one-container helpers the benchmark reuses for its baseline.

export {
  DockerExecutor,
  createDockerExecutor,
  type DockerExecutorInit,
  type ExecutorCapacity,
  type ExecutorLoad,
  type ExecutorStartReport,
  type ExecutorStatus,
} from './docker-executor.ts'
export type { RunHooks, RunOutcome, RunRequest, RunState } from './types.ts'
export {
  DEFAULT_RUNTIME_IMAGES,
  baseEnvironment,
  jobLabels,
  runtimeCommand,
  sandboxOptions,
  scriptPath,
  type SandboxInit,
} from './sandbox-options.ts'
export { runSandboxed, type SandboxedJob } from './run-sandboxed.ts'
export { runBare, type BareRunResult } from './bare-run.ts'
export { connectEngine, candidateSockets, type EngineConnection } from './engine-connection.ts'
export { executorFilter, sweepContainers, type SweptContainer } from './container-sweep.ts'
export { cgroupLayout, type CgroupLayout } from './cgroup-sampler.ts'
export { StreamCapture, AttachDemuxer, type OutputStreamName } from './output-capture.ts'
export * from './errors.ts'
export * from './constants.ts'
export { ExecutorClient, executorClient } from './executor-client.ts'
export { NoWelcomeError, SilentCoordinatorError } from './executor-client-init.ts'
export type { CoordinatorAddress, ExecutorClientInit, LocalSink } from './executor-client-init.ts'
export type { ExecutorClientComponents } from './executor-client-init.ts'
export type { JobRunner } from './executor-jobs.ts'
export { NoopRunner, withNoopRuntime } from './noop-runner.ts'
export type { EngineExecutor, NoopRunnerInit } from './noop-runner.ts'
