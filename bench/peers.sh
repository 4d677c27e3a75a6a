#!/usr/bin/env bash
# Medallion vs its peers: `polder run bench/medallion_core` (bronze stored, and bronze as a view)
# against the same bronze → silver → gold → Parquet written as one DuckDB program and as one lazy
# Polars program (PyPI wheels, pinned), and the NDJSON readers alone (NDJSON → Parquet, MB/s), with
# `cat` as the floor. The programs take turns run by run on page-cached input; wall, CPU (user+sys)
# and peak RSS of each run's whole process tree (Polder runs tasks in child processes); the gold
# tables must be the same data (checksums by DuckDB), else the script fails.
# Usage: [POLDER_BIN=path] [RUNS=3] bench/peers.sh [ROWS]   (default 20000000; ~170 bytes a row)
set -euo pipefail
# A relative POLDER_BIN is meant from where the script was started.
POLDER_BIN=${POLDER_BIN:+$(realpath "$POLDER_BIN")}
cd "$(dirname "$0")/.."
ROWS=${1:-20000000}
RUNS=${RUNS:-3}
RUN_DATE=2023-05-01
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/polder/target}"
WORK=${BENCH_DIR:-$HOME/.cache/polder/bench}
DATA="$WORK/medallion-$ROWS/logs"
OUT="$WORK/peers-out-$ROWS"
mkdir -p "$WORK" "$DATA"
# The logs (and gold.parquet beside them) live outside the pipeline folders: allow those folders.
POLDER_DATA_DIRS="$DATA:$(dirname "$DATA")"
export POLDER_DATA_DIRS

if [ -z "${POLDER_BIN:-}" ]; then
    cargo build -q --release -p polder-cli
    POLDER_BIN="$CARGO_TARGET_DIR/release/polder"
fi

