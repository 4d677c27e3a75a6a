#!/usr/bin/env bash
# The sales table of bench/postgres.sh (a folder of Parquet) into ClickHouse: `polder run` of a
# source → clickhouse sink (replace) against ClickHouse's own client loading the same rows from
# files made beforehand, untimed: in the server's Native format (`clickhouse-client --query
# "INSERT … FORMAT Native" < file`: no parsing, the limit here) and as CSV (what a user would
# export). Same server (the tests', scripts/ch-server.sh: Debian's 18.16, no Parquet input), same
# run, taking turns. Every table must hold the same rows (count, sums and a sum of row hashes), and
# Polder's prices exactly the source's bits (the last column: 1 when a table's prices are the source's).
# Usage: [POLDER_BIN=path] [RUNS=3] bench/clickhouse.sh [ROWS]   (default 10000000; needs the data of bench/postgres.sh ROWS)
set -euo pipefail
POLDER_BIN=${POLDER_BIN:+$(realpath "$POLDER_BIN")}
cd "$(dirname "$0")/.."
ROWS=${1:-10000000}
RUNS=${RUNS:-3}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/polder/target}"
WORK=${BENCH_DIR:-$HOME/.cache/polder/bench}
DATA="$WORK/pg-sales-$ROWS"
CSVS="$WORK/ch-sales-csv-$ROWS"
NATIVE="$WORK/ch-sales-$ROWS.native"
PY="$WORK/peers-venv/bin/python"
[ -f "$DATA/sales-009.parquet" ] && [ -x "$PY" ] || { echo "run bench/postgres.sh $ROWS first (it makes the data and the venv)" >&2; exit 1; }
if [ -z "${POLDER_BIN:-}" ]; then
    cargo build -q --release -p polder-cli
    POLDER_BIN="$CARGO_TARGET_DIR/release/polder"
fi
[ -d "$CSVS" ] || "$PY" bench/peers/pg_load.py chcsv "$DATA" "$CSVS"

trap 'scripts/ch-server.sh stop' EXIT
scripts/ch-server.sh start
eval "$(scripts/ch-server.sh env)"
export CLICKHOUSE_URL=$POLDER_TEST_CH_URL CLICKHOUSE_USER=$POLDER_TEST_CH_USER CLICKHOUSE_PASSWORD=$POLDER_TEST_CH_PASSWORD
ch() { clickhouse-client --port 59001 --user "$CLICKHOUSE_USER" --password "$CLICKHOUSE_PASSWORD" "$@"; }
echo "data: $ROWS rows in 10 Parquet files; $(nproc) cores; ClickHouse $(ch --query 'SELECT version()')"

source bench/lib.sh
WS="$WORK/ws-ch"
PIPE="$WORK/pipes-ch/load_sales"
rm -rf "$WS" "$PIPE"
mkdir -p "$PIPE"
cat > "$PIPE/pipeline.toml" <<TOML
[pipeline]
name = "load_sales_ch"

[[task]]
id = "sales"
kind = "source"
format = "parquet"
path = "$DATA/*.parquet"

[[task]]
id = "to_clickhouse"
kind = "sink"
input = "sales"
format = "clickhouse"
table = "sales_polder"
mode = "replace"
order_by = ["id"]
TOML
# The same with the source as a view: the sink streams the files, no stored copy.
VIEW_PIPE="$WORK/pipes-ch/load_sales_view"
mkdir -p "$VIEW_PIPE"
sed -e 's/^name = "load_sales_ch"$/name = "load_sales_ch_view"/' -e 's/^format = "parquet"$/format = "parquet"\nmaterialize = "view"/' \
    -e 's/^table = "sales_polder"$/table = "sales_polder_view"/' \
    "$PIPE/pipeline.toml" > "$VIEW_PIPE/pipeline.toml"
export POLDER_DATA_DIRS="$DATA"
# The table Polder creates, for the client's load.
DDL="(id Int64, product Nullable(String), store Nullable(Int32), qty Nullable(Int32), price Nullable(Float64), sold_at Nullable(DateTime('UTC')), day Nullable(Date)) ENGINE = MergeTree ORDER BY (id)"
cat > "$WORK/ch-client-load.sh" <<SH
#!/usr/bin/env bash
set -euo pipefail
ch() { clickhouse-client --port 59001 --user "$CLICKHOUSE_USER" --password "$CLICKHOUSE_PASSWORD" "\$@"; }
ch --query "DROP TABLE IF EXISTS sales_client"
ch --query "CREATE TABLE sales_client $DDL"
for f in "$CSVS"/*.csv; do ch --query "INSERT INTO sales_client FORMAT CSV" < "\$f"; done
SH
cat > "$WORK/ch-client-native.sh" <<SH
#!/usr/bin/env bash
set -euo pipefail
ch() { clickhouse-client --port 59001 --user "$CLICKHOUSE_USER" --password "$CLICKHOUSE_PASSWORD" "\$@"; }
ch --query "DROP TABLE IF EXISTS sales_native"
ch --query "CREATE TABLE sales_native $DDL"
ch --query "INSERT INTO sales_native FORMAT Native" < "$NATIVE"
SH
chmod +x "$WORK/ch-client-load.sh" "$WORK/ch-client-native.sh"
# A first load, untimed: the server writes its table as the Native file the client sends below.
"$POLDER_BIN" --workspace "$WS" run "$PIPE" --force >/dev/null
[ -s "$NATIVE" ] || ch --query "SELECT * FROM sales_polder FORMAT Native" > "$NATIVE"
NATIVE_MB=$(( $(stat -c %s "$NATIVE") / 1000000 ))
echo "the rows as Native: $NATIVE_MB MB"
cat "$DATA"/*.parquet "$CSVS"/*.csv "$NATIVE" > /dev/null
RAW="$WORK/ch-results.txt"
for _ in $(seq "$RUNS"); do
    measure_cpu polder "$POLDER_BIN" --workspace "$WS" run "$PIPE" --force
    log=$(ls -t "$WS"/.polder/logs/load_sales_ch/run-*/to_clickhouse.log | head -1)
    echo "polder_sink_task $(grep -o 'in [0-9.]* s' "$log" | tail -1 | awk '{print $2}') 0 0"
    measure_cpu polder_view "$POLDER_BIN" --workspace "$WS" run "$VIEW_PIPE" --force
    measure_cpu clickhouse_client_native "$WORK/ch-client-native.sh"
    measure_cpu clickhouse_client_csv "$WORK/ch-client-load.sh"
done | tee "$RAW"

python3 bench/peers/load_table.py "$RAW" "$ROWS" "$NATIVE_MB" clickhouse_client_csv clickhouse_client_native

echo
# Prices are compared bit for bit with the Parquet files' (sum of their 64-bit patterns): a
# float read from CSV text can come back one ulp off, which a row hash would call another table.
SOURCE_BITS=$("$PY" bench/peers/pg_load.py pricebits "$DATA")
for t in sales_polder sales_polder_view sales_native sales_client; do
    ch --query "SELECT '$t', count(), sum(id), sum(qty), round(sum(price), 2), sum(cityHash64(id, product, store, qty, sold_at, day)), sum(reinterpretAsUInt64(reinterpretAsString(price))) = $SOURCE_BITS FROM $t"
done | tee "$WORK/ch-check.txt"
[ "$(cut -f2-6 "$WORK/ch-check.txt" | sort -u | wc -l)" = 1 ] || { echo "the loaded tables differ" >&2; exit 1; }
[ "$(grep sales_polder "$WORK/ch-check.txt" | cut -f7 | sort -u)" = 1 ] || { echo "polder loaded prices that are not the source's" >&2; exit 1; }
