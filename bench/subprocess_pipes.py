#!/usr/bin/env python3
"""Subprocess spawn-and-wait and pipe throughput on asyncio, uvloop, rloop and evloop.

Workloads (each run in a fresh process pinned to one CPU, per loop):

* ``spawn``: N times ``await (await asyncio.create_subprocess_exec("true")).wait()``,
  one after the other (the cost of Popen plus the exit watching);
* ``spawn_conc``: N ``true`` children started together, then all waited for
  (gather), so the loop's exit watching of many children at once counts;
* ``pipe``: M MiB through an ``os.pipe()`` pair, ``connect_write_pipe`` on the
  write end and ``connect_read_pipe`` on the read end of the same loop, in
  64 KiB writes under flow control (the writer waits in ``drain``-style on
  ``resume_writing`` when paused).

Prints µs per operation (per child, or per MiB), the median of --repeat
runs with the loops taking turns, and evloop's ratios to the others (lower
is better).  A loop that lacks a feature (rloop's subprocesses or pipes)
shows its error instead of a number.  Do not run at full size on a shared
machine; ``--quick`` is a smoke run.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import _common
from _common import fmt, print_table, ratio

LOOPS = ("asyncio", "uvloop", "rloop", "evloop")
# workload -> (default size, unit of the per-op number)
WORKLOADS = {"spawn": (200, "child"), "spawn_conc": (200, "child"), "pipe": (64, "MiB")}


# -- the child: one loop, one workload ---------------------------------------------------


new_loop = _common.new_loop


async def w_spawn(loop, n):
    import asyncio

    for _ in range(n):
        proc = await asyncio.create_subprocess_exec("true")
        await proc.wait()


async def w_spawn_conc(loop, n):
    import asyncio

    procs = [await asyncio.create_subprocess_exec("true") for _ in range(n)]
    await asyncio.gather(*(p.wait() for p in procs))


async def w_pipe(loop, mib):
    import asyncio

    total = mib * 1024 * 1024
    chunk = b"x" * 65536
    done = loop.create_future()

    class Reader(asyncio.Protocol):
        def __init__(self):
            self.n = 0

        def data_received(self, data):
            self.n += len(data)
            if self.n >= total and not done.done():
                done.set_result(None)

    class Writer(asyncio.Protocol):
        def __init__(self):
            self.resumed = None

        def pause_writing(self):
            self.resumed = loop.create_future()

        def resume_writing(self):
            self.resumed.set_result(None)
            self.resumed = None

    rfd, wfd = os.pipe()
    rtr, _ = await loop.connect_read_pipe(Reader, os.fdopen(rfd, "rb", 0))
    wtr, wproto = await loop.connect_write_pipe(Writer, os.fdopen(wfd, "wb", 0))
    try:
        sent = 0
        while sent < total:
            wtr.write(chunk)
            sent += len(chunk)
            if wproto.resumed is not None:
                await wproto.resumed
        await done
    finally:
        wtr.close()
        rtr.close()
        await asyncio.sleep(0)


WORKLOAD_FUNCS = {"spawn": w_spawn, "spawn_conc": w_spawn_conc, "pipe": w_pipe}


def run_child(loop_name, workload, n):
    import asyncio

    loop = new_loop(loop_name)
    asyncio.set_event_loop(loop)
    fn = WORKLOAD_FUNCS[workload]
    try:
        loop.run_until_complete(fn(loop, max(n // 10, 1)))   # warm-up
        t0 = time.perf_counter()
        loop.run_until_complete(fn(loop, n))
        dt = time.perf_counter() - t0
    finally:
        loop.close()
    return {"us_per_op": dt * 1e6 / n}


# -- the driver --------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _common.add_matrix_args(ap, LOOPS, WORKLOADS, "multiply every size by this", "a smoke run: --scale 0.05 --repeat 1")
    args = ap.parse_args(argv)

    if args.child:
        loop_name, workload, n = args.child
        print(json.dumps(run_child(loop_name, workload, int(n))))
        return 0
    if args.quick:
        args.scale, args.repeat = 0.05, 1
    sizes = {w: spec[0] for w, spec in WORKLOADS.items()}
    cpu, results, errors = _common.run_matrix(__file__, args, sizes, 2, "us_per_op", "us/op", ",.1f")

    mach = _common.machine_info()
    print(f"\nMachine: {mach['cpu_model']}, {mach['nproc']} CPUs{' (VM)' if mach['virtualized'] else ''}, "
          f"Linux {mach['kernel']}, Python {mach['python']}; evloop {_common.git_rev()}; "
          f"children pinned to CPU {cpu}; median of {args.repeat}\n")
    med = {w: {lp: (statistics.median(v) if v else None) for lp, v in d.items()}
           for w, d in results.items()}
    others = [lp for lp in args.loops if lp != "evloop"]
    headers = ["workload", "unit"] + [f"{lp} us/op" for lp in args.loops]
    if "evloop" in args.loops:
        headers += [f"ev/{lp}" for lp in others]
    rows = []
    summary = {}
    for w in args.workloads:
        m = med[w]
        row = [w, WORKLOADS[w][1]] + [fmt(m[lp], ",.1f") for lp in args.loops]
        entry = {"us_per_op": m, "unit": WORKLOADS[w][1]}
        if "evloop" in args.loops:
            for lp in others:
                r = ratio(m["evloop"], m[lp])
                row.append(fmt(r, ".2f"))
                entry[f"ev_vs_{lp}"] = r
        rows.append(row)
        summary[w] = entry
    print_table(headers, rows, left=2)
    for (w, lp), e in sorted(errors.items()):
        print(f"  {w} on {lp}: {e}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": mach, "cpu": cpu, "results": summary,
                       "errors": {f"{w}/{lp}": e for (w, lp), e in errors.items()}}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
