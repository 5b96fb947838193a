#!/usr/bin/env bash
# Builds the root filesystem of one Grid-X runtime image from Debian packages, with
# debootstrap, so that images build on a machine that reaches no container registry.
#
#   build-rootfs.sh <name> <target-dir> <mirror-url> <deb-cache-dir>
#
# Reads <name>.packages (installed) and <name>.prune (purged afterwards, if present) next to
# this file. This file, those lists and import-changes.txt make up the image's recipe: the
# recipe's hash is the image's version, so editing any of them rebuilds the image.
# debootstrap's output goes to stdout; the caller logs it.
set -euo pipefail

# The Debian release every runtime image is made of.
readonly SUITE=bookworm
RECIPES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly RECIPES_DIR

# Prints the words of a recipe list: one package a line, `#` starts a comment.
read_list() {
  [[ -f $1 ]] || return 0
  sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1"
}

# dpkg configuration that lives in the target only while it is built: no fsync after each
# unpacked file. A build that crashes is thrown away anyway, and fsync made unpacking the
# python image's packages take twice as long (84 s instead of 39 s on a 2-core machine).
readonly BUILD_ONLY_DPKG_CFG=etc/dpkg/dpkg.cfg.d/gridx-build-unsafe-io

# debootstrap resolves the dependencies of --include itself and keeps every .deb it
# downloads in the cache directory, where the next build finds it (checked against the
# archive's hashes, so a stale file is downloaded again).
install_packages() {
  local name=$1 target=$2 mirror=$3 cache_dir=$4 include
  include=$(read_list "$RECIPES_DIR/$name.packages" | paste -sd, -)
  mkdir -p "$cache_dir" "$(dirname "$target/$BUILD_ONLY_DPKG_CFG")"
  echo force-unsafe-io >"$target/$BUILD_ONLY_DPKG_CFG"
  debootstrap --variant=minbase ${include:+"--include=$include"} \
    --cache-dir="$cache_dir" "$SUITE" "$target" "$mirror"
}

# Purges the packages listed in <name>.prune that are installed. --force-depends because
# the packages that pulled them in still declare the dependency; the image is a runtime,
# never upgraded with apt, and its check proves what it needs is still there.
prune_packages() {
  local name=$1 target=$2 wanted installed
  wanted=$(read_list "$RECIPES_DIR/$name.prune" | sort -u)
  [[ -n $wanted ]] || return 0
  # shellcheck disable=SC2016 # ${Package} is dpkg-query's format, not a shell expansion
  installed=$(chroot "$target" dpkg-query -W -f '${Package}\n' | sort -u)
  local prune=()
  mapfile -t prune < <(comm -12 <(printf '%s\n' "$wanted") <(printf '%s\n' "$installed"))
  [[ ${#prune[@]} -gt 0 ]] || return 0
  echo "I: Pruning ${#prune[@]} packages not needed at run time..."
  chroot "$target" env DEBIAN_FRONTEND=noninteractive \
    dpkg --purge --force-depends "${prune[@]}"
}

# Removes what a job never reads: package indexes and caches, documentation, translations,
# logs, and the test suites inside Python packages. Keeps Python's compiled bytecode: the
# root filesystem is read-only at run time, so imports could not cache it there.
strip_rootfs() {
  local target=$1 path
  for path in "$BUILD_ONLY_DPKG_CFG" var/cache/apt/ var/lib/apt/lists/ usr/share/doc/ \
    usr/share/man/ usr/share/info/ usr/share/locale/ usr/share/lintian/ var/log/ tmp/ \
    root/.cache/; do
    # A trailing slash empties the directory and keeps it; packages expect it to exist.
    if [[ $path == */ ]]; then
      find "${target:?}/$path" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null || true
    else
      rm -rf "${target:?}/$path"
    fi
  done
  rm -f "$target"/var/cache/debconf/*-old
  if [[ -d $target/usr/lib/python3/dist-packages ]]; then
    find "$target"/usr/lib/python3/dist-packages -type d -name tests -prune \
      -exec rm -rf {} +
  fi
  # The working directory of jobs; the executor mounts a tmpfs on it.
  mkdir -p "$target/work"
  chmod 1777 "$target/work"
}

main() {
  if [[ $# -ne 4 ]]; then
    echo "usage: $0 <name> <target-dir> <mirror-url> <deb-cache-dir>" >&2
    exit 2
  fi
  local name=$1 target=$2 mirror=$3 cache_dir=$4
  [[ -f $RECIPES_DIR/$name.packages ]] || {
    echo "no recipe $RECIPES_DIR/$name.packages" >&2
    exit 2
  }
  install_packages "$name" "$target" "$mirror" "$cache_dir"
  prune_packages "$name" "$target"
  strip_rootfs "$target"
}

main "$@"
