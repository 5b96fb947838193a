#!/usr/bin/env bash
# What `npm start` runs: prepare the machine (the first run installs the Docker engine and
# builds the runtime images; later runs take about a second), then start the daemon.
# Chromium and promtool are left out: only the tests need them, not a running peer.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR

bash "$REPO_DIR/scripts/setup.sh" --no-browser --no-promtool
cd "$REPO_DIR"
exec node bin/gridx.js start "$@"
