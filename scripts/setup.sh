#!/usr/bin/env bash
# Prepares this machine to run and test Grid-X: the Docker engine, the runtime images,
# Chromium for the browser tests, promtool for the metrics tests, zsh for the completion tests,
# the npm dependencies and the web build. Idempotent: a
# step whose result is already there costs a check, so a second run takes about a second.
# `npm start` and `npm test` run it first; CI runs it with --ci.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
# shellcheck source=scripts/lib/common.sh
source "$REPO_DIR/scripts/lib/common.sh"
# shellcheck source=scripts/lib/apt-mirror.sh
source "$REPO_DIR/scripts/lib/apt-mirror.sh"
# shellcheck source=scripts/lib/docker-engine.sh
source "$REPO_DIR/scripts/lib/docker-engine.sh"
# shellcheck source=scripts/lib/images.sh
source "$REPO_DIR/scripts/lib/images.sh"

# Another setup run (npm start and npm test at once, or another checkout) may be starting
# the engine or building images: wait for it rather than doing the same work twice. One
# lock per user: a user's lock file would be out of another user's reach.
LOCK_FILE="${TMPDIR:-/tmp}/gridx-setup.$(id -u).lock"
readonly LOCK_FILE
readonly LOCK_TIMEOUT_S=1800

CI_MODE=false
WANT_IMAGES=true
WANT_BROWSER=true
WANT_PROMTOOL=true

