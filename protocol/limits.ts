// Every bound in Grid-X, defined once, each with the reason for its value (TigerBeetle style:
// a limit on everything). Units are last in every name.

const KIB = 1024
const MIB = 1024 * KIB

/** Code of one job. Jobs that need more ship it as an input artifact; 1 MiB keeps a job's
 * log entry small enough to replicate without stalling other entries. */
export const CODE_BYTES_MAX = 1 * MIB

/** One API message (HTTP body or WebSocket frame). Code is 1 MiB of UTF-8; JSON escaping can
 * grow it, so the frame allows four times that, and nothing larger is parsed. */
export const RPC_MESSAGE_BYTES_MAX = 4 * MIB

/** Arguments and environment: enough for any sane command line, small enough to log. */
export const JOB_ARGS_MAX = 64
export const JOB_ARG_BYTES_MAX = 4 * KIB
export const JOB_ENV_MAX = 64
export const JOB_ENV_KEY_BYTES_MAX = 128
export const JOB_ENV_VALUE_BYTES_MAX = 4 * KIB

/** Wall-clock timeout. A default of one minute suits interactive jobs; an hour caps what one
 * escrow may reserve. */
export const JOB_TIMEOUT_S_DEFAULT = 60
export const JOB_TIMEOUT_S_MAX = 3600

/** CPUs per job, in whole or fractional cores. Also capped by the executor's capacity. */
export const JOB_CPUS_DEFAULT = 1
export const JOB_CPUS_MIN = 0.1
export const JOB_CPUS_MAX = 64

/** Memory per job. Docker refuses less than 6 MiB; 16 MiB leaves room for an interpreter's
 * start. Swap equals memory, so this is also the memory plus swap ceiling. */
export const JOB_MEMORY_MB_DEFAULT = 512
export const JOB_MEMORY_MB_MIN = 16
export const JOB_MEMORY_MB_MAX = 65536

/** Processes per job: enough for a worker pool, few enough that a fork bomb dies quickly. */
export const JOB_PIDS_DEFAULT = 128
export const JOB_PIDS_MAX = 1024

/** Size of each writable tmpfs (/tmp and the work dir). Writes beyond fail with ENOSPC. */
export const JOB_TMPFS_MB = 64

/** Open files per job. Enough for a data loader pool; bounds kernel memory per process. */
export const JOB_NOFILE_MAX = 4096

/** Size of /dev/shm. Docker mounts one whatever we ask, so we size it ourselves: python's
 * multiprocessing needs a little, and it is charged to the job's memory limit anyway. */
export const JOB_SHM_MB = 64

/** Bytes of each output stream read from a container. Past it the stream is still drained
 * (so the job is not blocked) but discarded: the daemon's memory does not grow with output. */
export const OUTPUT_STREAM_BYTES_MAX = 1 * MIB

/** Tail of each output stream kept in the job's result in the replicated log. */
export const OUTPUT_TAIL_BYTES_MAX = 64 * KIB

/** Jobs an account may have queued or running at once: one account cannot flood the queue. */
export const QUEUE_JOBS_PER_ACCOUNT_MAX = 100

/** Jobs in the whole queue (queued, assigned or running). */
export const QUEUE_JOBS_MAX = 10_000

/** Times a job is retried after its executor failed it (lost peer, engine error). */
export const JOB_RETRIES_MAX = 3

/** How long an escrow may stay unsettled past its job's timeout before it expires and the
 * submitter is refunded: a day covers a long queue wait and a coordinator outage. */
export const ESCROW_GRACE_MS = 24 * 60 * 60 * 1000

/** Idempotency ids and transfer ids: long enough for a UUID or a hash, short enough to index. */
export const IDEMPOTENCY_ID_BYTES_MAX = 128

/** Items in one page of a listing. */
export const PAGE_ITEMS_MAX = 500
export const PAGE_ITEMS_DEFAULT = 50

/** Rate limits: a token bucket per API token and per remote address. A burst fits a page load
 * of the app plus a script's loop; the rate is far above a person and below a flood. */
