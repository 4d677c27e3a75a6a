# shellcheck shell=bash
# Shared by the bench scripts (sourced). Both measure with bench/peers/rusage.py, not /usr/bin/time,
# which misses Polder's task processes (not waited for; their peak counter reset per task).

# Each run starts with no dirty pages: the kernel's writeback of what the previous run wrote (a
# 1 GB artifact) must not overlap the next run.
settle() {
    sync
}

# `measure LABEL COMMAND...` runs COMMAND $RUNS times and prints "LABEL wall_s peak_rss_mb" per run
# (peak RSS of the whole process tree; scratch files in $WORK); a failing run stops the bench.
measure() {
    local label=$1; shift
    for _ in $(seq "$RUNS"); do
        settle
        python3 "$(dirname "${BASH_SOURCE[0]}")/peers/rusage.py" "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" \
            || { cat "$WORK/stderr.txt"; exit 1; }
        read -r wall _cpu mb < "$WORK/time.txt"
        echo "$label $wall $mb"
    done
}

# `measure_cpu LABEL COMMAND...` runs COMMAND once and prints "LABEL wall_s cpu_s peak_rss_mb":
# cpu = user + sys of every process it started, peak RSS = of its whole process tree. Callers
# loop, e.g. to interleave programs run by run.
measure_cpu() {
    local label=$1; shift
    settle
    python3 "$(dirname "${BASH_SOURCE[0]}")/peers/rusage.py" "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" \
        || { cat "$WORK/stderr.txt"; exit 1; }
    echo "$label $(cat "$WORK/time.txt")"
}