usage() {
  cat <<EOF
Usage: bash scripts/setup.sh [--ci] [--no-images] [--no-browser] [--no-promtool]
                             [--optional-images later|only] [--help]

Prepares this machine for Grid-X; safe to run again, fast when nothing is left to do.

  --ci          fail (exit 1) when the Docker engine or a runtime image is unavailable,
                instead of warning that this peer will not run jobs
  --no-images   do not build or check the runtime images
  --no-browser  do not install Chromium (only the browser tests need it)
  --no-promtool do not install promtool (Debian's prometheus package; only the tests
                that lint or scrape /metrics need it)
  --optional-images later
                leave a missing optional image (python-torch, over a gigabyte) unbuilt and
                write its name to \$GRIDX_STATE_DIR/build/deferred (what \`npm start\`
                uses, before building it in the background)
  --optional-images only
                build and check only the optional images (that background build)
  --help        show this help

Environment:
  GRIDX_STATE_DIR      state: dockerd pid and log, build logs (default: \$HOME/.gridx)
  GRIDX_CACHE_DIR      downloaded .deb cache (default: \$GRIDX_STATE_DIR/cache)
  GRIDX_DEBIAN_MIRROR  Debian archive for image builds (default: the one apt uses)
  DOCKER_HOST          use this engine instead of the local one
EOF
}

parse_args() {
  while [[ $# -gt 0 ]]; do
    case $1 in
      --ci) CI_MODE=true ;;
      --no-images) WANT_IMAGES=false ;;
      --no-browser) WANT_BROWSER=false ;;
      --no-promtool) WANT_PROMTOOL=false ;;
      --optional-images)
        case ${2:-} in
          later) IMAGES_SCOPE=required ;;
          only) IMAGES_SCOPE=optional ;;
          *)
            usage >&2
            die "--optional-images takes later or only, not '${2:-}'"
            ;;
        esac
        shift
        ;;
      --help | -h)
        usage
        exit 0
        ;;
      *)
        usage >&2
        die "unknown argument: $1"
        ;;
    esac
    shift
  done
}

take_lock() {
  mkdir -p "$GRIDX_STATE_DIR"
  exec 9>>"$LOCK_FILE"
  if ! flock -n 9; then
    log "another setup is running; waiting for it (at most ${LOCK_TIMEOUT_S} s)"
    flock -w "$LOCK_TIMEOUT_S" 9 || die "gave up waiting for $LOCK_FILE"
  fi
}

# A missing engine or image is fatal in CI. Elsewhere the step has already said what is
# missing and how to fix it, once, and setup goes on: a peer without Docker still routes,
# votes and serves.
fail_in_ci() {
  if [[ $CI_MODE == true ]]; then die "$1 (required with --ci)"; fi
}

# Collects what the enabled steps need from Debian and installs it with one apt-get run.
install_system_packages() {
  local missing=()
  if ! engine_reachable && ! command -v dockerd >/dev/null 2>&1 && [[ -z ${DOCKER_HOST:-} ]]; then
    missing+=(docker.io)
  fi
  if [[ $WANT_IMAGES == true ]] && ! command -v debootstrap >/dev/null 2>&1; then
    missing+=(debootstrap)
  fi
  if [[ $WANT_BROWSER == true && ! -x /usr/bin/chromium ]]; then missing+=(chromium); fi
  # promtool, the linter Prometheus users run on a scrape, checks the daemon's /metrics in the
  # tests. Debian ships it in the server's package (a test runs that server too, on loopback);
  # apt_install keeps the system's instance of it from starting.
  if [[ $WANT_PROMTOOL == true ]] && ! command -v promtool >/dev/null 2>&1; then
    missing+=(prometheus)
  fi
  # zsh runs the completion tests of `gridx completion zsh` in the real shell.
  if ! command -v zsh >/dev/null 2>&1; then missing+=(zsh); fi
  # iproute2 (`ip`) is part of the machine the project is developed on; a fresh CI machine
  # gets it too, so tests and scripts may rely on it.
  if ! command -v ip >/dev/null 2>&1; then missing+=(iproute2); fi
  [[ ${#missing[@]} -gt 0 ]] || return 0
  if ! is_linux || ! is_root || ! command -v apt-get >/dev/null 2>&1; then
    warn "missing: ${missing[*]}. Install them with your package manager" \
      "(on Debian: sudo apt-get install ${missing[*]}), or run this setup as root."
    return 0
  fi
  apt_install "${missing[@]}"
}

ensure_engine_and_images() {
  if ! ensure_docker_engine; then
    fail_in_ci "no Docker engine"
    return 0
  fi
  [[ $WANT_IMAGES == true ]] || return 0
  ensure_runtime_images || fail_in_ci "runtime images missing"
}

# npm install (not npm ci: it fails here) when node_modules is missing or older than the
# lockfile. npm writes node_modules/.package-lock.json on every install; touching it after
# makes sure it ends up newer than a package-lock.json the same install rewrote.
ensure_node_dependencies() {
  cd "$REPO_DIR"
  if [[ ! -f package.json ]]; then
    warn "no package.json; skipping npm install"
    return 0
  fi
  command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js 20.19 or newer"
  local marker=node_modules/.package-lock.json
  if [[ -f $marker && ! package-lock.json -nt $marker ]]; then return 0; fi
  local started
  started=$(now_ms)
  log "installing npm dependencies"
  npm install --no-audit --no-fund </dev/null >&2
  if [[ -f $marker ]]; then touch "$marker"; fi
  log "installed npm dependencies in $(since "$started")"
}

# The web app's build output is served by the daemon; build it when it is missing or older
# than its sources (after a pull, say).
ensure_web_build() {
  cd "$REPO_DIR"
  [[ -f package.json ]] || return 0
  if [[ -f dist/pwa/index.html ]]; then
    [[ -n $(find pwa protocol package-lock.json -newer dist/pwa/index.html -type f \
      -print -quit 2>/dev/null) ]] || return 0
  fi
  node -e 'process.exit(require("./package.json").scripts?.build ? 0 : 1)' || return 0
  local started
  started=$(now_ms)
  log "building the web app"
  npm run build </dev/null >&2
  log "built the web app in $(since "$started")"
}

# The daemon and CLI run as JavaScript built into dist/node; build it when it is missing or
# is not the sources as they are now (bin/build-state.js, the check every gridx call makes).
ensure_node_build() {
  cd "$REPO_DIR"
  [[ -f bin/build-state.js && -d node_modules ]] || return 0
  node --input-type=module -e \
    'import { staleReason } from "./bin/build-state.js"
     process.exit(staleReason(process.cwd()) === undefined ? 0 : 1)' && return 0
  local started
  started=$(now_ms)
  log "building the daemon and CLI"
  npx tsx scripts/build-node.ts </dev/null >&2
  log "built the daemon and CLI in $(since "$started")"
}

# The background build of the optional images: the foreground setup did the rest, and this
# one holds only the image's own lock, so a restart of the daemon meanwhile does not wait.
optional_images_only() {
  local started
  started=$(now_ms)
  ensure_docker_engine || die "no Docker engine"
  ensure_runtime_images || die "an optional runtime image could not be built"
  log "optional images ready in $(since "$started")"
}

main() {
  parse_args "$@"
  if [[ $IMAGES_SCOPE == optional ]]; then
    optional_images_only
    return
  fi
  local started
  started=$(now_ms)
  take_lock
  install_system_packages
  ensure_engine_and_images
  ensure_node_dependencies
  ensure_web_build
  ensure_node_build
  if [[ $IMAGES_SCOPE == required ]]; then
    mkdir -p "$GRIDX_STATE_DIR/build"
    printf '%s\n' "${DEFERRED_IMAGES[@]+"${DEFERRED_IMAGES[@]}"}" | sed '/^$/d' \
      >"$GRIDX_STATE_DIR/build/deferred"
  fi
  local built name took unit size size_unit
  for built in "${BUILT_IMAGES[@]}"; do
    read -r name took unit size size_unit <<<"$built"
    log "  image $name: built in $took $unit, $size $size_unit"
  done
  log "ready in $(since "$started")"
}

main "$@"
