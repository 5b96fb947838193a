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

/** Requests in one JSON-RPC batch. 50 fetches a page of the app's job list (PAGE_ITEMS_DEFAULT)
 * by id in one round trip; each member spends one rate token, so a batch is an eighth of the
 * token's burst; and 50 jobs with full output tails (2 × OUTPUT_TAIL_BYTES_MAX each) answer in
 * 6.4 MiB, under CONNECTION_BUFFERED_BYTES_MAX, so a batch's answer cannot drop its socket. A
 * longer batch is refused whole, before any of it runs. */
export const RPC_BATCH_REQUESTS_MAX = 50

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

/** One input file of a job: a data set of a few hundred MiB uploads in seconds on a LAN and
 * fits in the disk of any executor; bigger data is split into several files. */
export const JOB_INPUT_FILE_BYTES_MAX = 256 * MIB

/** All of one job's inputs together: what one executor must fetch before the job starts, and
 * what every executor that runs it keeps in its blob store while the job is open. */
export const JOB_INPUTS_BYTES_MAX = 1024 * MIB

/** Files in one job's inputs, and in its outputs: a directory of a thousand files is a data
 * set; more makes the job's record (which lists each) a large log entry. */
export const JOB_INPUTS_MAX = 1024
export const JOB_OUTPUTS_MAX = 1024

/** A file's name (a relative path) under inputs/ or outputs/, and its depth: a long path
 * fits, and a record of a thousand of them stays well under a log entry's size. */
export const JOB_FILE_NAME_BYTES_MAX = 1024
export const JOB_FILE_DEPTH_MAX = 32

/** Disk a job may fill under outputs/ (`--disk`, in MiB): outputs live on the executor's disk,
 * not in the tmpfs of the work dir, so they are bounded by this quota instead of memory. A
 * GiB suits model weights and result tables; 16 GiB caps what one job may hold on a peer. */
export const JOB_DISK_MB_DEFAULT = 1024
export const JOB_DISK_MB_MAX = 16 * 1024

/** How often the executor measures a running job's outputs/ against its quota: writes past
 * the quota are caught within this much time, a directory walk four times a second. */
export const JOB_DISK_CHECK_MS = 250

/** The largest blob: a job's whole disk quota in one output file. */
export const BLOB_BYTES_MAX = JOB_DISK_MB_MAX * MIB

/** A peer's blob store, by default: room for dozens of jobs' data at the largest inputs, and
 * a bound on the disk a mesh's traffic can take on one machine. */
export const BLOB_STORE_BYTES_MAX_DEFAULT = 32 * 1024 * MIB

/** How long an uploaded blob no job names stays in the store: the time between `gridx submit`
 * uploading its inputs and submitting the job, many times over. */
export const BLOB_UNREFERENCED_GRACE_MS = 60 * 60 * 1000

/** Bytes of one chunk on /gridx/blob/2.0.0: each is checked as it arrives, so a bad chunk costs
 * at most this much to find, and a stream holds no more than one in memory per side. */
export const BLOB_CHUNK_BYTES = 1 * MIB

/** One frame of the blob protocol: a chunk, its 32-byte digest, or a small JSON frame. */
export const BLOB_FRAME_BYTES_MAX = BLOB_CHUNK_BYTES + 1 * KIB

/** Chunks a blob's holder may send ahead of what the fetcher has written: the fetcher grants
 * more as it stores each, so a fetcher slower than the link (its disk) holds at most this many
 * unread, whatever the muxer's window. Eight keep a LAN busy while the disk writes one. */
export const BLOB_CHUNKS_IN_FLIGHT = 8

/** What one blob stream may hold unread: the chunks in flight and room for the small frames
 * beside them. Past it libp2p aborts the stream rather than buffer more. */
export const BLOB_STREAM_BUFFER_BYTES_MAX = (BLOB_CHUNKS_IN_FLIGHT + 2) * BLOB_FRAME_BYTES_MAX

/** Opening a blob stream (dial, handshake, protocol select), as for a Raft stream. */
export const BLOB_STREAM_OPEN_TIMEOUT_MS = 5_000

