"""The README table of a load bench: medians per program of the lines `LABEL wall cpu rss` in RAW.

  load_table.py RAW ROWS MB BASE LIMIT

MB is the size of the rows in the server's own format (binary COPY, Native), for MB/s; each
program's wall time is given as a ratio to BASE's (the usual alternative) and to LIMIT's (the
server loading its own format from a local file), and as a rate against LIMIT's (1.00 = as fast).
"""
import statistics
import sys

raw, rows, mb, base, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
by = {}
for line in open(raw):
    label, wall, cpu, rss = line.split()
    by.setdefault(label, []).append((float(wall), float(cpu), int(rss)))
med = {k: statistics.median(w for w, _, _ in v) for k, v in by.items()}
print(f"\n| program | median wall (s) | client CPU (s) | client peak RSS (MB) | wall vs {base} | rate vs {limit} | rows/s | MB/s |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for label, runs in by.items():
    cpu = statistics.median(c for _, c, _ in runs)
    rss = max(r for *_, r in runs)
    wall = med[label]
    print(
        f"| {label} | {wall:.2f} | {cpu:.2f} | {rss} | {wall / med[base]:.2f}x | {med[limit] / wall:.2f}x"
        f" | {rows / wall:,.0f} | {mb / wall:,.0f} |"
    )
