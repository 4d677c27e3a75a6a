#!/usr/bin/env bash
# Runs every test of the project: Rust formatting, the UI's type check, lint, unit tests and
# build, the Rust tests, the browser test (Debian's Chromium driven by playwright-core against
# polder serve) and the desktop app's test (the Tauri binary under Xvfb, driven by tauri-driver +
# WebKitWebDriver). First installs what they need (scripts/test-deps.sh: quick when all is there).
# One profile (dev, with optimized dependencies) and one feature set (crates/workspace-hack) serve
# tests, the CLI and the demo, so Polars and DuckDB compile once; the target dir lives outside the
# clone so fresh clones reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/polder/target}"
scripts/test-deps.sh
# The Node.js test-deps.sh installed from PyPI, when the system's was missing or too old.
if [ -x "$HOME/.cache/polder/node/bin/node" ]; then export PATH="$HOME/.cache/polder/node/bin:$PATH"; fi
# The TPC-H data generator test-deps.sh installed (the engine's TPC-H test fails without it).
export POLDER_TPCHGEN="$HOME/.cache/polder/tpch/bin/tpchgen-cli"
cargo fmt --all --check
# The feature sets of `cargo build -p polder-cli` and `cargo test --workspace`, compared before
# anything compiles (the check after the tests below is the proof; this one fails in seconds).
features() { cargo tree "$@" --prefix none -f '{p}|{f}' --target "$(rustc -vV | sed -n 's/^host: //p')" | grep -v ' (/' | sed 's/ (\*)//' | sort -u; }
differ=$(comm -13 <(features --workspace -e normal,build,dev) <(features -p polder-cli -e normal,build))
if [ -n "$differ" ]; then
    echo "polder-cli alone would build these registry crates with other features than --workspace:" >&2
    echo "$differ" >&2
    echo "regenerate crates/workspace-hack: cargo install cargo-hakari --locked; cargo hakari generate; cargo hakari manage-deps" >&2
    exit 1
fi

npm run typecheck
npm run lint
npm test
# The UI is built before the Rust crates: the runner embeds ui/dist when it is compiled.
npm run build
# Real servers for the connector tests, on 127.0.0.1: S3 (SeaweedFS, scripts/s3-server.sh; its
# endpoint and key in POLDER_TEST_S3_*), PostgreSQL (scripts/pg-server.sh; POLDER_TEST_PG_*) and
# ClickHouse (scripts/ch-server.sh; POLDER_TEST_CH_*); stopped whenever this script ends, a
# failed test or Ctrl-C included.
trap 'scripts/s3-server.sh stop; scripts/pg-server.sh stop; scripts/ch-server.sh stop' EXIT
scripts/s3-server.sh start
eval "$(scripts/s3-server.sh env)"
scripts/pg-server.sh start
eval "$(scripts/pg-server.sh env)"
scripts/ch-server.sh start
eval "$(scripts/ch-server.sh env)"
# Always --workspace: `cargo test -p CRATE` may still differ from the workspace's features.
POLDER_REQUIRE_EMBEDDED_UI=1 cargo test --workspace "$@"
# PostgreSQL serves only the Rust tests; S3 and ClickHouse stay for the browser test, which runs
# examples/lakehouse through them, and ClickHouse stops before the desktop test.
scripts/pg-server.sh stop

# The demo (`cargo run -p polder-cli`, scripts/demo.sh) must reuse this build: the workspace-hack
# crate gives both one feature set. A dependency added without regenerating it (`cargo hakari
# generate && cargo hakari manage-deps`) would make the CLI alone recompile registry crates
# (Polars among them); fail here instead.
rebuilt=$(cargo build -p polder-cli --message-format=json 2>/dev/null \
    | grep '"reason":"compiler-artifact"' | grep '"fresh":false' \
    | grep -o '"package_id":"registry+[^"]*"' | sed 's/.*#//; s/"$//' || true)
if [ -n "$rebuilt" ]; then
    echo "building polder-cli alone recompiled registry crates (features differ from --workspace):" >&2
    echo "$rebuilt" >&2
    echo "regenerate crates/workspace-hack: cargo install cargo-hakari --locked; cargo hakari generate; cargo hakari manage-deps" >&2
    exit 1
fi
echo "feature set ok: building polder-cli alone compiles no registry crate"

node tests/e2e/main.mjs
scripts/ch-server.sh stop
tests/desktop/session.sh node tests/desktop/main.mjs
# The desktop package (npm run build:app, here from the test profile's build and the UI built
# above): a .deb holding the app and the web UI it serves.
POLDER_UI_BUILT=1 scripts/app.sh package --debug >/dev/null
deb="$CARGO_TARGET_DIR/debug/bundle/deb/Polder_0.1.0_amd64.deb"
listing=$(dpkg-deb -c "$deb")
for f in usr/bin/polder-app usr/lib/Polder/ui/index.html usr/share/applications/Polder.desktop; do
    grep -qE " \.?/?$f\$" <<<"$listing" || { echo "$deb lacks $f" >&2; exit 1; }
done
echo "desktop package ok: $deb"
