#!/usr/bin/env bash
# A real S3 server for the tests: SeaweedFS's all-in-one `weed mini` (master, volume, filer, S3
# gateway and its admin server in one process), installed by scripts/test-deps.sh, on 127.0.0.1
# only, S3 at port 59003, SigV4 enforced for one key pair (scripts/test.sh runs it around the tests).
#   start  stops an instance an earlier run left behind (a crashed or interrupted test run), starts
#          a new one on a fresh data dir under ${TMPDIR:-/tmp} and waits until S3 answers HTTP
#   stop   SIGTERM, SIGKILL after 15 s, then removes the data dir; does nothing when none runs
#   env    prints the export lines the tests read (POLDER_TEST_S3_*)
# The tests create their own buckets (CreateBucket with the key below); `polder` exists from start.
# Every port is fixed (weed mini's defaults would also take 8181 and 9101, turned off here, and
# 23646 and 33646, moved below), so one instance per machine: a second `start` replaces the first.
set -euo pipefail

SEAWEEDFS_HOME="$HOME/.cache/polder/seaweedfs"
WEED="$SEAWEEDFS_HOME/bin/weed"
RUN="$SEAWEEDFS_HOME/run"
STATE="$RUN/state"  # two lines: the weed pid, its data dir
LOG="$RUN/weed.log" # the last instance's output, kept after stop
KEY_ID=polder-test
SECRET=polder-test-secret-123
REGION=us-east-1
S3_PORT=59003
# Each component's gRPC port is set too: weed's default is the HTTP port + 10000, past 65535 here.
# The admin server has no UI here, but mini's maintenance worker dials admin HTTP port + 10000
# whatever -admin.port.grpc says, so the admin HTTP port is 10000 below its gRPC port.
PORTS=(-master.port=59333 -master.port.grpc=59334 -volume.port=59080 -volume.port.grpc=59081
    -filer.port=59888 -filer.port.grpc=59889 -s3.port=$S3_PORT -s3.port.grpc=59004
    -admin.port=49646 -admin.port.grpc=59646)
# weed puts a unix socket per gRPC port in /tmp (not $TMPDIR); it removes them on a clean exit.
GRPC_SOCKETS=(/tmp/seaweedfs-{master-grpc-59334,volume-grpc-59081,filer-grpc-59889,s3-grpc-59004,admin-grpc-59646}.sock)

say() { echo "s3-server: $*" >&2; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# True when S3 answers an HTTP request (an unsigned one: 403 is the expected answer).
s3_answers() {
    local status
    status=$(exec 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$S3_PORT" &&
        printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$S3_PORT" >&3 &&
        timeout 2 head -c 12 <&3) || return 1
    [[ $status == "HTTP/1."[01]" "* ]]
}

# True when $1 is a live weed process running on data dir $2 (not a reused pid).
is_our_weed() {
    local args
    [ -n "$1" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = weed ] &&
        args=$(tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null) &&
        [[ $'\n'$args$'\n' == *$'\n'"-dir=$2"$'\n'* ]]
}

# Waits up to $3 seconds for weed $1 on data dir $2 to end; false if it still runs. (A zombie
# counts as ended: its cmdline is empty, its ports closed, and whoever inherited it reaps it.)
wait_gone() {
    local deadline=$((SECONDS + $3))
    while is_our_weed "$1" "$2"; do
        [ $SECONDS -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

stop() {
    [ -f "$STATE" ] || return 0
    local pid dir
    { read -r pid; read -r dir; } <"$STATE" || true
    if is_our_weed "$pid" "$dir"; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" "$dir" 15; then
            say "weed (pid $pid) still running 15 s after SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" "$dir" 5 || say "weed (pid $pid) survived SIGKILL"
        fi
    fi
    # Only a killed weed leaves these behind; none of them belongs to a live weed now.
    rm -f "${GRPC_SOCKETS[@]}"
    case "$dir" in
    */polder-s3.*) rm -rf -- "$dir" ;;
    esac
    rm -f "$STATE"
}

start() {
    if [ ! -x "$WEED" ]; then
        say "$WEED is missing; run scripts/test-deps.sh"
        exit 1
    fi
    mkdir -p "$RUN"
    if [ -f "$STATE" ]; then
        say "stopping the instance an earlier run left behind"
        stop
    fi
    if port_open "$S3_PORT"; then
        say "port $S3_PORT on 127.0.0.1 is taken by another program:"
        ss -ltnp "sport = :$S3_PORT" >&2 2>/dev/null || true
        exit 1
    fi
    local dir pid
    dir=$(mktemp -d "${TMPDIR:-/tmp}/polder-s3.XXXXXX")
    # The filer's and S3's local unix sockets go in the data dir, so that they go with it (their
    # default, /tmp/seaweedfs-s3-PORT.sock, outlives even a clean exit); 108 bytes at most.
    if [ ${#dir} -gt 90 ]; then
        rmdir "$dir"
        say "TMPDIR is too long a path for unix sockets: ${TMPDIR:-/tmp}"
        exit 1
    fi
    # weed mini gives the S3 gateway one admin identity from AWS_ACCESS_KEY_ID and
    # AWS_SECRET_ACCESS_KEY (without them it would allow anonymous access); setsid keeps it out of
    # the terminal's Ctrl-C (test.sh's trap stops it), and its output goes to $LOG (-logtostderr: no
    # weed.* log files of its own in $TMPDIR).
    env -u S3_BUCKET -u S3_TABLE_BUCKET -u S3_EXTERNAL_URL -u AWS_SESSION_TOKEN \
        AWS_ACCESS_KEY_ID="$KEY_ID" AWS_SECRET_ACCESS_KEY="$SECRET" \
        setsid "$WEED" -logtostderr mini -dir="$dir" -ip=127.0.0.1 -ip.bind=127.0.0.1 "${PORTS[@]}" \
        -webdav=false -admin.ui=false -s3.port.iceberg=0 -s3.port.lance=0 -master.telemetry=false \
        -filer.localSocket="$dir/filer.sock" -s3.localSocket="$dir/s3.sock" -bucket=polder \
        </dev/null >"$LOG" 2>&1 &
    pid=$!
    printf '%s\n%s\n' "$pid" "$dir" >"$STATE"
    local deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ]; do
        if s3_answers; then
            say "S3 at http://127.0.0.1:$S3_PORT (weed pid $pid, data $dir, log $LOG)"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            say "weed mini exited while starting; the end of $LOG:"
            tail -n 30 "$LOG" >&2
            stop
            exit 1
        fi
        sleep 0.1
    done
    say "S3 did not answer on 127.0.0.1:$S3_PORT within 30 s; the end of $LOG:"
    tail -n 30 "$LOG" >&2
    stop
    exit 1
}

case "${1:-}" in
start) start ;;
stop) stop ;;
env)
    echo "export POLDER_TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT"
    echo "export POLDER_TEST_S3_KEY_ID=$KEY_ID"
    echo "export POLDER_TEST_S3_SECRET=$SECRET"
    echo "export POLDER_TEST_S3_REGION=$REGION"
    ;;
*)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
