#!/usr/bin/env bash
# Scheduling overhead: a 200-task DAG of trivial SQL tasks (a source, then layers of 20 tasks each
# reading one task of the layer before). Reports `polder run --force` wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/polder/target}"
RUNS=${RUNS:-5}
cargo build -q -p polder-cli
BIN="$CARGO_TARGET_DIR/debug/polder"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
P="$WORK/dag200"
mkdir -p "$P"
{
    echo '[pipeline]'
    echo 'name = "dag200"'
    echo
    echo '[[task]]'
    echo 'id = "t0"'
    echo 'kind = "sql"'
    echo 'sql = "SELECT 1 AS x"'
    for i in $(seq 1 199); do
        up=$(( i <= 20 ? 0 : i - 20 ))
        printf '\n[[task]]\nid = "t%d"\nkind = "sql"\nsql = "SELECT x + 1 AS x FROM t%d"\n' "$i" "$up"
    done
} > "$P/pipeline.toml"
"$BIN" validate "$P" > "$WORK/validate.txt"; head -1 "$WORK/validate.txt"
"$BIN" --workspace "$WORK" run "$P" >/dev/null 2>&1
for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN" --workspace "$WORK" run "$P" --force >/dev/null 2>&1
    read -r wall kb < "$WORK/t"; echo "force run: ${wall}s, peak RSS $((kb / 1024)) MB"
done
/usr/bin/time -f "%e" -o "$WORK/t" "$BIN" --workspace "$WORK" run "$P" >/dev/null 2>&1
echo "fully cached run: $(cat "$WORK/t")s"
