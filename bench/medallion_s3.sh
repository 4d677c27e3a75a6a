#!/usr/bin/env bash
# Medallion from object storage: `polder run bench/medallion_core` with its NDJSON logs read from
# the local S3 server (SeaweedFS, scripts/s3-server.sh) vs from local disk, same data, same run;
# and the server's own limit: boto3 downloading every object once (no parsing).
# Usage: bench/medallion_s3.sh [ROWS]   (default 20000000; ~170 bytes a row)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-20000000}
RUNS=${RUNS:-3}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/polder/target}"
WORK=${BENCH_DIR:-$HOME/.cache/polder/bench}
DATA="$WORK/medallion-$ROWS/logs"
mkdir -p "$WORK" "$DATA"
export POLDER_DATA_DIRS="$DATA:$(dirname "$DATA")"

cargo build -q -p polder-cli
BIN="$CARGO_TARGET_DIR/debug"
"$BIN/polder" gen medallion --out "$DATA" --rows "$ROWS" >/dev/null

# The S3 server: started here when it is not running (and then stopped at the end).
if ! curl -s -o /dev/null "http://127.0.0.1:59003/"; then
    scripts/s3-server.sh start
    trap 'scripts/s3-server.sh stop' EXIT
fi
eval "$(scripts/s3-server.sh env)"
export AWS_ENDPOINT_URL="$POLDER_TEST_S3_ENDPOINT" AWS_REGION="$POLDER_TEST_S3_REGION" \
    AWS_ACCESS_KEY_ID="$POLDER_TEST_S3_KEY_ID" AWS_SECRET_ACCESS_KEY="$POLDER_TEST_S3_SECRET"
PREFIX="bench/medallion-$ROWS/logs"

# boto3 (PyPI) uploads the logs and measures the plain download: the ceiling for any reader.
VENV="$WORK/s3-venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import boto3' 2>/dev/null || "$VENV/bin/pip" install -q 'boto3==1.*'
"$VENV/bin/python" - "$DATA" "$PREFIX" <<'PY'
import os, sys, boto3
data, prefix = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
have = {o["Key"]: o["Size"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="polder", Prefix=prefix) for o in p.get("Contents", [])}
for name in sorted(os.listdir(data)):
    key = f"{prefix}/{name}"
    if have.get(key) != os.path.getsize(os.path.join(data, name)):
        s3.upload_file(os.path.join(data, name), "polder", key)
PY
echo "data: $ROWS rows, $(du -sh "$DATA" | cut -f1) in $(ls "$DATA" | wc -l) files, local and in s3://polder/$PREFIX; $(nproc) cores"

source bench/lib.sh

WS="$WORK/ws-s3"
rm -rf "$WS"
PIPES="$WORK/pipes-s3"
rm -rf "$PIPES"
mkdir -p "$PIPES/medallion_core"
# Data paths are checked with the parameters' defaults at load: default to the generated logs; gold
# goes to a local file for both runs (an S3 key cannot hold `..`).
sed -e 's#file = "../../examples/medallion/#file = "#' -e "s#^logs_dir = .*#logs_dir = \"$DATA\"#" \
    -e "s#^path = \"{{ logs_dir }}/../gold.parquet\"#path = \"$(dirname "$DATA")/gold_s3bench.parquet\"#" \
    bench/medallion_core/pipeline.toml > "$PIPES/medallion_core/pipeline.toml"
cp examples/medallion/silver.sql examples/medallion/gold.sql "$PIPES/medallion_core/"
{
    measure polder_local_disk "$BIN/polder" --workspace "$WS" run "$PIPES/medallion_core" --force --param "logs_dir=$DATA"
    measure polder_s3 "$BIN/polder" --workspace "$WS" run "$PIPES/medallion_core" --force --param "logs_dir=s3://polder/$PREFIX"
    measure bronze_local_disk "$BIN/polder" --workspace "$WS" run "$PIPES/medallion_core" --only bronze --param "logs_dir=$DATA"
    measure bronze_s3 "$BIN/polder" --workspace "$WS" run "$PIPES/medallion_core" --only bronze --param "logs_dir=s3://polder/$PREFIX"
    measure boto3_download_only "$VENV/bin/python" -c "
import os, boto3
from concurrent.futures import ThreadPoolExecutor
s3 = boto3.client('s3', endpoint_url=os.environ['AWS_ENDPOINT_URL'])
keys = [o['Key'] for p in s3.get_paginator('list_objects_v2').paginate(Bucket='polder', Prefix='$PREFIX') for o in p.get('Contents', [])]
def get(k):
    return len(s3.get_object(Bucket='polder', Key=k)['Body'].read())
with ThreadPoolExecutor(8) as ex:
    print(sum(ex.map(get, keys)))
"
} | tee "$WORK/results-s3.txt"

python3 - "$WORK/results-s3.txt" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for label, wall, rss in rows:
    by.setdefault(label, []).append((float(wall), int(rss)))
med = {k: statistics.median(w for w, _ in v) for k, v in by.items()}
print("\n| program | median wall (s) | peak RSS (MB) | vs local disk |")
print("|---|---|---|---|")
for label, runs in by.items():
    base = med["bronze_local_disk"] if label.startswith("bronze") else med["polder_local_disk"]
    ratio = "—" if label.startswith("boto3") else f"{med[label] / base:.2f}x"
    print(f"| {label} | {med[label]:.2f} | {max(r for _, r in runs)} | {ratio} |")
PY
