# shellcheck shell=bash
# The runtime images gridx/runtime-{bash,python,node,python-torch}: versioned by the hash of
# their recipe, reused when that version exists, otherwise built from Debian packages with
# scripts/images/build-rootfs.sh, and checked by running them as the executor would.
# Needs common.sh, apt-mirror.sh and docker-engine.sh (for ENGINE_ID).

IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../images" && pwd)"
readonly IMAGES_DIR
# Built in this order: bash first, as it is the quickest and the engine check needs it;
# python-torch last, as it is the largest and the others do not wait for it.
readonly RUNTIME_IMAGES=(bash python node python-torch)
# Images whose build or check may fail without failing setup (outside --ci): the executor
# offers their runtime only where the image exists (protocol's OPTIONAL_RUNTIMES). Debian
# builds torch for few architectures, and its image is over a gigabyte.
readonly OPTIONAL_RUNTIME_IMAGES=(python-torch)
readonly IMAGE_REPOSITORY_PREFIX=gridx/runtime-
# Built images and their build times, for the summary line.
BUILT_IMAGES=()
# Which images this run makes present: all of them (the default); "required" ones only,
# leaving a missing optional image to a build in the background (`npm start`: a peer starts
# without waiting minutes for torch, and offers it once built); or "optional" ones only (that
# background build).
IMAGES_SCOPE=${IMAGES_SCOPE:-all}
# The optional images a "required" run left missing.
DEFERRED_IMAGES=()

is_optional_image() {
  local optional
  for optional in "${OPTIONAL_RUNTIME_IMAGES[@]}"; do [[ $1 == "$optional" ]] && return 0; done
  return 1
}

# Ends setup for a required image; for an optional one warns and returns 1, so the caller
# goes on without that runtime.
image_failed() {
  local name=$1
  shift
  is_optional_image "$name" || die "$@"
  warn "$*; jobs for $name will not run on this peer (the other runtimes are unaffected)"
  return 1
}

# Prints the image's version: the first 12 hex digits of the sha-256 over its recipe, which
# is the scripts/images files that decide its content. Any edit there gives a new version.
recipe_hash() {
  local name=$1 dir=${2:-$IMAGES_DIR} file
  for file in build-rootfs.sh import-changes.txt "$name.packages" "$name.prune"; do
    [[ -f $dir/$file ]] || continue
    printf '==> %s\n' "$file"
    cat "$dir/$file"
  done | sha256sum | cut -c1-12
}

# Fills the associative array named by $1 with "repository:tag" -> image id for every
# runtime image present, in one call to the engine (setup's second run must be fast).
list_runtime_images() {
  local -n found=$1
  local ref id
  while read -r ref id; do
    # shellcheck disable=SC2034 # found is the caller's array, through the nameref
    [[ -n $ref ]] && found["$ref"]=$id
  done < <(docker images --no-trunc --filter "reference=${IMAGE_REPOSITORY_PREFIX}*" \
    --format '{{.Repository}}:{{.Tag}} {{.ID}}')
}

# Unmounts whatever a killed debootstrap left mounted inside a root filesystem (proc, sys)
# before deleting it, so that rm never walks into the host's /proc or /sys.
remove_rootfs() {
  local dir=$1
  [[ -e $dir ]] || return 0
  awk -v dir="$dir" '$2 == dir || index($2, dir "/") == 1 { print $2 }' /proc/mounts |
    sort -r | while read -r mount_point; do umount -l "$mount_point" || true; done
  rm -rf --one-file-system "$dir"
}

# Shows the phases of a debootstrap run as progress lines and keeps every line in the log,
# each with the seconds since the build started (where a slow build spends its time).
show_build_progress() {
  local name=$1 log_file=$2 started=$3 line micros elapsed
  while IFS= read -r line; do
    micros=${EPOCHREALTIME//[.,]/}
    elapsed=$(((micros / 1000 - started) / 100))
    elapsed="$((elapsed / 10)).$((elapsed % 10))"
    printf '%6s %s\n' "$elapsed" "$line" >>"$log_file"
    case $line in
      "I: Resolving dependencies of base"* | "I: Installing core"* | \
        "I: Unpacking the base"* | "I: Configuring the base"* | "I: Pruning"* | \
        "I: Base system installed"* | E:* | W:*)
        log "  $name: ${line#?: } (at $elapsed s)"
        ;;
    esac
  done
}

