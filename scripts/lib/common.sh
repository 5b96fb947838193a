# shellcheck shell=bash
# Helpers shared by scripts/*.sh and .ci/run: progress lines, timing, state paths and
# installing Debian packages. Sourced, never run; callers set `set -euo pipefail`.

# Where setup keeps its state (dockerd pid and log, verification stamps, build scratch).
# CI points this at a temporary directory so a run never depends on $HOME.
GRIDX_STATE_DIR="${GRIDX_STATE_DIR:-$HOME/.gridx}"
# Downloaded .debs survive between runs here, so a rebuild downloads nothing.
GRIDX_CACHE_DIR="${GRIDX_CACHE_DIR:-$GRIDX_STATE_DIR/cache}"
# The tag in front of every progress line: `setup`, `ci`, ...
GRIDX_LOG_TAG="${GRIDX_LOG_TAG:-setup}"

# Progress goes to stderr so that stdout stays free for a caller's data.
log() { printf '[%s] %s\n' "$GRIDX_LOG_TAG" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "$GRIDX_LOG_TAG" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "$GRIDX_LOG_TAG" "$*" >&2
  exit 1
}

# Milliseconds since the epoch, without forking `date` (EPOCHREALTIME is bash 5; its
# decimal separator follows the locale, hence both characters are stripped).
now_ms() {
  local micros="${EPOCHREALTIME//[.,]/}"
  printf '%s\n' "$((micros / 1000))"
}

# Seconds elapsed since a now_ms value, one decimal: "12.3 s".
since() {
  local ms=$(($(now_ms) - $1))
  printf '%d.%d s\n' "$((ms / 1000))" "$((ms % 1000 / 100))"
}

is_root() { [[ $(id -u) -eq 0 ]]; }
is_linux() { [[ $(uname -s) == Linux ]]; }

# Prints the last lines of a log file after a failure, so CI output shows the cause.
show_log_tail() {
  local file=$1 lines=${2:-30}
  [[ -f $file ]] || return 0
  log "last $lines lines of $file:"
  tail -n "$lines" "$file" | sed 's/^/    /' >&2
}

APT_UPDATED=false

# Installs Debian packages with apt-get; the package index is refreshed once per process.
# Service starts are denied while installing (policy-rc.d) so that a package such as
# docker.io never starts a daemon behind our back: setup starts dockerd itself, with a
# pidfile CI can use to stop it.
apt_install() {
  local log_file="$GRIDX_STATE_DIR/apt.log" started policy=/usr/sbin/policy-rc.d
  local created_policy=false
  started=$(now_ms)
  export DEBIAN_FRONTEND=noninteractive
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# Written by Grid-X setup while it installs packages.\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=true
  fi
  log "installing Debian packages: $* (log: $log_file)"
  local status=0
  if [[ $APT_UPDATED == false ]]; then
    apt-get -o DPkg::Lock::Timeout=300 update </dev/null >>"$log_file" 2>&1 || status=$?
    [[ $status -eq 0 ]] && APT_UPDATED=true
  fi
  if [[ $status -eq 0 ]]; then
    apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "$@" \
      </dev/null >>"$log_file" 2>&1 || status=$?
  fi
  if [[ $created_policy == true ]]; then rm -f "$policy"; fi
  if [[ $status -ne 0 ]]; then
    show_log_tail "$log_file"
    die "apt-get failed to install: $*"
  fi
  log "installed $* in $(since "$started")"
}
