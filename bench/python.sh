#!/usr/bin/env bash
# Python tasks: (1) the fixed cost of a trivial Python task (process start, Polars import, the
# artifact handed over both ways) against a trivial SQL task, on a 3-row input, with
# `python -c 'import polars'` as its floor; (2) the medallion's silver step written in Python
# (examples/medallion_python/silver.py) against the same step in SQL (examples/medallion/silver.sql,
# engine `auto`), both reading one stored 20M-row bronze artifact, taking turns run by run. The two
# silver outputs must be the same table (checked by Polars), else the script fails.
# Usage: [POLDER_BIN=path] [RUNS=5] bench/python.sh [ROWS]   (default 20000000)
set -euo pipefail
POLDER_BIN=${POLDER_BIN:+$(realpath "$POLDER_BIN")}
cd "$(dirname "$0")/.."
ROWS=${1:-20000000}
RUNS=${RUNS:-5}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/polder/target}"
WORK=${BENCH_DIR:-$HOME/.cache/polder/bench}
DATA="$WORK/medallion-$ROWS/logs"
mkdir -p "$WORK" "$DATA"
export POLDER_DATA_DIRS="$DATA"
if [ -z "${POLDER_BIN:-}" ]; then
    cargo build -q --release -p polder-cli
    POLDER_BIN="$CARGO_TARGET_DIR/release/polder"
fi
[ -f "$DATA/20230430.json" ] || "$POLDER_BIN" gen medallion --out "$DATA" --rows "$ROWS" >/dev/null
source bench/lib.sh

WS="$WORK/ws-python"
PIPE="$WORK/pipes-python/pybench"
rm -rf "$WS" "$PIPE"
mkdir -p "$PIPE/data"
printf 'id,amount\n1,10\n2,20\n3,5\n' > "$PIPE/data/tiny.csv"
cp examples/medallion/silver.sql "$PIPE/silver.sql"
cp examples/medallion_python/silver.py "$PIPE/silver.py"
printf 'def run(tiny):\n    return tiny\n' > "$PIPE/trivial.py"
cat > "$PIPE/pipeline.toml" <<EOF
[pipeline]
name = "pybench"

[params]
logs_dir = "$DATA"

[[task]]
id = "tiny"
kind = "source"
format = "csv"
path = "data/tiny.csv"

[[task]]
id = "trivial_sql"
kind = "sql"
sql = "SELECT * FROM tiny"

[[task]]
id = "trivial_py"
kind = "python"
file = "trivial.py"

[[task]]
id = "bronze"
kind = "source"
format = "ndjson"
path = "{{ logs_dir }}/*.json"
flatten = true
path_column = { name = "date", pattern = '(\d{8})\.json\$', type = "date", format = "%Y%m%d" }

[[task]]
id = "silver_sql"
kind = "sql"
file = "silver.sql"

[[task]]
id = "silver_py"
kind = "python"
file = "silver.py"
EOF

P=("$POLDER_BIN" --workspace "$WS")
# Inputs once (and the Python environment built, outside the timings).
"${P[@]}" run "$PIPE" --only tiny >/dev/null
"${P[@]}" run "$PIPE" --only trivial_py >/dev/null
"${P[@]}" run "$PIPE" --only bronze >/dev/null
ENV_PY=$(ls -d "${POLDER_PYTHON_ENVS:-$HOME/.cache/polder/python-envs}"/*/bin/python | head -1)
cat "$DATA"/*.json > /dev/null

RAW="$WORK/python-raw.txt"
: > "$RAW"
for _ in $(seq "$RUNS"); do
    measure_cpu trivial_sql "${P[@]}" run "$PIPE" --only trivial_sql --force >> "$RAW"
    measure_cpu trivial_py "${P[@]}" run "$PIPE" --only trivial_py --force >> "$RAW"
    measure_cpu import_polars "$ENV_PY" -c 'import polars' >> "$RAW"
done
for _ in $(seq "$RUNS"); do
    measure_cpu silver_sql "${P[@]}" run "$PIPE" --only silver_sql --force >> "$RAW"
    measure_cpu silver_py "${P[@]}" run "$PIPE" --only silver_py --force >> "$RAW"
done

# The same table from both silver steps (row order, values; integer widths may differ).
latest() { ls -t "$WS"/.polder/artifacts/pybench/"$1"/run-*.parquet | head -1; }
"$ENV_PY" - "$(latest silver_sql)" "$(latest silver_py)" <<'PY'
import sys
import polars as pl
a, b = (pl.read_parquet(p) for p in sys.argv[1:3])
cast = {c: pl.Int64 for c, t in a.schema.items() if t.is_integer()}
a, b = a.cast(cast), b.cast({c: pl.Int64 for c, t in b.schema.items() if t.is_integer()})
assert a.columns == b.columns, (a.columns, b.columns)
assert a.equals(b), "silver_sql and silver_py differ"
print(f"silver: {a.height} rows, the same table from SQL and Python")
PY

echo "# $(date -Is) rows=$ROWS runs=$RUNS polder=$POLDER_BIN" >> "$WORK/python-results.txt"
cat "$RAW" >> "$WORK/python-results.txt"
python3 - "$RAW" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label, wall, cpu, mb = line.split()
    runs.setdefault(label, []).append((float(wall), float(cpu), float(mb)))
med = {k: tuple(statistics.median(x[i] for x in v) for i in range(3)) for k, v in runs.items()}
print("| program | median wall (s) | median CPU (s) | peak RSS (MB) | wall vs SQL |")
print("|---|---:|---:|---:|---:|")
for k, base in [("trivial_sql", "trivial_sql"), ("trivial_py", "trivial_sql"), ("import_polars", "trivial_sql"),
                ("silver_sql", "silver_sql"), ("silver_py", "silver_sql")]:
    w, c, m = med[k]
    print(f"| `{k}` | {w:.2f} | {c:.2f} | {m:.0f} | {w / med[base][0]:.2f}x |")
PY