# Imports a root filesystem as a single-layer image, tagged with its version and latest.
import_rootfs() {
  local name=$1 hash=$2 rootfs=$3 line changes=()
  while IFS= read -r line; do
    [[ -z $line || $line == '#'* ]] && continue
    changes+=(--change "$line")
  done <"$IMAGES_DIR/import-changes.txt"
  changes+=(--change "LABEL gridx.runtime=$name" --change "LABEL gridx.recipe=$hash")
  tar --numeric-owner -C "$rootfs" -c . |
    docker import "${changes[@]}" --message "Grid-X runtime $name, recipe $hash" - \
      "$IMAGE_REPOSITORY_PREFIX$name:$hash" >/dev/null
  docker tag "$IMAGE_REPOSITORY_PREFIX$name:$hash" "$IMAGE_REPOSITORY_PREFIX$name:latest"
}

# How many versions of each runtime image are kept. Checkouts at different commits (a
# fresh clone next to a working tree) may need different versions at the same time; each
# finds its own instead of rebuilding it after the other removed it.
readonly IMAGE_VERSIONS_KEPT=3

# Removes all but the newest versions of an image (`docker images` lists newest first).
# The current version, and one a container still uses, stay.
remove_old_versions() {
  local name=$1 hash=$2 ref kept=1
  while read -r ref; do
    [[ $ref == *":$hash" || $ref == *:latest ]] && continue
    if ((kept < IMAGE_VERSIONS_KEPT)); then
      kept=$((kept + 1))
      continue
    fi
    docker rmi "$ref" >/dev/null 2>&1 && log "  $name: removed old version $ref"
  done < <(docker images --format '{{.Repository}}:{{.Tag}}' "$IMAGE_REPOSITORY_PREFIX$name")
  return 0
}

# Builds one runtime image from Debian packages. The root filesystem lives under the state
# dir only while it is built and imported.
build_runtime_image() {
  local name=$1 hash=$2 mirror=$3 started build_dir rootfs log_file status=0
  started=$(now_ms)
  build_dir="$GRIDX_STATE_DIR/build"
  rootfs="$build_dir/$name-rootfs"
  log_file="$build_dir/$name.log"
  mkdir -p "$build_dir" "$GRIDX_CACHE_DIR/debs"
  remove_rootfs "$rootfs"
  : >"$log_file"
  log "building $IMAGE_REPOSITORY_PREFIX$name:$hash from Debian packages (log: $log_file)"
  bash "$IMAGES_DIR/build-rootfs.sh" "$name" "$rootfs" "$mirror" "$GRIDX_CACHE_DIR/debs" \
    2>&1 </dev/null | show_build_progress "$name" "$log_file" "$started" || status=$?
  if [[ $status -ne 0 ]]; then
    show_log_tail "$log_file"
    remove_rootfs "$rootfs"
    image_failed "$name" "building the root filesystem of $name failed" || return 1
  fi
  log "  $name: importing into the engine (at $(since "$started"))"
  import_rootfs "$name" "$hash" "$rootfs"
  remove_rootfs "$rootfs"
  remove_old_versions "$name" "$hash"
  local took size
  took=$(since "$started")
  size=$(image_size_mb "$IMAGE_REPOSITORY_PREFIX$name:$hash")
  log "built $IMAGE_REPOSITORY_PREFIX$name:$hash in $took ($size)"
  BUILT_IMAGES+=("$name $took $size")
}

image_size_mb() {
  local bytes
  bytes=$(docker image inspect -f '{{.Size}}' "$1")
  printf '%d MB\n' "$((bytes / 1000000))"
}

# The hardening flags the executor uses (DESIGN section 5), so a check proves the image
# runs the way jobs will: no network, read-only, no capabilities, not root.
readonly JOB_LIKE_RUN_FLAGS=(--rm --network none --read-only --tmpfs /tmp:size=64m
  --cap-drop ALL --security-opt no-new-privileges --user 65534:65534)