/** How long one chunk may take to arrive: 1 MiB at 1 Mbit/s is 8 s; a peer slower than that
 * for one chunk is stuck, and the fetch goes on from another peer. */
export const BLOB_CHUNK_TIMEOUT_MS = 30_000

/** Peers asked for one blob before the fetch gives up: a mesh keeps a blob on the peer it was
 * uploaded to and on those that ran a job of it, so a handful is plenty. */
export const BLOB_FETCH_PEERS_MAX = 16

/** Blob streams one connection may have open at once, each way: a job's inputs are fetched
 * one at a time, and a few more cover `gridx get` of outputs beside them. */
export const BLOB_STREAMS_PER_CONNECTION_MAX = 8

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

/** Log time a proposer session may stay silent before the ledger forgets it (Raft thesis
 * section 6.3). It must exceed the longest time a proposal may still be in flight (a client's
 * 30 s call timeout, forwarding, a coordinator failover) so that no live session is forgotten;
 * a proposer silent for half of it opens a fresh session instead of relying on the old one. A
 * late first proposal of a session, stamped longer ago than this, is refused, so a forgotten
 * session can never start again and apply a duplicate. */
export const SESSION_IDLE_MS = 5 * 60 * 1000

/** Proposals a session may have beyond the last one whose result its proposer acknowledged:
 * the ledger keeps each of their results (about 100 bytes in a snapshot) for duplicates. 8,192
 * covers 2,000 proposals a second from one proposer with four seconds between a proposal and
 * its acknowledgement (an election included); one beyond it is refused. */
export const SESSION_PROPOSALS_IN_FLIGHT_MAX = 8_192

/** Sessions the ledger keeps at once. Each daemon start opens one, and a daemon opens another
 * after a silence; 10,000 is far above any mesh this release runs, and bounds the table if a
 * faulty peer opens sessions in a loop: a new session beyond it is refused. */
export const SESSIONS_MAX = 10_000

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
/** `gridx start --token-rate`: a script or a benchmark that submits faster than a person may
 * raise the token's rate. One request a second is the least that lets the web app work; a
 * hundred thousand is above what one daemon's gateway serves, so a higher figure is a typo.
 * The burst stays twice the rate, as for the default. */
export const RATE_TOKEN_PER_S_MIN = 1
export const RATE_TOKEN_PER_S_MAX = 100_000
export const RATE_ADDRESS_PER_S = 400
export const RATE_ADDRESS_BURST = 800

/** Subscriptions per WebSocket connection, and WebSocket connections per daemon. */
export const SUBSCRIPTIONS_PER_CONNECTION_MAX = 256
export const CONNECTIONS_MAX = 1024

/** How long a blob upload (`PUT /api/v1/blobs/<cid>`) may send no byte before it is cut. An
 * upload has no bound on its total time: JOB_INPUT_FILE_BYTES_MAX over a 1 Mbit/s link takes
 * over half an hour, and a bound that cut it would make big inputs impossible on slow links.
 * Idleness is what marks a dead or malicious client; 30 s is far above any pause of a live TCP
 * sender (its retransmission timeouts back off to seconds), as BLOB_CHUNK_TIMEOUT_MS is for
 * a peer. */
export const BLOB_UPLOAD_IDLE_TIMEOUT_MS = 30_000

/** Bytes queued for a slow WebSocket client before it is disconnected. */
export const CONNECTION_BUFFERED_BYTES_MAX = 8 * MIB

/** Graceful shutdown: how long running jobs may finish before they are handed back. */
export const SHUTDOWN_DRAIN_MS = 10_000

/** Characters of a client's input (a field path, an unknown key) echoed back in an error:
 * enough to name any real field, so a 3 MiB key costs the reply nothing. */
export const ERROR_ECHO_CHARS_MAX = 256

/** A PeerId string in a Raft message (an Ed25519 PeerId is 52 characters): room for other key
 * types, small enough that a forged length cannot make a decoder allocate much. */
export const RAFT_NODE_ID_BYTES_MAX = 128

/** A read-index context: the driver puts a request id there, never more than a few dozen
 * bytes, so 1 KiB refuses junk without limiting any real caller. */
export const RAFT_CONTEXT_BYTES_MAX = 1 * KIB

