"""Python's concurrent.futures: ThreadPoolExecutor on the in-process workloads
(W1, W2, W6), ProcessPoolExecutor on the worker-pool workloads (W3, W3c, W4, W5, W6).

Usage: python3 python_cf.py WORKLOAD PARAMS_JSON [threads|processes]   (default threads)
       python3 python_cf.py probe   (prints the speed probe's best of 3)
Prints one line: BENCH_RESULT {"result": ..., "cpu": ..., "runtime": ...}
(the same report as bench/child.ts). Standard library only. The CPU time
reported includes that of the worker processes (every pool is shut down, so
joined, before the run ends).
"""

import gc
import json
import multiprocessing
import os
import platform
import sys
import threading
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

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


def two_pass_memory(n, queue_behind):
    """W6 in two passes: RSS without tracemalloc (which costs memory of its own), then
    the bytes allocated by Python objects (tracemalloc), the analogue of V8's heapUsed."""
    rss_before, rss_after, queued, completed, elapsed = queue_behind(n, rss)
    tracemalloc.start()
    try:
        heap_before, heap_after, queued2, completed2, _ = queue_behind(n, lambda: tracemalloc.get_traced_memory()[0])
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


def w6(p):
    return two_pass_memory(p["tasks"], queue_behind_blocker)


THREAD_WORKLOADS = {"W1": w1, "W2": w2, "W6": w6}


# ---------------------------------------------------------------------------
# ProcessPoolExecutor: the worker-pool workloads. Task functions are top-level
# so that they pickle by name.
# ---------------------------------------------------------------------------


def square(x):
    return x * x


def spin(iterations, seed):
    """W4's pure integer loop (the same 32-bit LCG as bench/workers/kernels.ts)."""
    x = seed
    for _ in range(iterations):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    return x


_shared = None  # what the pool's initializer received: a Barrier, or (started, release) Events


def _init_shared(*shared):
    global _shared
    _shared = shared


def warm(iterations):
    """Boot rendezvous: every worker process takes one (it waits for all), then runs the loop."""
    _shared[0].wait(timeout=10)
    return spin(iterations, 1)


def block():
    """W6's blocker: waits in the worker process on an Event the main process sets after measuring."""
    started, release = _shared
    started.set()
    release.wait()
    return 0


def process_pool(workers):
    """A pool whose workers can all be proven started (see warm)."""
    ctx = multiprocessing.get_context()
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_shared, initargs=(ctx.Barrier(workers),)
    )


def boot(ex, workers, iterations=1000):
    for f in [ex.submit(warm, iterations) for _ in range(workers)]:
        f.result()


def pw3(p):
    """W3: one submit per task (chunksize 1), all submitted, then all awaited in order."""
    n, workers = p["tasks"], p["concurrency"]
    with process_pool(workers) as ex:
        boot(ex, workers)
        for f in [ex.submit(square, i) for i in range(min(2000, n))]:
            f.result()
        futures = [None] * n
        start = time.perf_counter()
        for i in range(n):
            futures[i] = ex.submit(square, i)
        completed = sum(1 for i, f in enumerate(futures) if f.result() == i * i)
        elapsed = time.perf_counter() - start
    return {"completed": completed, "elapsedMs": elapsed * 1000}


def pw3c(p):
    """W3c: map(square, items, chunksize=chunksize), collected."""
    n, workers, chunksize = p["tasks"], p["concurrency"], p.get("chunksize", 1000)
    with process_pool(workers) as ex:
        boot(ex, workers)
        list(ex.map(square, range(min(2000, n)), chunksize=chunksize))
        items = list(range(n))
        start = time.perf_counter()
        results = list(ex.map(square, items, chunksize=chunksize))
        elapsed = time.perf_counter() - start
    completed = sum(1 for i, y in enumerate(results) if y == i * i)
    return {"completed": completed, "elapsedMs": elapsed * 1000}


def calibrate_spin(task_ms):
    spin(10_000, 0)
    n = 200_000
    best = min(_timed(lambda: spin(n, 0)) for _ in range(3))
    return max(1000, round(n / best * task_ms / 1000))


