#!/usr/bin/env bash
# A folder of Parquet into PostgreSQL (the job a Spark + JDBC stack could not finish in 30 min):
# `polder run` of a source → postgres sink (replace) against the ways a user would otherwise do
# it, same server, same run, taking turns: Polars + psycopg 3 (PyPI; each file written as CSV to
# memory and COPYed), and the server's own bulk loader reading files itself (COPY FROM 'file'):
# CSV files, and one file in its own binary COPY format (the physical limit here: no parsing and
# no client), both made beforehand, untimed. Every loaded table must hold the same rows (count,
# sums and a hash of every row's text), else the script fails.
# The server is the tests' (scripts/pg-server.sh: fsync off, on this machine's 2 cores, shared
# with the client: wall time is what to compare).
# Usage: [POLDER_BIN=path] [RUNS=3] bench/postgres.sh [ROWS]   (default 10000000, in 10 files)
set -euo pipefail
POLDER_BIN=${POLDER_BIN:+$(realpath "$POLDER_BIN")}
cd "$(dirname "$0")/.."
ROWS=${1:-10000000}
RUNS=${RUNS:-3}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/polder/target}"
WORK=${BENCH_DIR:-$HOME/.cache/polder/bench}
DATA="$WORK/pg-sales-$ROWS"
# The server reads these itself: a folder its user can read.
CSVS="${TMPDIR:-/tmp}/polder-pg-bench-$ROWS"
BINFILE="${TMPDIR:-/tmp}/polder-pg-bench-bin-$ROWS/sales.bin"
mkdir -p "$WORK"

if [ -z "${POLDER_BIN:-}" ]; then
    cargo build -q --release -p polder-cli
    POLDER_BIN="$CARGO_TARGET_DIR/release/polder"
fi
PINS=(duckdb==2.0.1 polars==2.1.0 "psycopg[binary]==3.3.9")
VENV="$WORK/peers-venv"
PY="$VENV/bin/python"
[ -x "$PY" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "${PINS[@]}"

trap 'scripts/pg-server.sh stop' EXIT
scripts/pg-server.sh start
eval "$(scripts/pg-server.sh env)"
# Plain TCP for every client (the server offers TLS; a loader on the database's machine or
# network would not encrypt the loopback).
export PGHOST=$POLDER_TEST_PG_HOST PGPORT=$POLDER_TEST_PG_PORT PGUSER=$POLDER_TEST_PG_USER \
    PGPASSWORD=$POLDER_TEST_PG_PASSWORD PGDATABASE=$POLDER_TEST_PG_DATABASE PGSSLMODE=disable

[ -f "$DATA/sales-009.parquet" ] || "$PY" bench/peers/pg_load.py gen "$DATA" "$ROWS" 10
if [ ! -d "$CSVS" ]; then
    "$PY" bench/peers/pg_load.py csv "$DATA" "$CSVS"
    chmod -R a+rX "$CSVS"
fi
echo "data: $ROWS rows, $(du -sm "$DATA" | cut -f1) MB of Parquet in 10 files; $(nproc) cores"
echo "polder: $POLDER_BIN; peers: ${PINS[*]}; PostgreSQL $(psql -qAt -c 'SHOW server_version')"

source bench/lib.sh
WS="$WORK/ws-pg"
PIPE="$WORK/pipes-pg/load_sales"
rm -rf "$WS" "$PIPE"
mkdir -p "$PIPE"
cat > "$PIPE/pipeline.toml" <<EOF
[pipeline]
name = "load_sales"

[[task]]
id = "sales"
kind = "source"
format = "parquet"
path = "$DATA/*.parquet"

[[task]]
id = "to_postgres"
kind = "sink"
input = "sales"
format = "postgres"
table = "sales_polder"
mode = "replace"
EOF
# The same with the source as a view: the sink streams the files, no stored copy.
VIEW_PIPE="$WORK/pipes-pg/load_sales_view"
mkdir -p "$VIEW_PIPE"
sed -e 's/^name = "load_sales"$/name = "load_sales_view"/' -e 's/^format = "parquet"$/format = "parquet"\nmaterialize = "view"/' \
    -e 's/^table = "sales_polder"$/table = "sales_polder_view"/' \
    "$PIPE/pipeline.toml" > "$VIEW_PIPE/pipeline.toml"
export POLDER_DATA_DIRS="$DATA"
POLDER_RUN=("$POLDER_BIN" --workspace "$WS" run "$PIPE" --force)
# A first load, untimed: the server writes its table as the binary COPY file it reads back below.
"${POLDER_RUN[@]}" >/dev/null
if [ ! -f "$BINFILE" ]; then
    mkdir -p "$(dirname "$BINFILE")"
    chmod 777 "$(dirname "$BINFILE")"
    "$PY" bench/peers/pg_load.py dumpbin sales_polder "$BINFILE"
fi
BIN_MB=$(( $(stat -c %s "$BINFILE") / 1000000 ))
echo "the rows as binary COPY: $BIN_MB MB"
cat "$DATA"/*.parquet "$CSVS"/*.csv "$BINFILE" > /dev/null
RAW="$WORK/pg-results.txt"
for _ in $(seq "$RUNS"); do
    measure_cpu polder "${POLDER_RUN[@]}"
    # The sink task alone, from the run's own log line ("… in X s (N rows/s)").
    log=$(ls -t "$WS"/.polder/logs/load_sales/run-*/to_postgres.log | head -1)
    echo "polder_sink_task $(grep -o 'in [0-9.]* s' "$log" | tail -1 | awk '{print $2}') 0 0"
    measure_cpu polder_view "$POLDER_BIN" --workspace "$WS" run "$VIEW_PIPE" --force
    measure_cpu psycopg "$PY" bench/peers/pg_load.py psycopg "$DATA" sales_psycopg
    measure_cpu server_copy_csv "$PY" bench/peers/pg_load.py server "$CSVS" sales_server
    measure_cpu server_copy_binary "$PY" bench/peers/pg_load.py serverbin "$BINFILE" sales_server_bin
done | tee "$RAW"

python3 bench/peers/load_table.py "$RAW" "$ROWS" "$BIN_MB" psycopg server_copy_binary

echo
"$PY" bench/peers/pg_load.py check sales_polder sales_polder_view sales_psycopg sales_server sales_server_bin | tee "$WORK/pg-check.txt"
[ "$(awk '{$1=""; print}' "$WORK/pg-check.txt" | sort -u | wc -l)" = 1 ] || { echo "the loaded tables differ" >&2; exit 1; }