/** One encoded Raft message that is not a snapshot. An append carries 1 MiB of entries, or one
 * larger entry alone (a 4 MiB API message at most), so 16 MiB leaves room and bounds memory. */
export const RAFT_MESSAGE_BYTES_MAX = 16 * MIB

/** The state machine in one snapshot. It holds accounts, the bounded job queue and results'
 * tails; 512 MiB is far above that and still fits in one Node buffer on a small machine. */
export const RAFT_SNAPSHOT_BYTES_MAX = 512 * MIB

/** Voters plus learners named in a snapshot's membership: the mesh keeps at most 5 voters and
 * a few thousand learners are far past the scale this release targets. */
export const RAFT_MEMBERS_MAX = 4096

/** One frame on a Raft stream: the largest message plus its frame header. Anything longer is
 * refused before it is buffered, and the stream is closed. */
export const RAFT_FRAME_BYTES_MAX = RAFT_MESSAGE_BYTES_MAX + 64

/** A snapshot travels in chunks of this size, so no frame holds the whole state and a broken
 * transfer costs at most one chunk of buffered bytes at the sender. */
export const RAFT_SNAPSHOT_CHUNK_BYTES = 1 * MIB

/** Messages queued for one peer. Raft retransmits what is lost, so when a peer cannot keep up
 * new messages are dropped (and counted) rather than held: a second of heartbeats and appends
 * at full rate fits. */
export const RAFT_PEER_QUEUE_MESSAGES_MAX = 4096

/** Bytes of messages (snapshots aside) queued for one peer: four full appends' worth of
 * backlog, so a dead peer costs the sender a bounded amount of memory. */
export const RAFT_PEER_QUEUE_BYTES_MAX = 64 * MIB

/** How long opening a Raft stream (dial, Noise, Yamux, protocol select) may take: a LAN does it
 * in milliseconds; past an election timeout many times over the peer is as good as down. */
export const RAFT_STREAM_OPEN_TIMEOUT_MS = 5_000

/** How long writing one batch of frames may take before the stream is deemed stuck. A full
 * 16 MiB frame at 10 Mbit/s takes about 13 s. */
export const RAFT_WRITE_TIMEOUT_MS = 30_000

/** Backoff between attempts to reopen a stream to a peer: the first retry is quick (a peer
 * that restarted is back in well under a second), later ones spread out to 2 s. */
export const RAFT_RECONNECT_BACKOFF_MS_MIN = 50
export const RAFT_RECONNECT_BACKOFF_MS_MAX = 2_000

/** How long a sender waits for the receiver to persist a snapshot it sent and acknowledge it;
 * after that the leader is told it failed and tries again. Writing 512 MiB fits in a minute. */
export const RAFT_SNAPSHOT_ACK_TIMEOUT_MS = 60_000

/** How long a receiver holding part of a snapshot waits for its next chunk before it drops
 * the part and the stream. A live sender gives up on one chunk's write after
 * RAFT_WRITE_TIMEOUT_MS (and breaks its stream), so twice that without a chunk is a sender
 * that died unheard or hangs; the part (up to RAFT_SNAPSHOT_BYTES_MAX) is freed and the
 * leader's next snapshot starts on a clean stream. */
export const RAFT_SNAPSHOT_IDLE_TIMEOUT_MS = 2 * RAFT_WRITE_TIMEOUT_MS

/** One frame of the join protocol. A reply names members and their addresses; 256 KiB holds
 * far more than the members a joiner needs to find the mesh. */
export const JOIN_FRAME_BYTES_MAX = 256 * KIB

/** Members named in a join reply, and addresses per member: enough to reach the mesh. */
export const JOIN_MEMBERS_MAX = 256
export const JOIN_ADDRESSES_PER_MEMBER_MAX = 16

/** The whole join exchange: dial, handshake, a committed admission. An election during the
 * admission takes about a second; ten leave room for a slow disk and link. */
export const JOIN_TIMEOUT_MS = 10_000

/** How long a connection from a peer that is not admitted may stay open: just enough to run
 * the join protocol, after which the gate closes it. */
export const JOIN_WINDOW_MS = 15_000

