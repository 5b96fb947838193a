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

/** Bytes of code an account's unfinished jobs may hold in the replicated state at once. Code
 * leaves the state when its job ends; until then every replica keeps it in memory and in each
 * snapshot, so one account's share is capped well below what 100 jobs of 1 MiB would take. */
export const QUEUE_CODE_BYTES_PER_ACCOUNT_MAX = 16 * MIB

/** Jobs in the whole queue (queued, assigned or running). */
export const QUEUE_JOBS_MAX = 10_000

/** Times a job is retried after its executor failed it (lost peer, engine error). */
export const JOB_RETRIES_MAX = 3

/** How long an escrow may stay unsettled past its job's timeout before it expires and the
 * submitter is refunded: a day covers a long queue wait and a coordinator outage. */
export const ESCROW_GRACE_MS = 24 * 60 * 60 * 1000

/** How long the ledger remembers a proposal it applied, in log time since its proposer stamped
 * it: a duplicate inside the window gets the first result and changes nothing; one stamped
 * before it is refused, so a late duplicate can never apply. It must exceed the longest time a
 * proposal may still be in flight (a client's 30 s call timeout, forwarding, a coordinator
 * failover); a proposal refused for age is safe to propose again under a fresh id. */
export const PROPOSAL_WINDOW_MS = 2 * 60 * 1000

/** Proposals remembered at most, whatever their age: bounds the table (about 150 bytes each in
 * a snapshot) at a sustained ~170 proposals a second across the whole window. Past it the
 * oldest are forgotten early and proposals stamped at or before them are refused instead. */
export const PROPOSALS_REMEMBERED_MAX = 20_000

/** Bytes of log entries a replica keeps after its newest snapshot before it takes another and
 * drops them. A submission carries up to CODE_BYTES_MAX of code, so counting entries alone let
 * a thousand of them pile up a gigabyte; 32 MiB bounds the disk the log holds and the replay at
 * start, while a snapshot (the state without ended jobs' code) costs far less to write. */
export const SNAPSHOT_LOG_BYTES_MAX = 32 * MIB

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