# The peers as their users get them: the PyPI wheels, pinned so reruns compare like with like.
PINS=(duckdb==2.0.1 polars==2.1.0)
VENV="$WORK/peers-venv"
PY="$VENV/bin/python"
[ -x "$PY" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "${PINS[@]}"   # no download once they are there

# Generated once (20M rows take minutes and 3.2 GB); the last day file marks a complete set.
[ -f "$DATA/20230430.json" ] || "$POLDER_BIN" gen medallion --out "$DATA" --rows "$ROWS" >/dev/null
BYTES=$(stat -c %s "$DATA"/*.json | awk '{ s += $1 } END { printf "%.0f\n", s }')
echo "data: $ROWS rows, $((BYTES / 1000000)) MB in $(find "$DATA" -name '*.json' | wc -l) files; $(nproc) cores"
echo "polder: $POLDER_BIN ($("$POLDER_BIN" --version)); peers: ${PINS[*]}"

source bench/lib.sh

# A pipeline's files must lie in its folder: the bench pipeline gets copies of the example's SQL.
WS="$WORK/ws-peers"
PIPE="$WORK/pipes-peers/medallion_core"
rm -rf "$WS" "$PIPE" "$OUT"
mkdir -p "$PIPE" "$OUT"
# Written the natural way: silver's engine left to `auto` (medallion_core pins Polars to compare
# with a hand-written Polars program; `auto` runs this query on DuckDB, 9.5 s vs 17.7 s at 20M rows).
sed -e 's#file = "../../examples/medallion/#file = "#' -e "s#^logs_dir = .*#logs_dir = \"$DATA\"#" \
    -e '/^engine = "polars"/d' bench/medallion_core/pipeline.toml > "$PIPE/pipeline.toml"
cp examples/medallion/silver.sql examples/medallion/gold.sql "$PIPE/"
# The same pipeline with one line added, bronze as a view: streamed into silver's DuckDB query
# (only the columns silver reads) instead of stored as an artifact. Its gold goes to its own file.
PIPE_VIEW="$WORK/pipes-peers/medallion_view"
rm -rf "$PIPE_VIEW"
cp -r "$PIPE" "$PIPE_VIEW"
sed -i -e '/^flatten = true/a materialize = "view"' -e 's/^name = .*/name = "medallion_bench_view"/' \
    -e 's#gold\.parquet#gold_view.parquet#' "$PIPE_VIEW/pipeline.toml"
grep -q '^materialize = "view"' "$PIPE_VIEW/pipeline.toml"
# The sink writes one file there (a stale one must not pass the check).
POLDER_GOLD="$(dirname "$DATA")/gold.parquet"
POLDER_VIEW_GOLD="$(dirname "$DATA")/gold_view.parquet"
rm -rf "$POLDER_GOLD" "$POLDER_VIEW_GOLD"

POLDER_RUN=("$POLDER_BIN" --workspace "$WS" run "$PIPE" --force --param "logs_dir=$DATA")
POLDER_VIEW_RUN=("$POLDER_BIN" --workspace "$WS" run "$PIPE_VIEW" --force --param "logs_dir=$DATA")
cat "$DATA"/*.json > /dev/null   # warm the page cache: every program reads from memory
RAW="$OUT/results.txt"
for _ in $(seq "$RUNS"); do
    measure_cpu polder "${POLDER_RUN[@]}"
    measure_cpu polder_view "${POLDER_VIEW_RUN[@]}"
    measure_cpu duckdb "$PY" bench/peers/medallion_duckdb.py "$DATA" "$RUN_DATE" "$OUT/gold_duckdb.parquet"
    measure_cpu polars "$PY" bench/peers/medallion_polars.py "$DATA" "$RUN_DATE" "$OUT/gold_polars.parquet"
    # The readers alone: NDJSON → flattened Parquet with the date column, nothing else.
    measure_cpu polder_bronze "${POLDER_RUN[@]}" --only bronze
    measure_cpu polder_bronze_polars_reader env POLDER_NDJSON_READER=polars "${POLDER_RUN[@]}" --only bronze
    measure_cpu duckdb_read_json "$PY" bench/peers/medallion_duckdb.py --bronze "$DATA" "$OUT/bronze_duckdb.parquet"
    measure_cpu polars_scan_ndjson "$PY" bench/peers/medallion_polars.py --bronze "$DATA" "$OUT/bronze_polars.parquet"
    measure_cpu cat_files cat "$DATA"/*.json
done | tee "$RAW"
{ echo "# $(date -Is) rows=$ROWS polder=$POLDER_BIN"; cat "$RAW"; } >> "$WORK/peers-results-$ROWS.txt"

python3 - "$RAW" "$BYTES" <<'PY'
import sys, statistics
by = {}
for line in open(sys.argv[1]):
    label, wall, cpu, rss = line.split()
    by.setdefault(label, []).append((float(wall), float(cpu), int(rss)))
mb = int(sys.argv[2]) / 1e6
readers = {"polder_bronze", "polder_bronze_polars_reader", "duckdb_read_json", "polars_scan_ndjson", "cat_files"}
med = {k: statistics.median(w for w, _, _ in v) for k, v in by.items()}
print("\n| program | median wall (s) | median CPU (s) | peak RSS (MB) | wall vs DuckDB | MB/s |")
print("|---|---:|---:|---:|---:|---:|")
for label, runs in by.items():
    base = med["duckdb_read_json"] if label in readers else med["duckdb"]
    rate = f"{mb / med[label]:.0f}" if label in readers else "—"
    cpu = statistics.median(c for _, c, _ in runs)
    print(f"| {label} | {med[label]:.2f} | {cpu:.2f} | {max(r for *_, r in runs)} | {med[label] / base:.2f}x | {rate} |")
PY

echo
"$PY" bench/peers/checksum.py "$POLDER_GOLD" "$POLDER_VIEW_GOLD" "$OUT/gold_duckdb.parquet" "$OUT/gold_polars.parquet"
