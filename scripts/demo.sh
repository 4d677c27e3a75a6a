#!/usr/bin/env bash
# Runs Polder's main job on its embedded defaults: generates 1M rows of viewing logs (once), runs
# examples/medallion with the workspace in this folder (.polder/: SQLite metadata, local
# artifacts) and prints the gold table. Shares the build with scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/polder/target}"
cargo run -q -p polder-cli -- demo "$@"