export const RATE_TOKEN_PER_S = 200
export const RATE_TOKEN_BURST = 400
export const RATE_ADDRESS_PER_S = 400
export const RATE_ADDRESS_BURST = 800

/** Subscriptions per WebSocket connection, and WebSocket connections per daemon. */
export const SUBSCRIPTIONS_PER_CONNECTION_MAX = 256
export const CONNECTIONS_MAX = 1024

/** Bytes queued for a slow WebSocket client before it is disconnected. */
export const CONNECTION_BUFFERED_BYTES_MAX = 8 * MIB

/** Graceful shutdown: how long running jobs may finish before they are handed back. */
export const SHUTDOWN_DRAIN_MS = 10_000

/** Characters of a client's input (a field path, an unknown key) echoed back in an error:
 * enough to name any real field, so a 3 MiB key costs the reply nothing. */
export const ERROR_ECHO_CHARS_MAX = 256

/** One frame of the executor protocol. An assignment carries a job's spec, which the API
 * already bounds at RPC_MESSAGE_BYTES_MAX; 64 KiB more leaves room for the envelope. */
export const EXECUTOR_FRAME_BYTES_MAX = RPC_MESSAGE_BYTES_MAX + 64 * KIB

/** Text of one output report: a page of output per frame keeps a chatty job from holding
 * the stream, and reports of other jobs go between its chunks. */
export const EXECUTOR_OUTPUT_CHUNK_BYTES_MAX = 16 * KIB

/** Jobs one executor runs at once, and so lists in its hello: far above what its cores fit,
 * small enough that a hello stays a small frame. */
export const EXECUTOR_JOBS_MAX = 1024

/** Reports an executor holds while no coordinator takes them. At most one finished report
 * per running job must survive, plus room for the started and output reports beside them. */
export const EXECUTOR_REPORT_BUFFER_MAX = 4 * EXECUTOR_JOBS_MAX

/** Frames queued for one executor stream before the peer is deemed too slow and cut off:
 * well above one burst of assignments or reports, well below a memory problem. */
export const EXECUTOR_WRITE_QUEUE_MAX = 4096

/** Executors one coordinator serves at once (DESIGN section 1: well below Nomad's 6,000). */
export const EXECUTORS_MAX = 1024

/** An executor's heartbeat period. One a second keeps load fresh for the scheduler at a cost
 * of one small frame a second per executor. */
export const EXECUTOR_HEARTBEAT_MS = 1000

/** An executor's lease: heartbeats renew it, and its jobs are lost once it runs out. Five
 * periods ride out a lost frame and a slow loop, and still requeue jobs within seconds. */
export const EXECUTOR_LEASE_MS = 5 * EXECUTOR_HEARTBEAT_MS

/** How long the coordinator waits for an executor to acknowledge an assignment (and an
 * executor for the coordinator's welcome): a loopback round trip is a millisecond, a bad
 * link a second; past this the executor is treated as unable to take the job. */
export const EXECUTOR_ACK_TIMEOUT_MS = 5000

/** Dialling the coordinator and opening the stream, as a Noise handshake on a slow link. */
export const EXECUTOR_DIAL_TIMEOUT_MS = 5000

/** Reconnect backoff of an executor: fast after a coordinator change, which takes well under
 * a second, and capped so that a lost mesh is retried every few seconds. */
export const EXECUTOR_RECONNECT_MS_MIN = 100
export const EXECUTOR_RECONNECT_MS_MAX = 5000

/** Characters of a refusal reason or an error carried in a frame: a sentence, not a log. */
export const EXECUTOR_REASON_CHARS_MAX = 1024

/** Executor streams one connection may hold: the live one, plus the one that replaces it when
 * an executor reconnects before its old stream is reaped. */
export const EXECUTOR_STREAMS_PER_CONNECTION_MAX = 2

/** What one executor may claim to offer: above any single machine sold today, so a claim past
 * it is a forged or broken heartbeat, not a big server. */
export const EXECUTOR_CPUS_MAX = 4096
export const EXECUTOR_MEMORY_MB_MAX = 64 * MIB
