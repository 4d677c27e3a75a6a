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

    # DuckDB from PyPI: one connection, views over the same files; each answer written to Parquet
    # like Polder's task outputs.
    con = duckdb.connect()
    for t in TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{os.path.join(args.data, t + '.parquet')}')")
    out = os.path.join(args.work, "duckdb-out.parquet")
    duck = {}
    for q in queries:
        sql = open(os.path.join(args.sql, q + ".sql")).read()
        for _ in range(args.runs):
            t0 = time.perf_counter()
            con.execute(f"COPY (\n{sql}\n) TO '{out}' (FORMAT parquet)")
            duck.setdefault(q, []).append(time.perf_counter() - t0)

    print(f"\nTPC-H SF {args.sf}, Polder engine = \"{args.engine}\", DuckDB {duckdb.__version__} (PyPI); "
          f"medians of {args.runs} runs; skipped: {', '.join(sorted(skip)) or 'none'}\n")
    print("| query | Polder (s) | DuckDB PyPI (s) | ratio |")
    print("|---|---:|---:|---:|")
    tot_p = tot_d = 0.0
    for q in queries:
        d = statistics.median(duck[q])
        if q in polder and len(polder[q]) == args.runs:
            p = statistics.median(polder[q])
            tot_p += p
            tot_d += d
            print(f"| {q} | {p:.3f} | {d:.3f} | {p / d:.2f}x |")
        else:
            print(f"| {q} | {errors.get(q, 'no result')} | {d:.3f} | — |")
    print(f"| **22 queries** (those both answered) | **{tot_p:.2f}** | **{tot_d:.2f}** | **{tot_p / tot_d:.2f}x** |")
    src = sum(statistics.median(polder[t]) for t in TABLES)
    print(f"| 8 source tasks (Parquet → artifacts; DuckDB reads the files directly) | {src:.2f} | — | — |")
    wall = statistics.median(w for w, _ in walls)
    rss = max(int(k) for _, k in walls) // 1024
    print(f"| `polder run --force` wall (process start to exit) | {wall:.2f} | — | — |")
    print(f"\nPolder peak RSS: {rss} MB")


main()
