#!/usr/bin/env python3
"""Runner benchmark: idle RSS of `polder serve`, time from trigger to first task start, and 50
concurrent clients paging a task's output while a pipeline runs (p50/p99 latency, errors).

Usage: python3 bench/runner.py [--rows 2000000] [--clients 50] [--seconds 15]
Only the Python standard library; the runner is started on 127.0.0.1 and stopped at the end.
"""
import argparse, http.client, json, os, random, shutil, statistics, subprocess, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/polder/target"))
BIN = os.path.join(TARGET, "debug", "polder")
TOKEN = "bench-token"
HDR = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def call(conn, method, path, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=HDR)
    r = conn.getresponse()
    data = r.read()
    return r.status, data


def wait_run(port, run_id):
    c = http.client.HTTPConnection("127.0.0.1", port)
    while True:
        _, data = call(c, "GET", f"/api/runs/{run_id}")
        st = json.loads(data)["run"]["status"]
        if st != "running":
            return st
        time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--latency-runs", type=int, default=20)
    a = ap.parse_args()

    subprocess.run(["cargo", "build", "-q", "--workspace"], cwd=ROOT, check=True, env={**os.environ, "CARGO_TARGET_DIR": TARGET})
    ws = tempfile.mkdtemp(prefix="polder-bench-")
    try:
        med = os.path.join(ws, "medallion")
        shutil.copytree(os.path.join(ROOT, "examples", "medallion"), med, ignore=shutil.ignore_patterns("data", "out"))
        subprocess.run([BIN, "gen", "medallion", "--out", os.path.join(med, "data", "logs"), "--rows", str(a.rows)], check=True, stdout=subprocess.DEVNULL)
        ping = os.path.join(ws, "ping")
        os.makedirs(ping)
        with open(os.path.join(ping, "pipeline.toml"), "w") as f:
            f.write('[pipeline]\nname = "ping"\n\n[[task]]\nid = "one"\nkind = "sql"\nsql = "SELECT 1 AS x"\n')

        t0 = time.perf_counter()
        srv = subprocess.Popen([BIN, "--workspace", ws, "serve", "--bind", "127.0.0.1:0"], stdout=subprocess.PIPE, env={**os.environ, "POLDER_TOKEN": TOKEN}, text=True)
        line = srv.stdout.readline()
        startup_ms = (time.perf_counter() - t0) * 1000
        port = int(line.strip().rsplit(":", 1)[1])
        time.sleep(2)
        idle_rss = rss_mb(srv.pid)

        c = http.client.HTTPConnection("127.0.0.1", port)
        _, data = call(c, "POST", "/api/pipelines/medallion/runs", {})
        assert wait_run(port, json.loads(data)["run_id"]) == "success"
        _, data = call(c, "GET", "/api/pipelines/medallion/tasks/gold/output?limit=1")
        total = json.loads(data)["total_rows"]

        # Trigger → first task start, seen through the SSE stream as a UI would.
        started = {}
        def sse():
            s = http.client.HTTPConnection("127.0.0.1", port)
            s.request("GET", "/api/events", headers=HDR)
            r = s.getresponse()
            while True:
                raw = r.fp.readline()
                if not raw:
                    return
                if raw.startswith(b"data: "):
                    ev = json.loads(raw[6:])
                    if ev.get("event") == "task_started" and ev["run_id"] not in started:
                        started[ev["run_id"]] = time.perf_counter()
        threading.Thread(target=sse, daemon=True).start()
        time.sleep(0.3)
        lat = []
        for _ in range(a.latency_runs):
            t = time.perf_counter()
            _, data = call(c, "POST", "/api/pipelines/ping/runs", {"force": True})
            rid = json.loads(data)["run_id"]
            wait_run(port, rid)
            while rid not in started:
                time.sleep(0.001)
            lat.append((started[rid] - t) * 1000)

        # Paging load while the medallion pipeline reruns.
        _, data = call(c, "POST", "/api/pipelines/medallion/runs", {"force": True})
        load_run = json.loads(data)["run_id"]
        lats, errors, stop = [], [0], time.perf_counter() + a.seconds
        lock = threading.Lock()
        def client():
            conn = http.client.HTTPConnection("127.0.0.1", port)
            mine = []
            while time.perf_counter() < stop:
                off = random.randrange(0, max(total - 100, 1))
                t = time.perf_counter()
                try:
                    st, _ = call(conn, "GET", f"/api/pipelines/medallion/tasks/gold/output?offset={off}&limit=100")
                    ok = st == 200
                except Exception:
                    ok = False
                    conn = http.client.HTTPConnection("127.0.0.1", port)
                if ok:
                    mine.append((time.perf_counter() - t) * 1000)
                else:
                    with lock:
                        errors[0] += 1
            with lock:
                lats.extend(mine)
        threads = [threading.Thread(target=client) for _ in range(a.clients)]
        for t in threads:
            t.start()
        peak = 0.0
        while any(t.is_alive() for t in threads):
            peak = max(peak, rss_mb(srv.pid))
            time.sleep(0.2)
        run_status = wait_run(port, load_run)
        srv.terminate()
        srv.wait()

        q = statistics.quantiles(lats, n=100)
        print(f"\nmedallion rows: {a.rows:,}; gold rows paged: {total:,}; {os.cpu_count()} cores")
        print("| measure | polder serve |")
        print("|---|---|")
        print(f"| start to listening | {startup_ms:.0f} ms |")
        print(f"| idle RSS | {idle_rss:.0f} MB |")
        print(f"| trigger → first task start (median of {len(lat)}, p90) | {statistics.median(lat):.1f} ms, {statistics.quantiles(lat, n=10)[-1]:.1f} ms |")
        print(f"| {a.clients} clients paging 100-row JSON pages for {a.seconds:.0f} s during a run ({run_status}) | {len(lats):,} requests, {len(lats) / a.seconds:.0f}/s |")
        print(f"| page latency p50 / p99 | {q[49]:.1f} ms / {q[98]:.1f} ms |")
        print(f"| errors | {errors[0]} |")
        print(f"| peak RSS during the load (pipeline running in-process) | {peak:.0f} MB |")
    finally:
        shutil.rmtree(ws, ignore_errors=True)


if __name__ == "__main__":
    main()
