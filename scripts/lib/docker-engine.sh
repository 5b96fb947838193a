# shellcheck shell=bash
# The Docker engine: find a running one, or start dockerd in the background on a Linux
# machine where we are root, and stop the one we started (CI does, in its exit trap).
# Needs common.sh.

DOCKERD_PIDFILE="$GRIDX_STATE_DIR/dockerd.pid"
DOCKERD_LOG="$GRIDX_STATE_DIR/dockerd.log"
# How long dockerd may take to answer after it is started; it takes about 2 s here, more
# on a first start on a slow disk.
readonly DOCKERD_START_TIMEOUT_S=60
# How long a stopping dockerd may take to stop its containers and containerd.
readonly DOCKERD_STOP_TIMEOUT_S=20
# dockerd logs a few lines per container; a long-lived engine's log is rotated at start.
readonly DOCKERD_LOG_MAX_BYTES=$((20 * 1024 * 1024))
# Engine ID of the reachable engine, set by engine_reachable.
ENGINE_ID=""

# True when the docker CLI reaches an engine (DOCKER_HOST or the default socket).
engine_reachable() {
  command -v docker >/dev/null 2>&1 || return 1
  ENGINE_ID=$(docker info --format '{{.ID}}' 2>/dev/null) || return 1
  [[ -n $ENGINE_ID ]]
}

