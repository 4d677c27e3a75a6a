#!/usr/bin/env python3
"""Validation benchmark: `POST /api/pipelines/validate` time by pipeline size (1k to 20k tasks,
linear is the goal), and the latency of `GET /api/pipelines` while 3 validations of 10k tasks
run at once (the async workers must stay free).

Usage: python3 bench/validate.py [--runs 3] [--bin PATH]
Only the Python standard library; the runner is started on 127.0.0.1 and stopped at the end.
"""
import argparse, http.client, json, os, statistics, subprocess, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/polder/target"))
TOKEN = "bench-token"
HDR = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def spec(n):
    parts = ['[pipeline]\nname = "wide"\n\n[[task]]\nid = "t0"\nkind = "sql"\nsql = "SELECT 1 AS a"\n']
    parts += [f'\n[[task]]\nid = "t{i}"\nkind = "sql"\nsql = "SELECT a FROM t{i - 1}"\n' for i in range(1, n)]
    return json.dumps({"spec": "".join(parts)})


def post(port, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t = time.perf_counter()
    c.request("POST", "/api/pipelines/validate", body=body, headers=HDR)
    r = c.getresponse()
    data = json.loads(r.read())
    assert r.status == 200 and data["valid"], data
    return time.perf_counter() - t


def get_list(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t = time.perf_counter()
    c.request("GET", "/api/pipelines", headers=HDR)
    r = c.getresponse()
    r.read()
    assert r.status == 200
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bin", default=os.path.join(TARGET, "debug", "polder"))
    a = ap.parse_args()
    ws = tempfile.mkdtemp(prefix="polder-bench-validate-")
    proc = subprocess.Popen([a.bin, "--workspace", ws, "serve", "--bind", "127.0.0.1:0"], env={**os.environ, "POLDER_TOKEN": TOKEN},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = None
        for line in proc.stdout:
            if "127.0.0.1:" in line:
                port = int(line.split("127.0.0.1:")[1].split()[0].strip("/"))
                break
        assert port, "runner did not say its address"
        print("| tasks | spec size | median validate (s) | per 1k tasks (ms) |")
        print("|---|---|---|---|")
        for n in (1_000, 4_000, 10_000, 20_000):
            body = spec(n)
            times = [post(port, body) for _ in range(a.runs)]
            med = statistics.median(times)
            print(f"| {n:,} | {len(body) / 1e6:.1f} MB | {med:.3f} | {med / n * 1e6:.1f} |")
        idle = statistics.median(get_list(port) for _ in range(20))
        body = spec(10_000)
        busy = []
        for _ in range(a.runs):
            threads = [threading.Thread(target=post, args=(port, body)) for _ in range(3)]
            for t in threads:
                t.start()
            time.sleep(0.05)
            busy.append(get_list(port))
            for t in threads:
                t.join()
        print(f"\nGET /api/pipelines: idle median {idle * 1000:.1f} ms; during 3 concurrent 10k-task validations median {statistics.median(busy) * 1000:.1f} ms (max {max(busy) * 1000:.1f} ms)")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
