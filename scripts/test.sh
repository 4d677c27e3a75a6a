#!/usr/bin/env bash
# Runs every test of the project: Rust formatting and tests, then the UI's type check, lint, unit tests,
# build, the browser test (Debian's Chromium driven by playwright-core against polder serve) and
# the desktop app's test (the Tauri binary under Xvfb, driven by tauri-driver + WebKitWebDriver).
# One profile (dev, with optimized dependencies) serves tests, the CLI and the demo, so Polars
# and DuckDB compile once; the target dir lives outside the clone so fresh clones reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/polder/target}"
# Always --workspace: `cargo test -p CRATE` unifies features over fewer crates, which changes
# Polars' dependency features and rebuilds it.
cargo fmt --all --check
cargo test --workspace "$@"

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run typecheck
npm run lint
npm test
npm run build
node tests/e2e/main.mjs
tests/desktop/session.sh node tests/desktop/main.mjs
# The desktop package (npm run build:app, here from the test profile's build): a .deb holding
# the app and the web UI it serves.
scripts/app.sh package --debug >/dev/null
deb="$CARGO_TARGET_DIR/debug/bundle/deb/Polder_0.1.0_amd64.deb"
listing=$(dpkg-deb -c "$deb")
for f in usr/bin/polder-app usr/lib/Polder/ui/index.html usr/share/applications/Polder.desktop; do
    grep -qE " \.?/?$f\$" <<<"$listing" || { echo "$deb lacks $f" >&2; exit 1; }
done
echo "desktop package ok: $deb"
