#!/usr/bin/env bash
# Medallion benchmark: `polder run` on ROWS rows of generated viewing logs vs a hand-written Polars
# program doing the same transformations in one process. Reports wall time and peak RSS.
# Usage: bench/medallion.sh [ROWS]   (default 20000000; the data is ~170 bytes a row)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-20000000}
RUNS=${RUNS:-3}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/polder/target}"
WORK=${BENCH_DIR:-$HOME/.cache/polder/bench}
DATA="$WORK/medallion-$ROWS/logs"
mkdir -p "$WORK" "$DATA"
# The logs (and gold.parquet beside them) live outside the pipeline folders: allow those folders.
export POLDER_DATA_DIRS="$DATA:$(dirname "$DATA")"

cargo build -q -p polder-cli -p polder-engine --example medallion_polars
BIN="$CARGO_TARGET_DIR/debug"
"$BIN/polder" gen medallion --out "$DATA" --rows "$ROWS" >/dev/null
echo "data: $ROWS rows, $(du -sh "$DATA" | cut -f1) in $(ls "$DATA" | wc -l) files; $(nproc) cores"

source bench/lib.sh

WS="$WORK/ws"
rm -rf "$WS"
# A pipeline's files must lie in its folder: the bench pipelines get copies of the example's SQL.
PIPES="$WORK/pipes"
rm -rf "$PIPES"
for p in medallion_core medallion_view; do
    mkdir -p "$PIPES/$p"
    sed -e 's#file = "../../examples/medallion/#file = "#' -e "s#^logs_dir = .*#logs_dir = \"$DATA\"#" "bench/$p/pipeline.toml" > "$PIPES/$p/pipeline.toml"
    cp examples/medallion/silver.sql examples/medallion/gold.sql "$PIPES/$p/"
done
{
    measure polder_core "$BIN/polder" --workspace "$WS" run "$PIPES/medallion_core" --force --param "logs_dir=$DATA"
    measure polder_bronze_view "$BIN/polder" --workspace "$WS" run "$PIPES/medallion_view" --force --param "logs_dir=$DATA"
    measure polars_handwritten "$BIN/examples/medallion_polars" "$DATA" 2023-05-01 "$WORK/gold_handwritten.parquet"
    measure polder_full_example "$BIN/polder" --workspace "$WS" run examples/medallion --force --param "logs_dir=$DATA"
    # Streaming: the source task alone (NDJSON → Parquet artifact) over the whole input.
    measure polder_bronze_only "$BIN/polder" --workspace "$WS" run "$PIPES/medallion_core" --only bronze --param "logs_dir=$DATA"
} | tee "$WORK/results.txt"

python3 - "$WORK/results.txt" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for label, wall, rss in rows:
    by.setdefault(label, []).append((float(wall), int(rss)))
base = statistics.median(w for w, _ in by["polars_handwritten"])
print("\n| program | median wall (s) | peak RSS (MB) | wall vs hand-written |")
print("|---|---|---|---|")
for label, runs in by.items():
    w = statistics.median(x for x, _ in runs)
    print(f"| {label} | {w:.2f} | {max(r for _, r in runs)} | {w / base:.2f}x |")
PY