# The command that proves an image works, printing `ok`.
image_check_command() {
  case $1 in
    bash) printf '%s\0' bash -c 'echo ok' ;;
    node) printf '%s\0' node -e "console.log('ok')" ;;
    python)
      printf '%s\0' python3 -c "import numpy, sklearn
from sklearn.datasets import load_iris
assert load_iris().data.shape == (150, 4)
print('ok')"
      ;;
    # A state_dict saved and loaded as training jobs do, after one step of gradient descent.
    python-torch)
      printf '%s\0' python3 -c "import io, numpy, sklearn, torch
model = torch.nn.Linear(4, 2)
model(torch.ones(3, 4)).sum().backward()
buffer = io.BytesIO()
torch.save(model.state_dict(), buffer)
buffer.seek(0)
assert sorted(torch.load(buffer, weights_only=True)) == ['bias', 'weight']
print('ok')"
      ;;
    *) die "no check for runtime image $1" ;;
  esac
}

# Runs an image's check once per image id (the stamp lives in the state dir).
verify_runtime_image() {
  local name=$1 id=$2 stamp="$GRIDX_STATE_DIR/verified/$1" output started command=()
  [[ -f $stamp && $(<"$stamp") == "$id" ]] && return 0
  started=$(now_ms)
  mapfile -d '' -t command < <(image_check_command "$name")
  output=$(docker run "${JOB_LIKE_RUN_FLAGS[@]}" --memory 512m --memory-swap 512m \
    --pids-limit 64 "$IMAGE_REPOSITORY_PREFIX$name:latest" "${command[@]}" \
    2>"$GRIDX_STATE_DIR/check.err") || true
  if [[ $output != ok ]]; then
    show_log_tail "$GRIDX_STATE_DIR/check.err" 20
    image_failed "$name" "runtime image $name does not work: its check printed '$output'" ||
      return 1
  fi
  mkdir -p "$(dirname "$stamp")"
  printf '%s\n' "$id" >"$stamp"
  log "checked $IMAGE_REPOSITORY_PREFIX$name ($(since "$started"))"
}

