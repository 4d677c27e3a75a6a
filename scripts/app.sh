#!/usr/bin/env bash
# The desktop app from the source tree.
#   scripts/app.sh [APP ARGS]        build the UI and the workspace, start the app (the last
#                                    workspace, else pipelines/, or --workspace DIR) = npm run app
#   scripts/app.sh package [--debug] a .deb of the app with the UI inside        = npm run build:app
#                                    (release profile; --debug packs the test profile's build)
# Needs the system packages listed in README.md (WebKitGTK 4.1 and friends).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/polder/target}"
[ -d node_modules ] || npm ci --no-audit --no-fund

if [ "${1:-}" = package ]; then
    shift
    profile=release cargo_flags=(--release) bundle_flags=()
    if [ "${1:-}" = --debug ]; then profile=debug cargo_flags=() bundle_flags=(--debug); fi
    # POLDER_UI_BUILT=1: the caller just built it (a rebuild would look new to cargo and
    # recompile the runner, which embeds it).
    [ "${POLDER_UI_BUILT:-}" = 1 ] || npm run build
    # Built here with --workspace (one feature set, as everywhere); Tauri only bundles it. The
    # deb bundler needs no network (the AppImage one downloads its tools from GitHub).
    cargo build --workspace --bins "${cargo_flags[@]}"
    # Pinned and fetched on demand: the npm registry mirror lacks the CLI's packages for other
    # platforms, so it cannot be in package-lock.json (`npm ci` would insist on them).
    npx --yes @tauri-apps/cli@2.12.5 bundle --bundles deb --config src-tauri/tauri.bundle.json "${bundle_flags[@]}"
    ls -1 "$CARGO_TARGET_DIR/$profile/bundle/deb/"*.deb
    exit 0
fi

npm run build
# --workspace: the same feature set as the tests, so Polars is not built a second time.
cargo build --workspace --bins
# Without --workspace the app reopens the last workspace, else ./pipelines.
exec "$CARGO_TARGET_DIR/debug/polder-app" --ui-dir ui/dist "$@"
