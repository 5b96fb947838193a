#!/usr/bin/env bash
# What `npm test` runs: prepare the machine, then the full check (typecheck, lint, format,
# tests). In CI, a missing Docker engine or runtime image is a failure, not a skip.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR

setup_flags=()
if [[ ${CI:-} == true ]]; then
  setup_flags+=(--ci)
  # Tests that need the engine fail instead of skipping when it is absent.
  export GRIDX_REQUIRE_DOCKER=1
fi

bash "$REPO_DIR/scripts/setup.sh" "${setup_flags[@]}"
cd "$REPO_DIR"
npm run check
