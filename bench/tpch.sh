#!/usr/bin/env bash
# TPC-H benchmark: `polder run` of examples/tpch (the 22 queries as sql tasks over 8 Parquet
# sources) on generated data vs DuckDB from PyPI running the same 22 SQL files over views on the
# same Parquet files. Per query: Polder's task duration from its run record vs DuckDB's
# `COPY (query) TO '….parquet'` (both write the answer to Parquet); medians of RUNS runs.
# Usage: bench/tpch.sh [ENGINE]   ENGINE (written into a copy of the pipeline): duckdb (default),
#   polars or auto.  Env: SF=1 (scale factor), RUNS=3, SKIP="q18 …" (queries left out; Polars
#   exhausts memory on q18), BENCH_DIR (default ~/.cache/polder/bench).
set -euo pipefail
cd "$(dirname "$0")/.."
ENGINE=${1:-duckdb}
case "$ENGINE" in
    duckdb | polars | auto) ;;
    *) echo "usage: bench/tpch.sh [duckdb|polars|auto]" >&2; exit 2 ;;
esac
SF=${SF:-1}
RUNS=${RUNS:-3}
SKIP=${SKIP:-}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/polder/target}"
WORK="${BENCH_DIR:-$HOME/.cache/polder/bench}/tpch-$ENGINE"
DATA="$HOME/.cache/polder/tpch-sf$SF"

# tpchgen-cli (the version scripts/test-deps.sh pins, same venv) and DuckDB's Python package.
VENV="$HOME/.cache/polder/tpch"
TPCHGEN_VERSION=4.0.0
DUCKDB_VERSION=2.0.0   # the DuckDB release the engine bundles (duckdb crate 1.20000.1)
if [ "$("$VENV/bin/tpchgen-cli" --version 2>/dev/null)" != "tpchgen-cli $TPCHGEN_VERSION" ] ||
    [ "$("$VENV/bin/python" -c 'import duckdb; print(duckdb.__version__)' 2>/dev/null)" != "$DUCKDB_VERSION" ]; then
    [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "tpchgen-cli==$TPCHGEN_VERSION" "duckdb==$DUCKDB_VERSION"
fi
# The data is generated once per scale factor; .complete marks a finished generation.
if [ ! -f "$DATA/.complete" ]; then
    rm -rf "$DATA"
    "$VENV/bin/tpchgen-cli" parquet --scale-factor "$SF" --quiet --output-dir "$DATA"
    touch "$DATA/.complete"
fi

cargo build -q -p polder-cli
BIN="$CARGO_TARGET_DIR/debug/polder"

# A copy of the example with the engine set and SKIP's tasks removed; the data stays outside it.
rm -rf "$WORK"
mkdir -p "$WORK/pipe"
cp examples/tpch/pipeline.toml examples/tpch/q*.sql "$WORK/pipe/"
"$VENV/bin/python" - "$WORK/pipe/pipeline.toml" "$ENGINE" "$SKIP" <<'PY'
import sys
path, engine, skip = sys.argv[1], sys.argv[2], sys.argv[3].split()
spec = open(path).read()
assert '\nengine = "auto"' in spec, "examples/tpch/pipeline.toml no longer sets engine = \"auto\""
spec = spec.replace('\nengine = "auto"', f'\nengine = "{engine}"', 1)
for q in skip:
    block = f'[[task]]\nid = "{q}"\nkind = "sql"\nfile = "{q}.sql"\n'
    assert block in spec, f"no task block for {q}"
    spec = spec.replace(block, "")
open(path, "w").write(spec)
PY
export POLDER_DATA_DIRS="$DATA"
echo "data: TPC-H SF $SF, $(du -sh --exclude=.complete "$DATA" | cut -f1) of Parquet; engine = $ENGINE; $(nproc) cores" >&2

# Polder and DuckDB take turns, run by run (tpch.py), so both see the same machine load.
"$VENV/bin/python" bench/tpch.py --engine "$ENGINE" --sf "$SF" --runs "$RUNS" --skip "$SKIP" \
    --bin "$BIN" --ws "$WORK/ws" --pipe "$WORK/pipe" --data "$DATA" --sql examples/tpch --work "$WORK" |
    tee "$WORK/results.md"
