#!/usr/bin/env bash
# Runs every test of the workspace: formatting, then the unit and integration tests.
# One profile (dev, with optimized dependencies) serves tests, the CLI and the demo, so Polars
# and DuckDB compile once; the target dir lives outside the clone so fresh clones reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/polder/target}"
# Always --workspace: `cargo test -p CRATE` unifies features over fewer crates, which changes
# Polars' dependency features and rebuilds it.
cargo fmt --all --check
cargo test --workspace "$@"
