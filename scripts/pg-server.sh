#!/usr/bin/env bash
# A real PostgreSQL server for the tests: Debian's PostgreSQL (installed by scripts/test-deps.sh),
# a fresh cluster under ${TMPDIR:-/tmp}, on 127.0.0.1:54329 only, password (SCRAM) login for one
# superuser, TLS offered with a certificate for localhost and 127.0.0.1 signed by a throwaway CA
# (its certificate in $HOME/.cache/polder/postgres/ca.pem) (scripts/test.sh runs it around the tests).
#   start  stops an instance an earlier run left behind (a crashed or interrupted test run), creates
#          a new cluster with database `polder`, starts it and waits until it accepts logins
#   stop   fast shutdown (SIGINT), SIGKILL after 15 s, then removes the cluster; does nothing when
#          none runs
#   env    prints the export lines the tests read (POLDER_TEST_PG_*)
# initdb refuses to run as root: as root the cluster belongs to Debian's `postgres` user.
set -euo pipefail

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
RUN="$HOME/.cache/polder/postgres"
STATE="$RUN/state" # two lines: the postmaster pid, the cluster dir
LOG="$RUN/server.log"
PORT=54329
PG_USER=polder
PASSWORD=polder-test-pw-7
DATABASE=polder

say() { echo "pg-server: $*" >&2; }

# Runs a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# True when $1 is a live postgres process serving cluster dir $2 (not a reused pid).
is_our_postgres() {
    [ -n "$1" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = postgres ] &&
        tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qxF -- "$2/data"
}

wait_gone() {
    local deadline=$((SECONDS + $3))
    while is_our_postgres "$1" "$2"; do
        [ $SECONDS -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

stop() {
    [ -f "$STATE" ] || return 0
    local pid dir
    { read -r pid; read -r dir; } <"$STATE" || true
    if is_our_postgres "$pid" "$dir"; then
        kill -INT "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" "$dir" 15; then
            say "postgres (pid $pid) still running 15 s after SIGINT; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" "$dir" 5 || say "postgres (pid $pid) survived SIGKILL"
        fi
    fi
    case "$dir" in
    */polder-pg.*) rm -rf -- "$dir" ;;
    esac
    rm -f "$STATE"
}

start() {
    [ -x "$PG_BIN/initdb" ] || { say "no PostgreSQL server under /usr/lib/postgresql; run scripts/test-deps.sh"; exit 1; }
    stop
    mkdir -p "$RUN"
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/polder-pg.XXXXXX")
    chmod 755 "$dir"
    printf '%s\n' "$PASSWORD" >"$dir/pwfile"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
    as_owner "$PG_BIN/initdb" -D "$dir/data" -U "$PG_USER" --pwfile="$dir/pwfile" -A scram-sha-256 \
        --no-sync -E UTF8 --locale=C.UTF-8 >"$LOG" 2>&1 || { cat "$LOG" >&2; exit 1; }
    rm -f "$dir/pwfile"
    # A CA of this cluster's own and the server's certificate it signs.
    "$(dirname "$0")/test-cert.sh" "$dir" "$RUN/ca.pem"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir/server.key" "$dir/server.crt"
    # Tests throw their clusters away: durability settings off, like the S3 server's.
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o \
        "-p $PORT -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
         -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key" \
        start >>"$LOG" 2>&1 || { cat "$LOG" "$dir/server.log" >&2; exit 1; }
    printf '%s\n%s\n' "$(head -1 "$dir/data/postmaster.pid")" "$dir" >"$STATE"
    PGPASSWORD=$PASSWORD "$PG_BIN/psql" -h 127.0.0.1 -p "$PORT" -U "$PG_USER" -d postgres -qAt \
        -c "CREATE DATABASE $DATABASE" >>"$LOG" 2>&1 || { cat "$LOG" >&2; exit 1; }
    say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (cluster $dir)"
}

env_lines() {
    cat <<EOF
export POLDER_TEST_PG_HOST=127.0.0.1
export POLDER_TEST_PG_PORT=$PORT
export POLDER_TEST_PG_USER=$PG_USER
export POLDER_TEST_PG_PASSWORD=$PASSWORD
export POLDER_TEST_PG_DATABASE=$DATABASE
export POLDER_TEST_PG_CA=$RUN/ca.pem
EOF
}

case "${1:-}" in
start) start ;;
stop) stop ;;
env) env_lines ;;
*)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