/** Connections from peers that are not admitted, open at once (each in its join window): a
 * handful of machines join at a time, so 64 is generous and a flood cannot hold more. */
export const JOIN_STRANGERS_MAX = 64

/** Connections a mesh peer keeps open: one to each peer of a mesh of a few hundred machines
 * (1,000 executors is a later issue) plus JOIN_STRANGERS_MAX in their join windows. */
export const MESH_CONNECTIONS_MAX = 512

/** Opening a connection to a known peer: dial and handshake. A LAN takes milliseconds; five
 * seconds covers a slow link, as RAFT_STREAM_OPEN_TIMEOUT_MS does for a stream. */
export const MESH_DIAL_TIMEOUT_MS = 5_000

/** `gridx start --join-grant`: credits the founder of a new mesh grants each peer's owner once,
 * in place of the policy's default. A billion credits is 10^12 millicredits per owner, so even
 * a thousand owners stay far inside the integers a double holds exactly (2^53). */
export const JOIN_GRANT_CREDITS_MAX = 1_000_000_000

/** `gridx start --raft-tick-ms`: one millisecond is the finest a timer resolves; above ten
 * seconds a single tick is slower than any link a mesh should be built over. */
export const RAFT_TICK_MS_MIN = 1
export const RAFT_TICK_MS_MAX = 10_000

/** `gridx start --election-ticks`: more than the one heartbeat tick (Raft needs heartbeats
 * inside the election timeout); a thousand is far past any use. */
export const RAFT_ELECTION_TICKS_MIN = 2
export const RAFT_ELECTION_TICKS_MAX = 1_000

/** The election timeout those two make: past a minute without a coordinator every write
 * would run into its own timeout, so a slower setting is a mistake. */
export const RAFT_ELECTION_TIMEOUT_MS_MAX = 60_000

/** Raft streams per connection and direction: one in use, and one more while a stream that
 * broke is replaced before the peer has noticed (the libp2p ping spec allows two as well). */
export const RAFT_STREAMS_PER_CONNECTION_MAX = 2

/** Frames in one write on a Raft stream: enough to batch a burst of appends into one system
 * call, few enough that one write never holds the link for long. */
export const RAFT_FRAMES_PER_WRITE_MAX = 256

/** Join streams per connection: a join is one request and one reply, so two at once from one
 * connection is already more than a joiner needs. */
export const JOIN_STREAMS_PER_CONNECTION_MAX = 2

/** How often the coordinator's autopilot reviews the voters: a status read a second is cheap,
 * and quick next to the stabilization time below. */
export const AUTOPILOT_INTERVAL_MS = 1_000

/** How long a learner must stay healthy, without a break, before it is promoted to voter:
 * raft-autopilot's default, long enough that a peer that restarts or flaps is never promoted. */
export const AUTOPILOT_STABILIZATION_MS = 10_000

/** A member the coordinator has not heard from for longer is unhealthy: heartbeats go out
 * every Raft tick (tens of ms), so two seconds of silence is many lost heartbeats, not jitter. */
export const AUTOPILOT_CONTACT_MS_MAX = 2_000

/** A voter unheard for longer has failed and may be removed: longer than a daemon's planned
 * restart, so that costs no membership change, and short enough to refill its seat in a minute. */
export const AUTOPILOT_FAILED_AFTER_MS = 30_000

/** Entries a member may trail the leader's last index and still count as caught up: about a
 * second of log at the mesh's target of 500 jobs a second, so load alone is not lag. */
export const AUTOPILOT_LAG_ENTRIES_MAX = 1_000

/** How long the autopilot waits for one conf change to be accepted before it gives up on it
 * and reviews again: several election timeouts, so a leader change in between resolves first. */
export const AUTOPILOT_PROPOSAL_TIMEOUT_MS = 10_000

/** Raft: bytes of entries in one append message, by default: 1 MiB keeps a message well under
 * any transport frame limit while one append still carries thousands of small commands. */
export const RAFT_APPEND_BYTES_MAX_DEFAULT = 1 * MIB

/** Raft: append messages in flight to one follower, by default: 256 keeps a long fat pipe
 * busy while the bytes a slow follower can pin stay bounded (256 of 1 MiB). */
