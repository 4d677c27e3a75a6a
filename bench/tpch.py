"""Second half of bench/tpch.sh: times DuckDB (PyPI) on the 22 TPC-H queries and prints the
markdown table comparing them with the Polder runs recorded in the workspace's SQLite store."""

import argparse
import os
import sqlite3
import statistics
import time

import duckdb

TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]


def main():
    ap = argparse.ArgumentParser()
    for a in ["engine", "sf", "skip", "data", "sql", "db", "walls", "work"]:
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--runs", type=int, required=True)
    args = ap.parse_args()
    skip = set(args.skip.split())
    queries = [f"q{n:02}" for n in range(1, 23) if f"q{n:02}" not in skip]

    # Polder: the last RUNS runs of the pipeline, each task's duration from its record.
    db = sqlite3.connect(args.db)
    runs = [r[0] for r in db.execute("SELECT id FROM runs WHERE pipeline = 'tpch' ORDER BY id DESC LIMIT ?", (args.runs,))]
    assert len(runs) == args.runs, f"expected {args.runs} recorded runs, found {len(runs)}"
    polder, errors = {}, {}
    for run in runs:
        for task, status, start, end, error in db.execute(
            "SELECT task_id, status, started_at_ms, ended_at_ms, error FROM task_runs WHERE run_id = ?", (run,)
        ):
            if status == "success":
                polder.setdefault(task, []).append((end - start) / 1000)
            else:
                errors[task] = f"{status}: {(error or '').splitlines()[0][:60] if error else ''}"
    walls = [tuple(map(float, line.split())) for line in open(args.walls)]

    # The source tasks' artifacts of the last run: Polder's queries read these, not the input files.
    artifacts = dict(db.execute(
        "SELECT task_id, artifact FROM task_runs WHERE run_id = ? AND kind = 'source'", (runs[0],)).fetchall())
    ws = os.path.dirname(os.path.dirname(args.db))

    def duckdb_times(files):
        # DuckDB from PyPI: one connection, views over the files; each answer written to Parquet
        # like Polder's task outputs.
        con = duckdb.connect()
        for t in TABLES:
            con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{files[t]}')")
        out = os.path.join(args.work, "duckdb-out.parquet")
        times = {}
        for q in queries:
            sql = open(os.path.join(args.sql, q + ".sql")).read()
            for _ in range(args.runs):
                t0 = time.perf_counter()
                con.execute(f"COPY (\n{sql}\n) TO '{out}' (FORMAT parquet)")
                times.setdefault(q, []).append(time.perf_counter() - t0)
        return {q: statistics.median(v) for q, v in times.items()}

    duck = duckdb_times({t: os.path.join(args.data, t + ".parquet") for t in TABLES})
    duck_art = duckdb_times({t: os.path.join(ws, ".polder", artifacts[t]) for t in TABLES})

    print(f"\nTPC-H SF {args.sf}, Polder engine = \"{args.engine}\", DuckDB {duckdb.__version__} (PyPI); "
          f"medians of {args.runs} runs; skipped: {', '.join(sorted(skip)) or 'none'}\n")
    print("| query | Polder (s) | DuckDB PyPI (s) | ratio | DuckDB PyPI on Polder's source artifacts (s) |")
    print("|---|---:|---:|---:|---:|")
    tot_p = tot_d = tot_a = 0.0
    for q in queries:
        d, a = duck[q], duck_art[q]
        if q in polder and len(polder[q]) == args.runs:
            p = statistics.median(polder[q])
            tot_p, tot_d, tot_a = tot_p + p, tot_d + d, tot_a + a
            print(f"| {q} | {p:.3f} | {d:.3f} | {p / d:.2f}x | {a:.3f} |")
        else:
            print(f"| {q} | {errors.get(q, 'no result')} | {d:.3f} | — | {a:.3f} |")
    n = sum(1 for q in queries if q in polder and len(polder[q]) == args.runs)
    print(f"| **{n} queries answered** | **{tot_p:.2f}** | **{tot_d:.2f}** | **{tot_p / tot_d:.2f}x** | **{tot_a:.2f}** |")
    src = sum(statistics.median(polder[t]) for t in TABLES)
    print(f"| 8 source tasks (files → Parquet artifacts; DuckDB reads the files directly) | {src:.2f} | — | — | — |")
    wall = statistics.median(w for w, _ in walls)
    rss = max(int(k) for _, k in walls) // 1024
    print(f"| `polder run --force` wall (process start to exit) | {wall:.2f} | — | — | — |")
    print(f"\nPolder peak RSS: {rss} MB")


main()
