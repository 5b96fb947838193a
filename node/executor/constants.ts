// Bounds and names private to the executor. Job-facing limits (memory, CPUs, output, tmpfs) live
// in protocol/limits.ts; these only shape how this daemon talks to its Docker engine.

/** Labels every Grid-X container carries, so a restarted daemon can find what it left behind. */
export const LABEL_MANAGED = 'gridx.managed'
export const LABEL_EXECUTOR = 'gridx.executor'
export const LABEL_JOB = 'gridx.job'
export const LABEL_FENCE = 'gridx.fence'
/** Labels the runtime images carry (scripts/ sets them when it builds an image). */
export const LABEL_RUNTIME = 'gridx.runtime'
export const LABEL_RECIPE = 'gridx.recipe'

/** Where a job's code is written and run from; a tmpfs, like /tmp. */
export const WORK_DIR = '/work'
/** nobody:nogroup on Debian: owns nothing in the image, so the read-only root stays theirs. */
export const JOB_USER = '65534:65534'

/** One API call to the engine (create, start, inspect, kill, remove). A healthy engine answers
 * in milliseconds; ten seconds covers a loaded one and still reports a wedged one. */
export const ENGINE_CALL_TIMEOUT_MS = 10_000

/** Connecting and reading `info` at start: a local socket answers at once or not at all. */
export const ENGINE_CONNECT_TIMEOUT_MS = 5_000

/** A peer without an engine, or missing a runtime image, looks again this often: a ping, an
 * `info` and three image inspections, milliseconds of work. So an engine started or an image
 * built after the daemon is picked up without a restart. */
export const ENGINE_RECHECK_MS = 10_000

/** A job's container kills itself this long after its timeout (`timeout -s KILL` inside it),
 * a backstop for when no daemon is left to do it: killed with -9 and not restarted, its
 * container would otherwise run for as long as the code does, beside the rerun of its job
 * elsewhere. A live daemon kills at the timeout itself and records why; this margin is the
 * whole bound on that kill's engine call, so the daemon's kill lands first whenever it can. */
export const JOB_TIMEOUT_BACKSTOP_S = ENGINE_CALL_TIMEOUT_MS / 1000

/** How long `stop()` and the orphan sweep may spend killing and removing containers. */
export const STOP_TIMEOUT_MS = 15_000

/** How often the cgroup is sampled for CPU time and peak memory while a job runs: three small
 * file reads, microseconds each. The cgroup vanishes when the container exits, so the last
 * sample is the figure reported, and CPU time can lag the truth by up to this much. */
export const CGROUP_SAMPLE_INTERVAL_MS = 50

/** Exit code the runtime gives a process killed by SIGKILL (128 + 9). */
export const EXIT_CODE_SIGKILL = 137