def _timed(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def pw4(p):
    """W4: the tasks serially in this process, then through the pool; speedup = serial / pool."""
    n, workers = p["tasks"], p["concurrency"]
    iterations = calibrate_spin(p.get("taskMs", 100))
    start = time.perf_counter()
    expected = [spin(iterations, i + 1) for i in range(n)]
    serial = time.perf_counter() - start
    with process_pool(workers) as ex:
        boot(ex, workers)
        start = time.perf_counter()
        futures = [ex.submit(spin, iterations, i + 1) for i in range(n)]
        completed = sum(1 for i, f in enumerate(futures) if f.result() == expected[i])
        elapsed = time.perf_counter() - start
    return {"completed": completed, "elapsedMs": elapsed * 1000, "serialMs": serial * 1000, "iterations": iterations}


def quantile(sorted_samples, q):
    return sorted_samples[min(len(sorted_samples) - 1, int(q * len(sorted_samples)))]


def pw5(p):
    """W5: pool creation to first result, then sequential submit-and-await round trips."""
    n, workers = p["tasks"], p["concurrency"]
    spawn_start = time.perf_counter()
    with process_pool(workers) as ex:
        if ex.submit(square, 3).result() != 9:
            raise RuntimeError("wrong first result")
        spawn_ms = (time.perf_counter() - spawn_start) * 1000
        boot(ex, workers)
        for i in range(min(500, n)):
            ex.submit(square, i).result()
        samples = [0.0] * n
        completed = 0
        start = time.perf_counter()
        for i in range(n):
            t = time.perf_counter()
            y = ex.submit(square, i).result()
            samples[i] = (time.perf_counter() - t) * 1e6
            if y == i * i:
                completed += 1
        elapsed = time.perf_counter() - start
    s = sorted(samples)
    latency = {q: quantile(s, v) for q, v in (("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p99", 0.99))}
    latency["mean"] = sum(s) / n
    return {"completed": completed, "elapsedMs": elapsed * 1000, "latencyUs": latency, "spawnMs": spawn_ms}


def queue_behind_blocked_process(n, read):
    """Queues n tasks behind one worker process blocked on an Event; readings taken while all are reachable."""
    ctx = multiprocessing.get_context()
    started, release = ctx.Event(), ctx.Event()
    ex = ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_init_shared, initargs=(started, release))
    if ex.submit(square, 2).result() != 4:
        raise RuntimeError("wrong warm-up result")
    blocker = ex.submit(block)
    if not started.wait(timeout=10):
        raise RuntimeError("the blocking task did not start within 10 s")
    futures = [None] * n
    gc.collect()
    before = read()
    start = time.perf_counter()
    for i in range(n):
        futures[i] = ex.submit(square, i)
    elapsed = time.perf_counter() - start
    time.sleep(0.05)  # the executor's manager thread moves what it can to the call queue
    gc.collect()
    after = read()
    queued = len(ex._pending_work_items) - 1  # all but the blocker are not started
    release.set()
    blocker.result()
    completed = sum(1 for i, f in enumerate(futures) if f.result() == i * i)
    ex.shutdown(wait=True)
    return before, after, queued, completed, elapsed


def pw6(p):
    return two_pass_memory(p["tasks"], queue_behind_blocked_process)


PROCESS_WORKLOADS = {"W3": pw3, "W3c": pw3c, "W4": pw4, "W5": pw5, "W6": pw6}


def cpu_probe():
    """The speed probe: a fixed integer loop, in iterations per microsecond."""
    x, n = 1, 300_000
    start = time.perf_counter()
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    elapsed = time.perf_counter() - start
    return n / (elapsed * 1e6)


def children_cpu():
    """CPU seconds of terminated, waited-for child processes (the pools' workers)."""
    t = os.times()
    return t.children_user + t.children_system


def main():
    if sys.argv[1] == "probe":
        print(max(cpu_probe() for _ in range(3)))
        return
    workload, params = sys.argv[1], json.loads(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "threads"
    workloads = PROCESS_WORKLOADS if mode == "processes" else THREAD_WORKLOADS
    if workload not in workloads:
        sys.exit(f"python_cf.py: unsupported workload {workload} ({mode})")
    before = max(cpu_probe(), cpu_probe())
    ticks, cpu, children, wall = proc_stat(), time.process_time(), children_cpu(), time.perf_counter()
    result = workloads[workload](params)
    wall_ms = (time.perf_counter() - wall) * 1000
    own_ms = (time.process_time() - cpu + children_cpu() - children) * 1000
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
