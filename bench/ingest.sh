#!/usr/bin/env bash
# REST ingest vs its peer: `polder serve` taking rows on POST /api/ingest/events (answered once
# they are fsynced into the dataset's write-ahead log, flushed to day-partitioned Parquet in the
# background) against bench/peers/ingest_fastapi.py, written the way the seed project did it:
# FastAPI + uvicorn, pydantic checks, rows kept in memory and written to day-partitioned Parquet
# by Polars every 5 s or 100k rows (answered before anything is durable). The peer runs as one
# uvicorn process (its buffer lives in that process) and, as a stronger peer for 2 cores, with
# `--workers 2`. All of them on 127.0.0.1, measured with the same load generator: wrk (one thread,
# LuaJIT building the bodies, bench/peers/ingest_load.lua), each connection one client posting
# batch after batch with unique increasing ids. Matrix: {1,16,64} clients x {1,100}-row batches,
# DURATION seconds each after a WARMUP run, the programs taking turns point by point, RUNS times
# (the table shows medians). At the end Polder's log is flushed and its Parquet must hold every row
# the runner acknowledged, each id once, and per wrk run between the rows wrk saw acknowledged and
# the rows it sent (wrk abandons the requests in flight when its time is up; the server may still
# keep them). The peers' Parquet is counted after a graceful stop, for information.
# Usage: [POLDER_BIN=path] [DURATION=10] [WARMUP=2] [RUNS=3] [CLIENTS=1,16,64] [BATCHES=1,100] bench/ingest.sh
set -euo pipefail
POLDER_BIN=${POLDER_BIN:+$(realpath "$POLDER_BIN")}
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
RUNS=${RUNS:-3}
CLIENTS=${CLIENTS:-1,16,64}
BATCHES=${BATCHES:-1,100}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/polder/target}"
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in bench/peers (uvicorn imports the peer as a module)
WORK=${BENCH_DIR:-$HOME/.cache/polder/bench}
mkdir -p "$WORK"

if [ -z "${POLDER_BIN:-}" ]; then
    cargo build -q --release -p polder-cli
    POLDER_BIN="$CARGO_TARGET_DIR/release/polder"
fi
if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ]; then apt-get install -y -q wrk >/dev/null; else echo "needs wrk (apt-get install wrk)" >&2; exit 1; fi
fi

# The peer as its users get it: the PyPI wheels, pinned so reruns compare like with like.
PINS=(fastapi==0.163.2 "uvicorn[standard]==0.54.0" pydantic==2.14.3 polars==2.1.0)
VENV="$WORK/ingest-venv"
PY="$VENV/bin/python"
[ -x "$PY" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "${PINS[@]}"   # no download once they are there

TOKEN=bench-ingest-token
WS="$WORK/ws-ingest"
PEER_OUT="$WORK/ingest-peer-out"
RAW="$WORK/ingest-raw.jsonl"
rm -rf "$WS" "$PEER_OUT" "$RAW"
mkdir -p "$WS/ingest" "$PEER_OUT"
cat > "$WS/ingest/events.toml" <<'TOML'
event_time = "ts"
[columns]
id = "i64 not null"
ts = "timestamp not null"
user = "str"
amount = "f64"
[target]
path = "lake/events"
[flush]
max_rows = 100000
max_age_secs = 5
TOML

PIDS=()
stop_all() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {  # wait_port PORT PID: until something answers on PORT (the process must stay up)
    for _ in $(seq 200); do
        kill -0 "$2" 2>/dev/null || { echo "server $2 exited" >&2; exit 1; }
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2; exit 1
}

POLDER_PORT=$(free_port)
POLDER_TOKEN=$TOKEN "$POLDER_BIN" --workspace "$WS" serve --bind "127.0.0.1:$POLDER_PORT" >"$WORK/ingest-polder.log" 2>&1 &
POLDER_PID=$!; PIDS+=("$POLDER_PID")
PEER_PORT=$(free_port)
"$PY" bench/peers/ingest_fastapi.py --out "$PEER_OUT/w1" --port "$PEER_PORT" --token "$TOKEN" >"$WORK/ingest-peer.log" 2>&1 &
PEER_PID=$!; PIDS+=("$PEER_PID")
PEER2_PORT=$(free_port)
"$PY" bench/peers/ingest_fastapi.py --out "$PEER_OUT/w2" --port "$PEER2_PORT" --token "$TOKEN" --workers 2 >"$WORK/ingest-peer2.log" 2>&1 &
PEER2_PID=$!; PIDS+=("$PEER2_PID")
wait_port "$POLDER_PORT" "$POLDER_PID"; wait_port "$PEER_PORT" "$PEER_PID"; wait_port "$PEER2_PORT" "$PEER2_PID"

# The hardware limit of group commit: one fsync of a small write, on the disk holding the logs.
FSYNC=$(python3 - "$WS" <<'PY'
import os, sys, time
fn = os.path.join(sys.argv[1], ".fsync-probe")
fd = os.open(fn, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
def probe(offset):
    ts = []
    for i in range(500):
        t = time.perf_counter()
        os.pwrite(fd, b"x" * 4096, offset(i))
        os.fsync(fd)
        ts.append(time.perf_counter() - t)
    ts.sort()
    return f"{ts[250] * 1e3:.2f} ms p50 / {ts[495] * 1e3:.2f} ms p99"
rewrite = probe(lambda i: (i % 16) * 4096)
append = probe(lambda i: (16 + i) * 4096)
os.close(fd); os.unlink(fn)
print(f"4 KiB write + fsync: {rewrite} rewriting a block, {append} appending")
PY
)
echo "$(nproc) cores; polder: $POLDER_BIN ($("$POLDER_BIN" --version), tree at $(git rev-parse --short HEAD 2>/dev/null || echo ?)); peer: ${PINS[*]}; $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "disk under $WORK: $FSYNC; load average before: $(cut -d" " -f1-3 /proc/loadavg)"
echo "matrix: clients {$CLIENTS} x batches {$BATCHES}, ${DURATION}s each after ${WARMUP}s warmup, RUNS=$RUNS"

"$PY" bench/peers/ingest_bench.py matrix --token "$TOKEN" --raw "$RAW" \
    --seconds "$DURATION" --warmup "$WARMUP" --runs "$RUNS" --clients "$CLIENTS" --batches "$BATCHES" \
    --program "polder=http://127.0.0.1:$POLDER_PORT/api/ingest/events=$POLDER_PID" \
    --program "fastapi=http://127.0.0.1:$PEER_PORT/ingest/events=$PEER_PID" \
    --program "fastapi_2w=http://127.0.0.1:$PEER2_PORT/ingest/events=$PEER2_PID"

# The peers write what they hold when stopped gracefully (uvicorn runs the app's shutdown).
kill -TERM "$PEER_PID" "$PEER2_PID"; wait "$PEER_PID" "$PEER2_PID" || true
echo
status=0
"$PY" bench/peers/ingest_bench.py verify --raw "$RAW" --token "$TOKEN" --polder-url "http://127.0.0.1:$POLDER_PORT" \
    --peer "fastapi=$PEER_OUT/w1" --peer "fastapi_2w=$PEER_OUT/w2" || status=$?
echo
{ echo "# $(date -Is) polder=$POLDER_BIN $(nproc) cores; $FSYNC"; cat "$RAW"; } >> "$WORK/ingest-results.txt"
"$PY" bench/peers/ingest_bench.py table --raw "$RAW"
exit "$status"
