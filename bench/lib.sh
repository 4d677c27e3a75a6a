# shellcheck shell=bash
# Shared by the bench scripts (sourced): `measure LABEL COMMAND...` runs COMMAND $RUNS times and
# prints "LABEL wall_s peak_rss_mb" per run (scratch files in $WORK); a failing run stops the bench.
measure() {
    local label=$1; shift
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt"; exit 1; }
        read -r wall kb < "$WORK/time.txt"
        echo "$label $wall $((kb / 1024))"
    done
}

# `measure_cpu LABEL COMMAND...` runs COMMAND once and prints "LABEL wall_s cpu_s peak_rss_mb":
# cpu = user + sys of every process it started, peak RSS = of its whole process tree. Measured by
# bench/peers/rusage.py, not /usr/bin/time, which misses Polder's task processes (not waited for;
# their peak counter reset per task). Callers loop, e.g. to interleave programs run by run.
measure_cpu() {
    local label=$1; shift
    python3 "$(dirname "${BASH_SOURCE[0]}")/peers/rusage.py" "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" \
        || { cat "$WORK/stderr.txt"; exit 1; }
    echo "$label $(cat "$WORK/time.txt")"
}