export const RAFT_INFLIGHT_MESSAGES_MAX_DEFAULT = 256

/** Raft: bytes of uncommitted entries a leader holds, by default: past 64 MiB (seconds of
 * writes) it refuses proposals, pushing back on proposers rather than growing without end. */
export const RAFT_UNCOMMITTED_BYTES_MAX_DEFAULT = 64 * MIB

/** Raft: bytes of committed entries handed out in one Ready, by default: 16 MiB bounds how long
 * one Ready holds the state machine, so ticks and messages are not starved behind it. */
export const RAFT_COMMITTED_BYTES_PER_READY_MAX_DEFAULT = 16 * MIB

/** Raft: read requests a leader queues before it answers more: a new leader holds reads until
 * it commits in its term, and 4096 covers a burst of them without unbounded memory. */
export const RAFT_PENDING_READS_MAX = 4096

/** Raft: bytes of log read per chunk when membership is rebuilt from the log at start: 4 MiB
 * keeps the scan's memory flat whatever the log's length. */
export const RAFT_CONF_SCAN_BYTES_MAX = 4 * MIB

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

/** Default Raft tick: 10 ms with 30 election ticks gives followers a 300–600 ms randomized
 * election timeout, so a new coordinator leads well within a second of a crash on a LAN (the
 * Raft paper measured 150–300 ms timeouts; etcd's default is 100 ms × 10). Fine ticks spread
 * the followers' timeouts over 30 slots, so two rarely campaign in the same one (a split vote
 * costs another timeout). Slow links raise both with `--raft-tick-ms` and `--election-ticks`. */
export const RAFT_TICK_MS_DEFAULT = 10
export const RAFT_ELECTION_TICKS_DEFAULT = 30
/** Heartbeats every 5 ticks (50 ms): six chances to reach a follower before it campaigns. */
export const RAFT_HEARTBEAT_TICKS_DEFAULT = 5
/** A learner (an executor peer) is heartbeated every 25 ticks (250 ms), a fifth as often as a
 * voter: it never votes, so no election waits on it; it needs the commit index only to apply
 * and serve local reads, and it gets every append at once whatever this is. Heartbeating it
 * like a voter was most of an idle coordinator's CPU in a mesh of 3 voters and 5 learners.
 * Eight heartbeats still fall within AUTOPILOT_CONTACT_MS_MAX, so the autopilot, which judges
 * health on a scale of seconds, never finds a learner silent because of this rate. */
export const RAFT_LEARNER_HEARTBEAT_TICKS_DEFAULT = 25
/** The same rate in time, for a peer started with other ticks (`--raft-tick-ms`): in ticks
 * alone, 100 ms ticks made it 2.5 s, past AUTOPILOT_CONTACT_MS_MAX, and learners were never
 * promoted. Never less often than voters are heartbeated. */
export const RAFT_LEARNER_HEARTBEAT_MS = RAFT_LEARNER_HEARTBEAT_TICKS_DEFAULT * RAFT_TICK_MS_DEFAULT

/** How long a proposal waits to be applied before it fails with a retryable error: it covers
 * an election (about a second) several times over, and stays under a client's 30 s call. */
export const PROPOSAL_TIMEOUT_MS_DEFAULT = 10_000

/** Proposals waiting in the driver (unapplied) at most: past it callers get an overload error,
 * so a stalled leader or disk cannot eat memory. It is the session's in-flight window. */
export const PROPOSALS_PENDING_MAX = 8_192

/** Entries applied between Raft snapshots (besides SNAPSHOT_LOG_BYTES_MAX): the bound on what
 * a restart replays. A snapshot encodes the whole state in one turn, which stalls the replica:
 * every 10,000 entries it stalled a busy mesh (all replicas snapshot at the same index) every
 * ~9 s, and cut `bench mesh-throughput` from ~720 to ~370 jobs/s. 100,000 is etcd's default
 * snapshot count. Entries kept below a snapshot let a slightly slow follower catch up by log
 * instead of by snapshot. */
export const SNAPSHOT_EVERY_ENTRIES = 100_000
export const SNAPSHOT_RETAIN_ENTRIES = 1_000

