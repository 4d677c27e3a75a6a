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
    import polars as pl

    if not files:
        return 0, 0
    df = pl.scan_parquet(files).select(pl.len().alias("rows"), pl.col("id").n_unique().alias("ids")).collect()
    return int(df["rows"][0]), int(df["ids"][0])


def acked(results, program):
    """Rows the client saw acknowledged, and the most that may have been acknowledged unseen
    (requests in flight when a wrk run stopped)."""
    rs = [r for r in results if r["program"] == program]
    seen = sum((r["requests"] - r["non2xx"]) * r["batch"] for r in rs)
    unseen = sum(r["clients"] * r["batch"] for r in rs)
    errors = sum(r["non2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"] for r in rs)
    return seen, unseen, errors


def verify(a):
    results = load(a.raw)
    ok = True
    seen, unseen, errors = acked(results, "polder")
    t0 = time.time()
    flushed = api(f"{a.polder_url}/api/datasets/events/flush", a.token, "POST")
    d = api(f"{a.polder_url}/api/datasets/events", a.token)
    rows, ids = count(d["files"])
    print(f"polder: flush took {time.time() - t0:.1f} s ({flushed['rows']:,} rows left in the log); "
          f"{len(d['files'])} Parquet files hold {rows:,} rows, {ids:,} distinct ids; the runner acknowledged "
          f"{d['rows_received']:,} (wrk saw {seen:,} acknowledged, at most {unseen:,} more in flight at wrk's stops); "
          f"rejected {d['batches_rejected']}, throttled {d['throttled']}, client-side errors {errors}; "
          f"log pending {d['rows_pending']}, flush error {d['error']}")
    if not (rows == ids == d["rows_received"] and seen <= rows <= seen + unseen):
        print("polder: ROW CHECK FAILED")
        ok = False
    if errors or d["batches_rejected"] or d["throttled"] or d["rows_pending"] or d["error"]:
        print("polder: ERRORS (see above)")
        ok = False
    for spec in a.peer or []:
        name, folder = spec.split("=", 1)
        import glob

        files = sorted(glob.glob(os.path.join(folder, "**", "*.parquet"), recursive=True))
        rows, ids = count(files)
        s, u, e = acked(results, name)
        good = rows == ids and s <= rows <= s + u
        print(f"{name}: after a graceful stop, {len(files)} Parquet files hold {rows:,} rows, {ids:,} distinct ids "
              f"(wrk saw {s:,} acknowledged, at most {u:,} more in flight; client-side errors {e})"
              + ("" if good else "  ROW CHECK FAILED"))
    if ok:
        print("polder: every acknowledged row is in its Parquet, once")
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
