"""Second half of bench/tpch.sh: RUNS rounds of (`polder run --force` of the prepared pipeline,
then DuckDB from PyPI running the same 22 SQL files over the input files, then over that run's
source artifacts), then the markdown table of medians. Taking turns run by run keeps Polder and
DuckDB under the same machine load (other builds share the 2 cores)."""

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import time

import duckdb

TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]


def polder_run(args, i):
    """One `polder run --force`; returns (wall s, peak RSS KB, run id). One task at a time
    (--max-parallel 1), so each query's duration is its own, as DuckDB's are."""
    timing = os.path.join(args.work, "time.txt")
    with open(os.path.join(args.work, f"run{i}.log"), "w") as log:
        # A run with failed queries (polars) exits non-zero; the table reports them.
        subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", timing, args.bin, "--workspace", args.ws, "run",
                        args.pipe, "--force", "--max-parallel", "1", "--param", f"data_dir={args.data}"],
                       stdout=log, stderr=subprocess.STDOUT, check=False)
    # /usr/bin/time puts "Command exited with non-zero status N" before the figures.
    fields = open(timing).read().strip().splitlines()[-1].split()
    if len(fields) != 2 or not fields[0].replace(".", "").isdigit():
        sys.exit(f"polder run {i} did not finish: {open(timing).read()} (see {args.work}/run{i}.log)")
    db = sqlite3.connect(os.path.join(args.ws, ".polder", "polder.db"))
    run = db.execute("SELECT max(id) FROM runs WHERE pipeline = 'tpch'").fetchone()[0]
    return float(fields[0]), int(fields[1]), run


def duckdb_pass(con, files, queries, args, times):
    """Each query once over views on `files`, its answer written to Parquet like a task output."""
    for t in TABLES:
        con.execute(f"CREATE OR REPLACE VIEW {t} AS SELECT * FROM read_parquet('{files[t]}')")
    out = os.path.join(args.work, "duckdb-out.parquet")
    for q in queries:
        sql = open(os.path.join(args.sql, q + ".sql")).read()
        t0 = time.perf_counter()
        con.execute(f"COPY (\n{sql}\n) TO '{out}' (FORMAT parquet)")
        times.setdefault(q, []).append(time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    for a in ["engine", "sf", "skip", "bin", "ws", "pipe", "data", "sql", "work"]:
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--runs", type=int, required=True)
    args = ap.parse_args()
    skip = set(args.skip.split())
    queries = [f"q{n:02}" for n in range(1, 23) if f"q{n:02}" not in skip]
    con = duckdb.connect()
    walls, polder, errors, duck, duck_art = [], {}, {}, {}, {}
    for i in range(1, args.runs + 1):
        wall, rss, run = polder_run(args, i)
        walls.append((wall, rss))
        db = sqlite3.connect(os.path.join(args.ws, ".polder", "polder.db"))
        artifacts = {}
        for task, kind, status, start, end, error, artifact in db.execute(
            "SELECT task_id, kind, status, started_at_ms, ended_at_ms, error, artifact FROM task_runs WHERE run_id = ?",
            (run,),
        ):
            if status == "success":
                polder.setdefault(task, []).append((end - start) / 1000)
                if kind == "source":
                    artifacts[task] = os.path.join(args.ws, ".polder", artifact)
            else:
                errors[task] = f"{status}: {error.splitlines()[0][:60]}" if error else status
        print(f"polder run {i}: {wall:.2f} s", file=sys.stderr)
        duckdb_pass(con, {t: os.path.join(args.data, t + ".parquet") for t in TABLES}, queries, args, duck)
        # The same queries over the files Polder's queries read: its source tasks' artifacts.
        duckdb_pass(con, artifacts, queries, args, duck_art)

    print(f"\nTPC-H SF {args.sf}, Polder engine = \"{args.engine}\", DuckDB {duckdb.__version__} (PyPI); "
          f"medians of {args.runs} runs; skipped: {', '.join(sorted(skip)) or 'none'}\n")
    print("| query | Polder (s) | DuckDB PyPI (s) | ratio | DuckDB PyPI on Polder's source artifacts (s) |")
    print("|---|---:|---:|---:|---:|")
    tot_p = tot_d = tot_a = 0.0
    answered = 0
    for q in queries:
        d, a = statistics.median(duck[q]), statistics.median(duck_art[q])
        if len(polder.get(q, [])) == args.runs:
            p = statistics.median(polder[q])
            tot_p, tot_d, tot_a, answered = tot_p + p, tot_d + d, tot_a + a, answered + 1
            print(f"| {q} | {p:.3f} | {d:.3f} | {p / d:.2f}x | {a:.3f} |")
        else:
            print(f"| {q} | {errors.get(q, 'no result')} | {d:.3f} | — | {a:.3f} |")
    print(f"| **{answered} queries answered** | **{tot_p:.2f}** | **{tot_d:.2f}** | **{tot_p / tot_d:.2f}x** | **{tot_a:.2f}** |")
    src = sum(statistics.median(polder[t]) for t in TABLES)
    print(f"| 8 source tasks (files → Parquet artifacts; DuckDB reads the files directly) | {src:.2f} | — | — | — |")
    wall = statistics.median(w for w, _ in walls)
    print(f"| `polder run --force` wall (process start to exit) | {wall:.2f} | — | — | — |")
    print(f"\nPolder peak RSS: {max(r for _, r in walls) // 1024} MB")


main()
