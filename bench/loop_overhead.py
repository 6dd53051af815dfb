"""The loop's own scheduling cost: callbacks, timers, futures, tasks.

Every workload runs in a fresh process pinned to one CPU, once per loop
(asyncio, uvloop, rloop, evloop), the loops interleaved and the whole
matrix repeated ``--repeat`` times; the table shows the median ns per
operation and evloop's ratios to uvloop and rloop (lower is better).

    .venv/bin/python bench/loop_overhead.py                 # every workload, 3 repeats
    .venv/bin/python bench/loop_overhead.py --quick         # smaller counts, 1 repeat
    .venv/bin/python bench/loop_overhead.py --workloads call_soon timers --json bench/out/overhead.json

Workloads (N is the count of operations a ns/op divides by):

call_soon     a chain of N call_soon: each callback schedules the next
sleep0        50 tasks, each awaiting asyncio.sleep(0) N/50 times
timers        N call_later with distinct delays within 1 ms, half of them
              cancelled, the loop run until every remaining one fired
call_at_eq    N call_at with one equal deadline, run until all fired (FIFO)
futures       N times: create_future, call_soon(fut.set_result), await it
tasks         N create_task of a trivial coroutine, then gather
threadsafe    N call_soon_threadsafe from another thread, run until all ran
timeout       N times: ``async with asyncio.timeout(10): await fut`` with a
              future set by call_soon (Python 3.11+)

Methodology: each child runs the workload once at N/10 to warm up, then
times one run at N with ``time.perf_counter``; the GC is left on (it is part
of what a real program pays).  A loop that lacks a feature shows "-".
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

import _common
from _common import fmt, machine_info, print_table, ratio

LOOPS = ("asyncio", "uvloop", "rloop", "evloop")
WORKLOADS = {
    "call_soon": 200_000,
    "sleep0": 200_000,
    "timers": 100_000,
    "call_at_eq": 100_000,
    "futures": 100_000,
    "tasks": 50_000,
    "threadsafe": 100_000,
    "timeout": 100_000,
}
# Issue targets: evloop <= rloop's ns/op and <= 0.6x uvloop's; timers <= 0.5x uvloop.
TARGET_VS_UVLOOP = {"timers": 0.5, "call_at_eq": 0.5}
DEFAULT_TARGET_VS_UVLOOP = 0.6


# -- the child: one loop, one workload ---------------------------------------------------


new_loop = _common.new_loop


def w_call_soon(loop, n):
    left = [n]
    done = loop.create_future()

    def cb():
        left[0] -= 1
        if left[0]:
            loop.call_soon(cb)
        else:
            done.set_result(None)

    loop.call_soon(cb)
    return done


async def w_sleep0(loop, n):
    import asyncio

    per = n // 50

    async def worker():
        for _ in range(per):
            await asyncio.sleep(0)

    await asyncio.gather(*[worker() for _ in range(50)])


async def w_timers(loop, n):
    left = [0]
    done = loop.create_future()

    def cb():
        left[0] -= 1
        if not left[0]:
            done.set_result(None)

    handles = [loop.call_later(i * 1e-3 / n, cb) for i in range(n)]
    for h in handles[::2]:
        h.cancel()
    left[0] = len(handles) - len(handles[::2])
    await done


async def w_call_at_eq(loop, n):
    left = [n]
    done = loop.create_future()

    def cb():
        left[0] -= 1
        if not left[0]:
            done.set_result(None)

    when = loop.time() + 1e-3
    for _ in range(n):
        loop.call_at(when, cb)
    await done


async def w_futures(loop, n):
    for _ in range(n):
        fut = loop.create_future()
        loop.call_soon(fut.set_result, None)
        await fut


async def w_tasks(loop, n):
    import asyncio

    async def trivial():
        return 1

    tasks = [loop.create_task(trivial()) for _ in range(n)]
    await asyncio.gather(*tasks)


async def w_threadsafe(loop, n):
    left = [n]
    done = loop.create_future()

    def cb():
        left[0] -= 1
        if not left[0]:
            done.set_result(None)

    def producer():
        for _ in range(n):
            loop.call_soon_threadsafe(cb)

    t = threading.Thread(target=producer)
    t.start()
    await done
    t.join()


async def w_timeout(loop, n):
    import asyncio

    for _ in range(n):
        fut = loop.create_future()
        loop.call_soon(fut.set_result, None)
        async with asyncio.timeout(10):
            await fut


def run_child(loop_name, workload, n):
    import asyncio

    if workload == "timeout" and sys.version_info < (3, 11):
        return {"error": "asyncio.timeout needs Python 3.11"}
    fn = globals()["w_" + workload]
    loop = new_loop(loop_name)
    asyncio.set_event_loop(loop)
    try:
        def once(count):
            r = fn(loop, count)
            loop.run_until_complete(r)

        once(max(n // 10, 50))
        t0 = time.perf_counter()
        once(n)
        dt = time.perf_counter() - t0
    finally:
        loop.close()
    return {"ns_per_op": dt * 1e9 / n}


# -- the driver --------------------------------------------------------------------------


def versions():
    out = {"python": sys.version.split()[0], "evloop_git": _common.git_rev()}
    for name in ("uvloop", "rloop"):
        r = subprocess.run([sys.executable, "-c", f"import {name}; print({name}.__version__)"],
                           capture_output=True, text=True, timeout=60)
        out[name] = r.stdout.strip() or "unavailable"
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _common.add_matrix_args(ap, LOOPS, WORKLOADS, "multiply every N by this", "--scale 0.2 --repeat 1")
    args = ap.parse_args(argv)

    if args.child:
        loop_name, workload, n = args.child
        print(json.dumps(run_child(loop_name, workload, int(n))))
        return 0
    if args.quick:
        args.scale, args.repeat = 0.2, 1
    cpu, results, errors = _common.run_matrix(__file__, args, WORKLOADS, 100, "ns_per_op", "ns/op", ",.0f")

    mach = machine_info()
    vers = versions()
    print(f"\nMachine: {mach['cpu_model']}, {mach['nproc']} CPUs{' (VM)' if mach['virtualized'] else ''}, "
          f"Linux {mach['kernel']}, Python {vers['python']}; uvloop {vers['uvloop']}, rloop {vers['rloop']}, "
          f"evloop {vers['evloop_git']}; children pinned to CPU {cpu}; median of {args.repeat}\n")
    med = {w: {lp: (statistics.median(v) if v else None) for lp, v in d.items()} for w, d in results.items()}
    headers = ["workload"] + [f"{lp} ns/op" for lp in args.loops]
    have = set(args.loops)
    if {"evloop", "uvloop"} <= have:
        headers += ["ev/uv", "target"]
    if {"evloop", "rloop"} <= have:
        headers += ["ev/rloop", "<= 1"]
    rows = []
    summary = {}
    for w in args.workloads:
        m = med[w]
        row = [w] + [fmt(m[lp]) for lp in args.loops]
        entry = {"ns_per_op": m}
        if {"evloop", "uvloop"} <= have:
            r = ratio(m["evloop"], m["uvloop"])
            target = TARGET_VS_UVLOOP.get(w, DEFAULT_TARGET_VS_UVLOOP)
            row += [fmt(r, ".2f"), ("-" if r is None else ("met" if r <= target else "NOT met")) + f" (<= {target})"]
            entry["ev_vs_uvloop"] = r
        if {"evloop", "rloop"} <= have:
            r = ratio(m["evloop"], m["rloop"])
            row += [fmt(r, ".2f"), "-" if r is None else ("met" if r <= 1 else "NOT met")]
            entry["ev_vs_rloop"] = r
        rows.append(row)
        summary[w] = entry
    print_table(headers, rows)
    for (w, lp), e in sorted(errors.items()):
        print(f"  {w} on {lp}: {e}")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"machine": mach, "versions": vers, "args": vars(args), "results": results,
                       "summary": summary, "errors": {f"{w}/{lp}": e for (w, lp), e in errors.items()}},
                      f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