# Prints the pid in our pidfile if that process is alive and is a dockerd.
owned_dockerd_pid() {
  [[ -f $DOCKERD_PIDFILE ]] || return 1
  local pid comm
  pid=$(<"$DOCKERD_PIDFILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $comm == dockerd ]] || return 1
  printf '%s\n' "$pid"
}

# Starts dockerd detached from this shell: its own session (no terminal signal reaches it),
# stdin from /dev/null, stdout and stderr into its log, and none of our other descriptors
# (fd 9 holds the setup lock, which must not outlive setup). Prints the pid of the child.
spawn_dockerd() {
  printf '\n==== %s dockerd %s\n' "$(date -u +%FT%TZ)" "$*" >>"$DOCKERD_LOG"
  setsid dockerd --pidfile "$DOCKERD_PIDFILE" "$@" </dev/null >>"$DOCKERD_LOG" 2>&1 9>&- &
  printf '%s\n' "$!"
}

# Waits until the engine answers. Returns 1 if the spawned process dies first or the bound
# passes; the caller reads the log.
wait_for_engine() {
  local spawned=$1 started waited_s=0
  started=$(now_ms)
  while ! engine_reachable; do
    if ! kill -0 "$spawned" 2>/dev/null && ! owned_dockerd_pid >/dev/null; then
      return 1
    fi
    waited_s=$((($(now_ms) - started) / 1000))
    if ((waited_s >= DOCKERD_START_TIMEOUT_S)); then return 1; fi
    if ((waited_s > 0 && waited_s % 10 == 0)); then
      log "waiting for dockerd to answer (${waited_s} s of ${DOCKERD_START_TIMEOUT_S} s)"
    fi
    sleep 0.5
  done
  log "Docker engine is up after $(since "$started")"
}

# Starts dockerd with its defaults; if it dies because the kernel or the container we run in
# has no usable iptables, starts it again without iptables and without the default bridge.
# Jobs run with NetworkMode none, so neither is needed to run them.
start_dockerd() {
  local pid offset=0
  mkdir -p "$GRIDX_STATE_DIR"
  if pid=$(owned_dockerd_pid); then
    log "dockerd (pid $pid) was started earlier and is not answering yet; waiting"
  else
    rm -f "$DOCKERD_PIDFILE"
    if [[ $(stat -c %s "$DOCKERD_LOG" 2>/dev/null || echo 0) -gt $DOCKERD_LOG_MAX_BYTES ]]; then
      mv -f "$DOCKERD_LOG" "$DOCKERD_LOG.1"
    fi
    log "starting dockerd (log: $DOCKERD_LOG)"
    offset=$(stat -c %s "$DOCKERD_LOG" 2>/dev/null || echo 0)
    pid=$(spawn_dockerd)
  fi
  wait_for_engine "$pid" && return 0
  if ! owned_dockerd_pid >/dev/null && tail -c "+$((offset + 1))" "$DOCKERD_LOG" |
    grep -qiE 'iptables|nat chain|bridge'; then
    warn "dockerd could not set up iptables or its bridge; starting it with" \
      "--iptables=false --bridge=none (jobs need no network)"
    pid=$(spawn_dockerd --iptables=false --bridge=none)
    wait_for_engine "$pid" && return 0
  fi
  show_log_tail "$DOCKERD_LOG"
  return 1
}

# The one message a peer without an engine gets: it still routes, votes and serves.
explain_missing_engine() {
  local reason="$*"
  warn "no Docker engine is reachable ($reason)." \
    "This peer will route, vote and serve, but it will not run jobs." \
    "To fix: install Docker and start it (Docker Desktop on macOS and Windows)," \
    "or run 'sudo bash scripts/setup.sh' once on Linux to install and start it," \
    "or set DOCKER_HOST to a reachable engine."
}

# Makes sure an engine answers. Returns 1 (after one clear message) when there is none
# and we may not start one; installing docker.io is install_system_packages's job.
ensure_docker_engine() {
  if engine_reachable; then
    log "Docker engine reachable"
    return 0
  fi
  if [[ -n ${DOCKER_HOST:-} ]]; then
    explain_missing_engine "DOCKER_HOST=$DOCKER_HOST does not answer"
    return 1
  fi
  if ! is_linux; then
    explain_missing_engine "no engine running on $(uname -s)"
    return 1
  fi
  if [[ -S /var/run/docker.sock && ! -w /var/run/docker.sock ]]; then
    explain_missing_engine "user $(id -un) may not use /var/run/docker.sock; add the user" \
      "to the docker group and log in again"
    return 1
  fi
  if ! is_root; then
    explain_missing_engine "not running as root, so setup cannot start dockerd"
    return 1
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    explain_missing_engine "dockerd is not installed"
    return 1
  fi
  start_dockerd || {
    explain_missing_engine "dockerd did not start; see $DOCKERD_LOG"
    return 1
  }
}

# Removes containers a Grid-X executor left behind (they carry the gridx.managed label).
remove_managed_containers() {
  local ids
  ids=$(timeout 20 docker ps -aq --filter label=gridx.managed=true 2>/dev/null) || return 0
  [[ -n $ids ]] || return 0
  log "removing $(wc -w <<<"$ids") leftover Grid-X containers"
  # shellcheck disable=SC2086 # one argument per container id
  timeout 60 docker rm -f $ids >/dev/null 2>&1 || warn "could not remove containers: $ids"
}

# Children of a process, read from /proc so that procps need not be installed.
child_pids() {
  local parent=$1 stat_file stat ppid
  for stat_file in /proc/[0-9]*/stat; do
    { read -r stat <"$stat_file"; } 2>/dev/null || continue
    stat=${stat##*) }
    read -r _ ppid _ <<<"$stat"
    [[ $ppid == "$parent" ]] && basename "$(dirname "$stat_file")"
  done
  return 0
}

# Stops the dockerd our pidfile names, if any: first the Grid-X containers, then SIGTERM,
# then SIGKILL (also to its containerd) if it has not stopped within the bound.
stop_owned_dockerd() {
  local pid children waited=0
  pid=$(owned_dockerd_pid) || {
    rm -f "$DOCKERD_PIDFILE"
    return 0
  }
  engine_reachable && remove_managed_containers
  children=$(child_pids "$pid")
  log "stopping dockerd (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((waited < DOCKERD_STOP_TIMEOUT_S * 2)); do
    sleep 0.5
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "dockerd did not stop within ${DOCKERD_STOP_TIMEOUT_S} s; killing it"
    # shellcheck disable=SC2086 # one argument per pid
    kill -KILL "$pid" $children 2>/dev/null || true
  fi
  rm -f "$DOCKERD_PIDFILE"
}