/** Hashes of rotated-away join secrets the mesh keeps, so that a join with one is told "rotated"
 * rather than "wrong": 16 covers years of rotations; older ones are then just wrong. */
export const JOIN_ROTATED_HASHES_MAX = 16

/** Voters a new mesh aims for (`gridx start --voters N`): 3 survives one voter's loss, the
 * common choice of etcd, Consul and Nomad deployments. */
export const MESH_VOTER_TARGET_DEFAULT = 3

/** How long a stopping leader waits for another voter to take over before it stops anyway:
 * a transfer takes a round trip once the target is caught up; past this an election does it. */
export const LEADERSHIP_TRANSFER_TIMEOUT_MS = 2_000

/** How long a peer that just joined waits to be caught up (added as a learner, sent the log
 * or a snapshot) before its start fails: one join timeout for the leader to commit the change
 * plus room for a snapshot of a large state over a LAN. */
export const JOIN_CATCH_UP_TIMEOUT_MS = 30_000

/** How long the coordinator keeps a peer that left (`peer.remove`) in the Raft membership
 * before it removes it: the leaving peer learns that its `peer.remove` committed from the next
 * heartbeat (100 ms by default), and must not be cut off before; a second leaves room for a
 * loaded machine. */
export const LEAVE_CONF_CHANGE_DELAY_MS = 1_000

/** A peer refused for the same reason is logged at warn once in this long, then at debug: a
 * removed peer's Raft link redials with backoff until it stops, and one line says it all. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000
/** Peers whose last refusal the log remembers; past it the oldest is forgotten (and logged
 * again at warn if it comes back), so strangers with fresh PeerIds cannot grow the map. */
export const REFUSAL_LOG_PEERS_MAX = 1024
/** How long a leaving peer waits for the coordinator's removal of it to reach it before it
 * stops anyway: the removal follows LEAVE_CONF_CHANGE_DELAY_MS after its leave committed, and
 * takes a round trip more; ten seconds is a proposal's own timeout. */
export const LEAVE_REMOVAL_TIMEOUT_MS = 10_000

/** Live output the coordinator keeps per running job, both streams together: as much as the
 * executor reads of both, so a follower that comes late or resumes gets all of it. */
export const LIVE_LOG_BYTES_MAX = 2 * OUTPUT_STREAM_BYTES_MAX

/** Jobs whose live output the coordinator keeps at once (the oldest is dropped past it): as
 * many as one executor runs, which is more than run at once on a mesh of a few machines. */
export const LIVE_LOG_JOBS_MAX = 1024

/** One frame of the logs protocol (`/gridx/logs/1.0.0`): an output chunk and its numbering. */
export const LOGS_FRAME_BYTES_MAX = EXECUTOR_OUTPUT_CHUNK_BYTES_MAX + 4 * KIB

/** Jobs one peer may follow at once over its logs stream: as many as the coordinator keeps. */
export const LOGS_FOLLOWS_PER_STREAM_MAX = LIVE_LOG_JOBS_MAX

/** Frames waiting for a follower that reads slower than jobs print: past it the coordinator
 * drops the stream, and the follower resumes from the last chunk it has (nothing lost while
 * the coordinator keeps it). 4096 chunks are 64 MiB at most. */
export const LOGS_WRITE_QUEUE_MAX = 4096

/** Logs streams between one pair of peers: one, and room for its replacement while the old
 * one is being torn down. */
export const LOGS_STREAMS_PER_CONNECTION_MAX = 2

/** How often a follower looks at who the coordinator is, and retries a lost logs stream, while
 * its clients follow jobs: a fraction of an election, so output resumes soon after one. */
export const LOGS_RELAY_CHECK_MS = 250

/** Bound on dialling the coordinator and opening the logs stream, and on one write. */
export const LOGS_DIAL_TIMEOUT_MS = 5000

/** How long a follower's subscription waits for the coordinator's last chunks and end once the
 * job's end is applied here (the log and the logs stream race): past it the subscription ends
 * with what it has, or with the job's kept tails if no live output came. */
export const LOGS_END_GRACE_MS = 2000

