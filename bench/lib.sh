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
