"""Driver of bench/ingest.sh: runs the load matrix with wrk (bench/peers/ingest_load.lua) against
each program, measures server and client CPU, checks the rows that landed, prints the table.

  ingest_bench.py matrix --program NAME=URL=PID ... --token T --raw FILE [--seconds S] [--warmup S]
                         [--runs N] [--clients 1,16,64] [--batches 1,100]
  ingest_bench.py verify --raw FILE --polder-url URL --token T [--peer NAME=DIR ...]
  ingest_bench.py table --raw FILE [--fsync TEXT]

The load generator is wrk (C, one event-loop thread, LuaJIT building the bodies): each of its
connections is one client posting batch after batch, a new one as soon as the previous answer came
(closed loop). The server's CPU is read from /proc for its whole process tree, wrk's from wait4.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "ingest_load.lua")
TICK = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """pid and its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def cpu_seconds(pid: int) -> float:
    """user + sys of pid's process tree (each process's threads included)."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / TICK


def wrk(url: str, clients: int, seconds: float, batch: int, run: int, token: str) -> dict:
    cmd = ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "30s", "-s", LUA, url, "--",
           str(batch), str(run), token]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate()
    line = next((l for l in out.splitlines() if l.startswith("RESULT ")), None)
    if p.returncode != 0 or line is None:
        sys.exit(f"wrk failed ({p.returncode}): {out}\n{err}")
    return json.loads(line[len("RESULT "):])


def run_wrk(url, clients, seconds, batch, run, token, server_pid):
    """One wrk run; adds the server's and wrk's CPU seconds."""
    cpu0 = cpu_seconds(server_pid)
    before = os.times()
    r = wrk(url, clients, seconds, batch, run, token)
    after = os.times()
    r["server_cpu_s"] = cpu_seconds(server_pid) - cpu0
    r["client_cpu_s"] = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return r


def matrix(a):
    programs = []
    for spec in a.program:
        name, url, pid = spec.split("=", 2)
        programs.append((name, url, int(pid)))
    clients = [int(c) for c in a.clients.split(",")]
    batches = [int(b) for b in a.batches.split(",")]
    run = 0
    point = 0
    with open(a.raw, "a") as raw:
        for rep in range(a.runs):
            for batch in batches:
                for c in clients:
                    # Take turns, the first program changing point by point.
                    order = programs[point % len(programs):] + programs[:point % len(programs)]
                    point += 1
                    for name, url, pid in order:
                        if a.warmup > 0:
                            run += 1
                            w = run_wrk(url, c, a.warmup, batch, run, a.token, pid)
                            w.update(program=name, clients=c, batch=batch, rep=rep, warmup=True, run=run)
                            raw.write(json.dumps(w) + "\n")
                        run += 1
                        r = run_wrk(url, c, a.seconds, batch, run, a.token, pid)
                        r.update(program=name, clients=c, batch=batch, rep=rep, warmup=False, run=run)
                        raw.write(json.dumps(r) + "\n")
                        raw.flush()
                        dur = r["duration_us"] / 1e6
                        ok = r["requests"] - r["non2xx"]
                        errs = r["non2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
                        print(f"  {name:>12} clients={c:<3} batch={batch:<4} {ok * batch / dur:>10,.0f} rows/s "
                              f"p50 {r['p50_us'] / 1e3:7.2f} ms  p99 {r['p99_us'] / 1e3:7.2f} ms  "
                              f"server {r['server_cpu_s'] / dur:4.2f} cores  wrk {r['client_cpu_s'] / dur:4.2f} cores"
                              + (f"  ERRORS {errs}" if errs else ""), flush=True)


def load(raw):
    with open(raw) as f:
        return [json.loads(l) for l in f if l.strip()]


def api(url, token, method="GET"):
    req = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def count(files):
    """Rows, distinct ids, and rows by wrk run (id // 1e12)."""
    import polars as pl

    if not files:
        return 0, 0, {}
    lf = pl.scan_parquet(files)
    totals = lf.select(pl.len().alias("rows"), pl.col("id").n_unique().alias("ids")).collect()
    runs = lf.group_by((pl.col("id") // 10**12).alias("run")).len().collect()
    return int(totals["rows"][0]), int(totals["ids"][0]), dict(zip(runs["run"].to_list(), runs["len"].to_list()))


def check_runs(results, program, by_run):
    """Each wrk run's rows in the Parquet must lie between the rows wrk saw acknowledged and the
    rows it put in requests (those in flight when its time was up are abandoned: the server may
    have kept them without wrk seeing the answer). Returns (seen, sent, problems)."""
    rs = [r for r in results if r["program"] == program]
    seen = sent = 0
    problems = []
    for r in rs:
        a = (r["requests"] - r["non2xx"]) * r["batch"]
        seen += a
        sent += r["rows_sent"]
        got = by_run.get(r["run"], 0)
        if not a <= got <= r["rows_sent"]:
            problems.append(f"run {r['run']} ({r['clients']} clients, {r['batch']}-row batches): {got} rows in the "
                            f"Parquet, wrk saw {a} acknowledged and sent {r['rows_sent']}")
    stray = set(by_run) - {r["run"] for r in rs}
    if stray:
        problems.append(f"ids of runs never made for this program: {sorted(stray)}")
    return seen, sent, problems


def errors_of(results, program):
    return sum(r["non2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
               for r in results if r["program"] == program)


def verify(a):
    import glob

    results = load(a.raw)
    t0 = time.time()
    flushed = api(f"{a.polder_url}/api/datasets/events/flush", a.token, "POST")
    d = api(f"{a.polder_url}/api/datasets/events", a.token)
    rows, ids, by_run = count(d["files"])
    seen, sent, problems = check_runs(results, "polder", by_run)
    errors = errors_of(results, "polder")
    print(f"polder: the final flush took {time.time() - t0:.1f} s ({flushed['rows']:,} rows were left in the log); "
          f"{len(d['files'])} Parquet files hold {rows:,} rows, {ids:,} distinct ids. The runner counted "
          f"{d['rows_received']:,} rows acknowledged; wrk saw {seen:,} acknowledged and sent {sent:,} "
          f"(the rest in flight when a run's time was up). Refused {d['batches_rejected']}, throttled "
          f"{d['throttled']}, errors seen by wrk {errors}; left in the log {d['rows_pending']}, flush error {d['error']}")
    if rows != ids:
        problems.append("some id is in the Parquet more than once")
    if rows < d["rows_received"]:
        problems.append("fewer rows in the Parquet than the runner acknowledged")
    if errors or d["batches_rejected"] or d["throttled"] or d["rows_pending"] or d["error"]:
        problems.append("errors (above)")
    for p in problems:
        print(f"polder: CHECK FAILED: {p}")
    if not problems:
        print(f"polder: every row acknowledged is in the Parquet, once; {rows - d['rows_received']:,} more rows "
              f"(requests abandoned by wrk at its stops: kept, never acknowledged) are there too")
    ok = not problems
    for spec in a.peer or []:
        name, folder = spec.split("=", 1)
        files = sorted(glob.glob(os.path.join(folder, "**", "*.parquet"), recursive=True))
        rows, ids, by_run = count(files)
        seen, sent, problems = check_runs(results, name, by_run)
        if rows != ids:
            problems.append("some id is in the Parquet more than once")
        print(f"{name}: after a graceful stop, {len(files)} Parquet files hold {rows:,} rows, {ids:,} distinct ids; "
              f"wrk saw {seen:,} acknowledged and sent {sent:,}; errors seen by wrk {errors_of(results, name)}"
              + "".join(f"\n{name}: CHECK FAILED: {p}" for p in problems))
    return 0 if ok else 1


def table(a):
    results = [r for r in load(a.raw) if not r["warmup"]]
    keys = []
    for r in results:
        k = (r["program"], r["clients"], r["batch"])
        if k not in keys:
            keys.append(k)
    programs = list(dict.fromkeys(k[0] for k in keys))

    def med(program, c, b, f):
        rs = [r for r in results if (r["program"], r["clients"], r["batch"]) == (program, c, b)]
        return statistics.median(f(r) for r in rs) if rs else None

    def rate(r):
        return (r["requests"] - r["non2xx"]) * r["batch"] / (r["duration_us"] / 1e6)

    peers = [p for p in programs if p != "polder"]
    head = ["program", "clients", "rows/batch", "rows/s", "requests/s", "p50 ms", "p99 ms", "server CPU (cores)",
            "server CPU µs/row", "wrk CPU (cores)", "errors"] + [f"polder ÷ {p}" for p in peers]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
    for b in sorted({k[2] for k in keys}):
        for c in sorted({k[1] for k in keys}):
            for p in programs:
                if (p, c, b) not in keys:
                    continue
                rows = med(p, c, b, rate)
                dur = lambda r: r["duration_us"] / 1e6
                cells = [f"`{p}`", str(c), str(b), f"{rows:,.0f}",
                         f"{med(p, c, b, lambda r: (r['requests'] - r['non2xx']) / dur(r)):,.0f}",
                         f"{med(p, c, b, lambda r: r['p50_us'] / 1e3):.2f}",
                         f"{med(p, c, b, lambda r: r['p99_us'] / 1e3):.2f}",
                         f"{med(p, c, b, lambda r: r['server_cpu_s'] / dur(r)):.2f}",
                         f"{med(p, c, b, lambda r: r['server_cpu_s'] * 1e6 / max(1, (r['requests'] - r['non2xx']) * r['batch'])):.1f}",
                         f"{med(p, c, b, lambda r: r['client_cpu_s'] / dur(r)):.2f}",
                         str(sum(r["non2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
                                 for r in results if (r["program"], r["clients"], r["batch"]) == (p, c, b)))]
                for q in peers:
                    other = med(q, c, b, rate)
                    cells.append(f"**{rows / other:.2f}x**" if p == "polder" and other else "")
                print("| " + " | ".join(cells) + " |")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("matrix")
    m.add_argument("--program", action="append", required=True)
    m.add_argument("--token", required=True)
    m.add_argument("--raw", required=True)
    m.add_argument("--seconds", type=float, default=10)
    m.add_argument("--warmup", type=float, default=2)
    m.add_argument("--runs", type=int, default=1)
    m.add_argument("--clients", default="1,16,64")
    m.add_argument("--batches", default="1,100")
    v = sub.add_parser("verify")
    v.add_argument("--raw", required=True)
    v.add_argument("--polder-url", required=True)
    v.add_argument("--token", required=True)
    v.add_argument("--peer", action="append")
    t = sub.add_parser("table")
    t.add_argument("--raw", required=True)
    a = ap.parse_args()
    if a.cmd == "matrix":
        matrix(a)
    elif a.cmd == "verify":
        sys.exit(verify(a))
    else:
        table(a)


if __name__ == "__main__":
    main()
