"""How much the row order of a bronze artifact costs silver's aggregation (DuckDB from PyPI).

Usage: silver_layout.py BRONZE.parquet SILVER.sql WORK_DIR [RUNS]

Writes copies of the artifact in other row orders (same columns, LZ4), then times silver's query
(`COPY … TO parquet`, as Polder's SQL task runs it) over each, taking turns, and checks that every
layout gives the same table. Layouts:
- `as_read`: the artifact as Polder wrote it (file order: day by day);
- `sorted`: ordered by `Contract` (every contract's rows together);
- `bucketed`: ordered by `hash(Contract) % 256` over the whole table;
- `window_N`: bucketed within windows of N rows (what a writer holding N rows at a time can do).
Prints "layout median_s runs..." lines.
"""
import os
import statistics
import sys
import time

import duckdb


def main() -> None:
    bronze, silver_sql, work = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    os.makedirs(work, exist_ok=True)
    con = duckdb.connect(config={"threads": os.cpu_count() or 2})
    con.execute("SET enable_progress_bar = false")
    src = bronze.replace("'", "''")
    orders = {
        "sorted": "ORDER BY Contract",
        "bucketed": "ORDER BY hash(Contract) % 256",
        "window_200000": "ORDER BY rn // 200000, hash(Contract) % 256",
        "window_1000000": "ORDER BY rn // 1000000, hash(Contract) % 256",
        "window_2500000": "ORDER BY rn // 2500000, hash(Contract) % 256",
    }
    layouts = {"as_read": bronze}
    for name, order in orders.items():
        out = os.path.join(work, f"bronze_{name}.parquet")
        if not os.path.exists(out):
            con.execute(
                f"COPY (SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER () - 1 AS rn "
                f"FROM read_parquet('{src}')) {order}) TO '{out}' (FORMAT parquet, COMPRESSION lz4)"
            )
        layouts[name] = out
    query = open(silver_sql).read().strip().rstrip(";")
    times = {name: [] for name in layouts}
    checks = {}
    for _ in range(runs):
        for name, path in layouts.items():
            con.execute(f"CREATE OR REPLACE TEMP VIEW bronze AS SELECT * FROM read_parquet('{path}')")
            out = os.path.join(work, f"silver_{name}.parquet")
            started = time.perf_counter()
            con.execute(f"COPY (\n{query}\n) TO '{out}' (FORMAT parquet)")
            times[name].append(time.perf_counter() - started)
            checks[name] = con.execute(f"SELECT count(*), sum(hash(s)) FROM read_parquet('{out}') s").fetchone()
    if len(set(checks.values())) != 1:
        sys.exit(f"the layouts gave different silver tables: {checks}")
    for name, runs_s in times.items():
        print(name, f"{statistics.median(runs_s):.2f}", " ".join(f"{t:.2f}" for t in runs_s))


if __name__ == "__main__":
    main()