# Proves the engine enforces the limits the executor relies on: the memory and pids limits
# reach the container's cgroup, and going over the memory limit kills the process (exit
# 137) rather than letting it grow. Runs once per engine and bash image.
verify_engine_limits() {
  local bash_id=$1 stamp="$GRIDX_STATE_DIR/verified/engine" started output status=0
  [[ -f $stamp && $(<"$stamp") == "$ENGINE_ID $bash_id" ]] && return 0
  started=$(now_ms)
  local limits=(--memory 64m --memory-swap 64m --pids-limit 32)
  output=$(docker run "${JOB_LIKE_RUN_FLAGS[@]}" "${limits[@]}" \
    "${IMAGE_REPOSITORY_PREFIX}bash:latest" bash -c '
      cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max
      cat /sys/fs/cgroup/memory.max 2>/dev/null ||
        cat /sys/fs/cgroup/memory/memory.limit_in_bytes' 2>"$GRIDX_STATE_DIR/check.err") || true
  if [[ $output != $'32\n67108864' ]]; then
    show_log_tail "$GRIDX_STATE_DIR/check.err" 20
    die "the engine does not apply --pids-limit 32 --memory 64m; the container saw: $output"
  fi
  # tail keeps a line that never ends in memory: 256 MiB of zeros must hit the 64 MiB limit.
  docker run "${JOB_LIKE_RUN_FLAGS[@]}" "${limits[@]}" "${IMAGE_REPOSITORY_PREFIX}bash:latest" \
    bash -c 'head -c 268435456 /dev/zero | tail >/dev/null' >/dev/null 2>&1 || status=$?
  if [[ $status -ne 137 ]]; then
    die "the engine did not kill a container over its memory limit (exit $status, not 137)"
  fi
  mkdir -p "$(dirname "$stamp")"
  printf '%s\n' "$ENGINE_ID $bash_id" >"$stamp"
  log "checked the engine's memory and pids limits ($(since "$started"))"
}

# Where a failed build of an optional image is remembered, by its recipe version, so that the
# next runs skip it instead of spending minutes failing again. A new recipe tries again.
failed_build_stamp() {
  printf '%s\n' "$GRIDX_STATE_DIR/build/$1.failed"
}

# Holds (until this setup exits) the lock of an optional image's build, waiting for another
# setup that is building it: a test run started while `npm start` builds torch in the
# background waits for that build instead of running a second one beside it.
lock_image_build() {
  local name=$1 lock
  lock="$GRIDX_STATE_DIR/build/$name.lock"
  mkdir -p "$(dirname "$lock")"
  exec 8>>"$lock"
  IMAGE_LOCK_WAITED=false
  if ! flock -n 8; then
    log "another setup is building the $name image; waiting for it" \
      "(log: $GRIDX_STATE_DIR/build/$name.log)"
    flock 8
    IMAGE_LOCK_WAITED=true
  fi
}

# Makes one runtime image present in its current version and checked; `present` is the array
# list_runtime_images filled. Returns 1 (after a message) when the image is missing and cannot
# be had here; a required image that fails to build or check ends setup.
ensure_runtime_image() {
  local name=$1 hash tag id mirror stamp
  local -n images_present=$2
  hash=$(recipe_hash "$name")
  tag="$IMAGE_REPOSITORY_PREFIX$name:$hash"
  id=${images_present[$tag]:-}
  if [[ -z $id ]] && is_optional_image "$name"; then
    lock_image_build "$name"
    # Built meanwhile by the setup that held the lock.
    if [[ $IMAGE_LOCK_WAITED == true ]]; then
      id=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null) || id=''
    fi
  fi
  if [[ -z $id ]]; then
    if ! is_root || ! command -v debootstrap >/dev/null 2>&1; then
      warn "runtime image $tag is missing and building it needs root and debootstrap;" \
        "run 'sudo bash scripts/setup.sh' once. Jobs for $name will fail until then."
      return 1
    fi
    stamp=$(failed_build_stamp "$name")
    if [[ -f $stamp && $(<"$stamp") == "$hash" ]]; then
      warn "runtime image $tag did not build last time (log: $GRIDX_STATE_DIR/build/$name.log);" \
        "delete $stamp to try again. Jobs for $name will not run on this peer."
      return 1
    fi
    mirror=$(debian_mirror_url) ||
      die "no Debian archive found in /etc/apt; set GRIDX_DEBIAN_MIRROR to one"
    build_runtime_image "$name" "$hash" "$mirror" || {
      mkdir -p "$(dirname "$stamp")"
      printf '%s\n' "$hash" >"$stamp"
      return 1
    }
    id=$(docker image inspect -f '{{.Id}}' "$tag")
  elif [[ ${images_present[$IMAGE_REPOSITORY_PREFIX$name:latest]:-} != "$id" ]]; then
    docker tag "$tag" "$IMAGE_REPOSITORY_PREFIX$name:latest"
  fi
  verify_runtime_image "$name" "$id" || return 1
  if [[ $name == bash ]]; then verify_engine_limits "$id"; fi
}

# Makes every runtime image present in its current version, building what is missing.
# Returns 1 (after a message) when an image is missing and cannot be built here: at once for
# a required one, after the others for an optional one.
ensure_runtime_images() {
  local -A present=()
  local name tag ready=() status=0
  list_runtime_images present
  for name in "${RUNTIME_IMAGES[@]}"; do
    if is_optional_image "$name"; then
      tag="$IMAGE_REPOSITORY_PREFIX$name:$(recipe_hash "$name")"
      if [[ $IMAGES_SCOPE == required && -z ${present[$tag]:-} ]]; then
        DEFERRED_IMAGES+=("$name")
        continue
      fi
    elif [[ $IMAGES_SCOPE == optional ]]; then
      continue
    fi
    if ensure_runtime_image "$name" present; then
      ready+=("$name")
    elif is_optional_image "$name"; then
      status=1
    else
      return 1
    fi
  done
  log "runtime images ready: ${ready[*]:-none}"
  if [[ ${#DEFERRED_IMAGES[@]} -gt 0 ]]; then
    log "runtime images left to build in the background: ${DEFERRED_IMAGES[*]}"
  fi
  return "$status"
}
