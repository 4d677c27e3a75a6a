"""Runs a command and writes "wall_s cpu_s peak_rss_mb" for it and every process it starts.

/usr/bin/time is not enough for Polder: its task processes are not waited for (they die with it),
so their CPU is missed, and Polder resets their peak-RSS counter per task (clear_refs), so the
kernel's maxrss only knows a process's last task. Here orphans are reaped (a subreaper) so their
CPU counts, and memory is the resident size of the whole process tree, sampled every 20 ms (or
the kernel's maxrss of the largest process, if larger: a spike between samples).

Usage: rusage.py OUT.txt COMMAND...   (output passes through; exits with the command's status)
"""
import ctypes
import os
import resource
import subprocess
import sys
import threading
import time

PR_SET_CHILD_SUBREAPER = 36
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss() -> int:
    """Bytes resident in all of this process's descendants."""
    total, todo = 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        try:
            if pid != os.getpid():
                total += int(open(f"/proc/{pid}/statm").read().split()[1]) * PAGE
            for tid in os.listdir(f"/proc/{pid}/task"):
                todo += [int(c) for c in open(f"/proc/{pid}/task/{tid}/children").read().split()]
        except (FileNotFoundError, ProcessLookupError):
            pass  # ended meanwhile
    return total


def main() -> int:
    out, cmd = sys.argv[1], sys.argv[2:]
    # Orphaned descendants are re-parented here, and reaping them adds to RUSAGE_CHILDREN.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    # Less what was counted before (a pyenv shim's children are counted in the python it execs).
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak, stop = [0], threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], tree_rss())

    start = time.monotonic()
    proc = subprocess.Popen(cmd)
    sampler = threading.Thread(target=sample)
    sampler.start()
    status = proc.wait()
    wall = time.monotonic() - start
    stop.set()
    sampler.join()
    while True:  # reap what is left (processes ending after the command did)
        try:
            os.wait()
        except ChildProcessError:
            break
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ru.ru_utime + ru.ru_stime - before.ru_utime - before.ru_stime
    # maxrss has a floor of this program's own size (~14 MB): the kernel counts the mm a child
    # had until its exec.
    rss_mb = max(peak[0] // 2**20, ru.ru_maxrss // 1024)
    with open(out, "w") as f:
        f.write(f"{wall:.2f} {cpu:.2f} {rss_mb}\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
