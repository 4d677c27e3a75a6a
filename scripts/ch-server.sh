#!/usr/bin/env bash
# A real ClickHouse server for the tests: Debian's clickhouse-server (installed by
# scripts/test-deps.sh), run in the foreground of a background job with a copy of its config: data
# under ${TMPDIR:-/tmp}, HTTP on 127.0.0.1:58123 only (HTTPS 58443 with a certificate of a
# throwaway CA, native TCP 59001, interserver 59009), one user with a password (scripts/test.sh
# runs it around the tests).
#   start  stops an instance an earlier run left behind, starts a new one on a fresh data dir and
#          waits until it answers /ping
#   stop   SIGTERM, SIGKILL after 15 s, then removes the data dir; does nothing when none runs
#   env    prints the export lines the tests read (POLDER_TEST_CH_*)
set -euo pipefail

RUN="$HOME/.cache/polder/clickhouse"
STATE="$RUN/state" # two lines: the server pid, its data dir
LOG="$RUN/server.log"
HTTP_PORT=58123
HTTPS_PORT=58443
CH_USER=polder
PASSWORD=polder-test-ch-5

say() { echo "ch-server: $*" >&2; }

is_our_server() {
    [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] &&
        tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qxF -- "--config-file=$2/config.xml"
}

wait_gone() {
    local deadline=$((SECONDS + $3))
    while is_our_server "$1" "$2"; do
        [ $SECONDS -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

stop() {
    [ -f "$STATE" ] || return 0
    local pid dir
    { read -r pid; read -r dir; } <"$STATE" || true
    if is_our_server "$pid" "$dir"; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" "$dir" 15; then
            say "clickhouse-server (pid $pid) still running 15 s after SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" "$dir" 5 || say "clickhouse-server (pid $pid) survived SIGKILL"
        fi
    fi
    case "$dir" in
    */polder-ch.*) rm -rf -- "$dir" ;;
    esac
    rm -f "$STATE"
}

# True when the HTTP interface answers /ping (plain bash: no curl on a fresh machine).
answers() {
    local reply
    reply=$(exec 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT" &&
        printf 'GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
        timeout 2 cat <&3) || return 1
    [[ $reply == *"Ok."* ]]
}

start() {
    [ -x /usr/bin/clickhouse-server ] || [ -x /usr/sbin/clickhouse-server ] ||
        { say "no clickhouse-server; run scripts/test-deps.sh"; exit 1; }
    stop
    mkdir -p "$RUN"
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/polder-ch.XXXXXX")
    mkdir -p "$dir"/{data,tmp,user_files,format_schemas,log}
    # HTTPS too, with a certificate of a throwaway CA (its certificate in $RUN/ca.pem).
    "$(dirname "$0")/test-cert.sh" "$dir" "$RUN/ca.pem"
    sed -e "s#/var/log/clickhouse-server/#$dir/log/#g" \
        -e "s#<path>/var/lib/clickhouse/</path>#<path>$dir/data/</path>#" \
        -e "s#<tmp_path>.*</tmp_path>#<tmp_path>$dir/tmp/</tmp_path>#" \
        -e "s#<user_files_path>.*</user_files_path>#<user_files_path>$dir/user_files/</user_files_path>#" \
        -e "s#<format_schema_path>.*</format_schema_path>#<format_schema_path>$dir/format_schemas/</format_schema_path>#" \
        -e "s#<http_port>8123</http_port>#<http_port>$HTTP_PORT</http_port><https_port>$HTTPS_PORT</https_port>#" \
        -e "s#<tcp_port>9000#<tcp_port>59001#" \
        -e "s#/etc/clickhouse-server/server.crt#$dir/server.crt#" -e "s#/etc/clickhouse-server/server.key#$dir/server.key#" \
        -e "s#<dhParamsFile>.*</dhParamsFile>##" \
        -e "s#<interserver_http_port>9009#<interserver_http_port>59009#" \
        -e "s#<listen_host>::1</listen_host>##" \
        -e "s#<users_config>users.xml#<users_config>$dir/users.xml#" \
        /etc/clickhouse-server/config.xml >"$dir/config.xml"
    cat >"$dir/users.xml" <<EOF
<yandex>
    <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
    <users>
        <$CH_USER>
            <password>$PASSWORD</password>
            <networks><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </$CH_USER>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
EOF
    local bin
    bin=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
    "$bin" --config-file="$dir/config.xml" >"$LOG" 2>&1 &
    local pid=$!
    printf '%s\n%s\n' "$pid" "$dir" >"$STATE"
    local deadline=$((SECONDS + 60))
    until answers; do
        # Whether the process still lives (its cmdline may not be the server's yet, just after the fork).
        if [ $SECONDS -ge "$deadline" ] || ! kill -0 "$pid" 2>/dev/null; then
            say "clickhouse-server did not start; its log:"
            tail -n 20 "$LOG" "$dir/log/clickhouse-server.err.log" >&2 || true
            stop
            exit 1
        fi
        sleep 0.1
    done
    say "ClickHouse on 127.0.0.1:$HTTP_PORT (data $dir)"
}

env_lines() {
    cat <<EOF
export POLDER_TEST_CH_URL=http://127.0.0.1:$HTTP_PORT
export POLDER_TEST_CH_USER=$CH_USER
export POLDER_TEST_CH_PASSWORD=$PASSWORD
export POLDER_TEST_CH_HTTPS_URL=https://127.0.0.1:$HTTPS_PORT
export POLDER_TEST_CH_CA=$RUN/ca.pem
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
