#!/usr/bin/env bash
# What `npm start` runs: prepare the machine (the first run installs the Docker engine and
# builds the runtime images; later runs take about a second), then start the daemon.
# Chromium and promtool are left out: only the tests need them, not a running peer.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
# shellcheck source=scripts/lib/common.sh
source "$REPO_DIR/scripts/lib/common.sh"

bash "$REPO_DIR/scripts/setup.sh" --no-browser --no-promtool --optional-images later
# An optional image (python-torch: over a gigabyte, minutes to build) is built in the
# background, detached from this terminal and logged to a file, so the peer starts now; the
# daemon looks for missing images every 10 seconds and offers python-torch once it is built.
# The build goes on if the daemon stops, and a later start does not begin a second one.
deferred="$GRIDX_STATE_DIR/build/deferred"
if [[ -s $deferred ]]; then
  build_log="$GRIDX_STATE_DIR/build/optional-images.log"
  log "building $(paste -sd' ' "$deferred") in the background (log: $build_log);" \
    "this peer offers it once it is built"
  setsid bash "$REPO_DIR/scripts/setup.sh" --optional-images only </dev/null >>"$build_log" 2>&1 &
fi
cd "$REPO_DIR"
exec node bin/gridx.js start "$@"