/** The coordinator's view of the mesh (`/gridx/view/1.0.0`): one entry per member and per
 * executor, a few hundred bytes each, for up to RAFT_MEMBERS_MAX peers. */
export const MESH_VIEW_FRAME_BYTES_MAX = 4 * MIB

/** How long `mesh.info` and `mesh.peers` on a peer that is not the coordinator wait for the
 * coordinator's view: a round trip on a LAN is milliseconds; past it they say it is unknown
 * here rather than keep a person or the app waiting. */
export const MESH_VIEW_TIMEOUT_MS = 2000

/** Looks (LOGS_RELAY_CHECK_MS each) a follower waits at most between two failed dials of the
 * same coordinator: the wait doubles from one look up to this, 4 s, so an unreachable
 * coordinator is not dialled four times a second, and a reachable one again within seconds. */
export const LOGS_RECONNECT_CHECKS_MAX = 16

/** Pause between attempts of a restarted peer to record its addresses: a proposal already waits
 * out its own timeout when no coordinator answers, so this only spaces out refusals that come
 * at once (an overloaded driver). */
export const ADDRESS_RETRY_MS = 1000

/** How often a voter looks for voters it has no warm Raft stream to yet (a learner just
 * promoted, a voter just added): a membership change takes longer than this to settle, and a
 * look costs one read of the Raft status, so checking on every applied entry would cost the
 * coordinator more than the streams save. */
export const VOTER_LINKS_CHECK_MS = 1000

/** Shards of one sharded job (`gridx submit --shards N`). Every child is created by the one
 * log entry that submits the parent, which carries each shard's file list: 64 keeps that entry
 * to a few tens of KiB and is more executors than a mesh of RAFT_MEMBERS_MAX voters is built
 * around, so more shards would queue behind each other rather than run apart. */
export const SHARDS_MAX = 64

/** Further runs of a shard whose code failed (exit code, timeout, out of memory), each on an
 * executor the shard has not failed on where the mesh has one: two rule out one bad host or a
 * flaky run, and a failure that repeats on three hosts is the code's. Each run is paid for, so
 * the parent's escrow reserves them up front. */
export const SHARD_RETRIES_MAX = 2

/** Bytes of a dataset the submitting daemon splits into shards: it reads the dataset into
 * memory to cut it by rows, so the bound is the memory a split may take, and equals what one
 * job's inputs may total. */
export const SHARD_DATASET_BYTES_MAX = JOB_INPUTS_BYTES_MAX

/** How often the web app looks again at a sharded job that is still running: its progress is
 * a count of shards that each take seconds at least, so two seconds shows it move without
 * asking the daemon more than a person reads. */
export const PARENT_REFRESH_MS = 2000

/** Rounds of one training job (`gridx train --rounds R`). The parent escrows every round up
 * front (each shard with its retries, and the aggregate), so the bound caps that escrow and
 * the parent's history in the log: Federated Averaging converges in tens of rounds on the
 * data a mesh of this size trains, and 100 is well past that. */
export const TRAINING_ROUNDS_MAX = 100

/** Bounds of a round's deadline (`--round-timeout S`), counted in log time from the round's
 * opening, queueing and image start included. One second is the clock's grain: a deadline a
 * user sets too short fails the parent with the reason, which is theirs to read; an hour is the
 * longest one job may run (JOB_TIMEOUT_S_MAX), and a round that waits longer waits on a shard
 * that its own timeout has already ended. */
export const ROUND_TIMEOUT_S_MIN = 1
export const ROUND_TIMEOUT_S_MAX = JOB_TIMEOUT_S_MAX

/** Metric names a round shows (`{"metric": NAME, "value": V}` lines on a shard's stdout), and
 * the bytes of one name: a chart draws a handful of curves, and the view is computed on every
 * read, so a script that prints a thousand names gets the first 16 and no more. */
export const TRAINING_METRICS_MAX = 16
export const TRAINING_METRIC_NAME_BYTES_MAX = 32

/** How often the coordinator looks for training rounds past their deadline: deadlines are in
 * whole seconds, so a look every half second closes a round within half a second of its
 * deadline, and each look only reads the state in memory. */
export const ROUND_CHECK_MS = 500
