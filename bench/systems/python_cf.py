"""Python's concurrent.futures.ThreadPoolExecutor on the in-process workloads.

Usage: python3 python_cf.py WORKLOAD PARAMS_JSON
       python3 python_cf.py probe   (prints the speed probe's best of 3)
Prints one line: BENCH_RESULT {"result": ..., "cpu": ..., "runtime": ...}
(the same report as bench/child.ts). Standard library only.
"""

import gc
import json
import os
import platform
import sys
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

RESULT_PREFIX = "BENCH_RESULT "
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def proc_stat():
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    n = [int(x) for x in fields[1:]] + [0] * 10
    # user nice system idle iowait irq softirq steal (guest time is already in user)
    return {"busy": n[0] + n[1] + n[2] + n[5] + n[6], "steal": n[7]}


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


def w1(p):
    n, delay = p["tasks"], p.get("delayMs", 10) / 1000
    with ThreadPoolExecutor(max_workers=p["concurrency"]) as ex:
        futures = [None] * n
        start = time.perf_counter()
        for i in range(n):
            futures[i] = ex.submit(time.sleep, delay)
        completed = sum(1 for f in futures if f.result() is None)
        elapsed = time.perf_counter() - start
    return {"completed": completed, "elapsedMs": elapsed * 1000}


def w2(p):
    n = p["tasks"]
    with ThreadPoolExecutor(max_workers=p["concurrency"]) as ex:
        futures = [None] * n
        start = time.perf_counter()
        for i in range(n):
            futures[i] = ex.submit(lambda: None)
        completed = sum(1 for f in futures if f.result() is None)
        elapsed = time.perf_counter() - start
    return {"completed": completed, "elapsedMs": elapsed * 1000}


def queue_behind_blocker(n, read):
    """Queues n no-op tasks behind one busy worker; returns readings taken while all are reachable."""
    ex = ThreadPoolExecutor(max_workers=1)
    started, gate = threading.Event(), threading.Event()

    def block():
        started.set()
        gate.wait()

    blocker = ex.submit(block)
    started.wait()
    futures = [None] * n
    gc.collect()
    before = read()
    start = time.perf_counter()
    for i in range(n):
        futures[i] = ex.submit(lambda: None)
    elapsed = time.perf_counter() - start
    gc.collect()
    after = read()
    queued = ex._work_queue.qsize()
    gate.set()
    blocker.result()
    completed = sum(1 for f in futures if f.result() is None)
    ex.shutdown(wait=True)
    return before, after, queued, completed, elapsed


def w6(p):
    n = p["tasks"]
    # Pass 1: RSS, without tracemalloc (which costs memory of its own).
    rss_before, rss_after, queued, completed, elapsed = queue_behind_blocker(n, rss)
    # Pass 2: bytes allocated by Python objects (tracemalloc), the analogue of V8's heapUsed.
    tracemalloc.start()
    try:
        heap_before, heap_after, queued2, completed2, _ = queue_behind_blocker(
            n, lambda: tracemalloc.get_traced_memory()[0]
        )
    finally:
        tracemalloc.stop()
    return {
        "completed": min(completed, completed2),
        "elapsedMs": elapsed * 1000,
        "memoryBefore": {"heapUsed": heap_before, "rss": rss_before},
        "memoryAfter": {"heapUsed": heap_after, "rss": rss_after},
        "queuedAtMeasure": min(queued, queued2),
        "heapKind": "tracemalloc",
    }


WORKLOADS = {"W1": w1, "W2": w2, "W6": w6}


def cpu_probe():
    """The speed probe: a fixed integer loop, in iterations per microsecond."""
    x, n = 1, 300_000
    start = time.perf_counter()
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    elapsed = time.perf_counter() - start
    return n / (elapsed * 1e6)


def main():
    if sys.argv[1] == "probe":
        print(max(cpu_probe() for _ in range(3)))
        return
    workload, params = sys.argv[1], json.loads(sys.argv[2])
    if workload not in WORKLOADS:
        sys.exit(f"python_cf.py: unsupported workload {workload}")
    before = max(cpu_probe(), cpu_probe())
    ticks, cpu, wall = proc_stat(), time.process_time(), time.perf_counter()
    result = WORKLOADS[workload](params)
    wall_ms = (time.perf_counter() - wall) * 1000
    own_ms = (time.process_time() - cpu) * 1000
    end = proc_stat()
    probe = {"before": before, "after": cpu_probe()}
    sample = None
    if ticks is not None and end is not None:
        sample = {
            "wallMs": wall_ms,
            "ownCpuMs": own_ms,
            "busyTicks": end["busy"] - ticks["busy"],
            "stealTicks": end["steal"] - ticks["steal"],
        }
    runtime = f"{platform.python_implementation()} {platform.python_version()}"
    print(RESULT_PREFIX + json.dumps({"result": result, "cpu": sample, "probe": probe, "runtime": runtime}), flush=True)


if __name__ == "__main__":
    main()
