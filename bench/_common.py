"""What every benchmark in bench/ shares: the machine description, CPU
accounting from /proc, waiting for idle CPUs, pinning, compiling the C
programs, and the table/ratio formatting.  The scripts are run as
``python bench/<name>.py``, so this module is imported as ``_common``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUILD = HERE / "_build"


# -- the machine -------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict:
    hypervisor = None
    try:
        with open("/proc/cpuinfo") as f:
            hypervisor = "hypervisor" in f.read().split("flags", 1)[-1].split("\n", 1)[0]
    except OSError:
        pass
    mem_gib = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu_model": cpu_model(),
        "nproc": os.cpu_count(),
        "virtualized": hypervisor,
        "mem_gib": mem_gib,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "python_impl": platform.python_implementation(),
        "loadavg_at_start": os.getloadavg(),
    }


def git_rev(root: Path = ROOT) -> str:
    """The checkout's short commit, with "+dirty" when tracked files changed."""
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return (rev or "?") + ("+dirty" if dirty else "")


# -- CPU accounting ----------------------------------------------------------------------


def proc_stat_busy() -> dict[int, float]:
    """Busy seconds per CPU since boot (/proc/stat: user+nice+system+irq+softirq)."""
    tck = os.sysconf("SC_CLK_TCK")
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3:4].isdigit():
                p = line.split()
                v = [int(x) for x in p[1:9]]
                out[int(p[0][3:])] = (v[0] + v[1] + v[2] + v[5] + v[6]) / tck
    return out


def wait_idle(cpus, max_wait: float, threshold: float = 0.10) -> float:
    """Wait (at most max_wait s) until each CPU in cpus was busy less than
    threshold over a 0.5 s sample; return the seconds waited."""
    cpus = [c for c in cpus if c is not None]
    if max_wait <= 0 or not cpus:
        return 0.0
    t0 = time.monotonic()
    while True:
        b0, w0 = proc_stat_busy(), time.monotonic()
        time.sleep(0.5)
        b1, w1 = proc_stat_busy(), time.monotonic()
        if all((b1[c] - b0[c]) / (w1 - w0) < threshold for c in cpus if c in b0 and c in b1):
            return time.monotonic() - t0
        if time.monotonic() - t0 >= max_wait:
            return time.monotonic() - t0


def pin_preexec(cpu: int | None):
    """A preexec_fn pinning a child to one CPU (None: no pinning)."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def new_loop(name: str):
    """A new event loop of the named implementation; evloop is imported from
    this checkout (its in-place build)."""
    import asyncio

    if name == "asyncio":
        return asyncio.new_event_loop()
    if name == "uvloop":
        import uvloop
        return uvloop.new_event_loop()
    if name == "rloop":
        import rloop
        return rloop.new_event_loop()
    if name == "evloop":
        sys.path.insert(0, str(ROOT))
        import evloop
        return evloop.new_event_loop()
    raise SystemExit(f"unknown loop {name}")


# -- (loop, workload) matrices of pinned child processes --------------------------------


def add_matrix_args(ap, loops, workloads, scale_help: str, quick_help: str) -> None:
    """The options of a benchmark that runs each (loop, workload) in a
    fresh pinned child: bench/loop_overhead.py, bench/subprocess_pipes.py."""
    ap.add_argument("--child", nargs=3, metavar=("LOOP", "WORKLOAD", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--loops", nargs="+", default=list(loops), choices=loops)
    ap.add_argument("--workloads", nargs="+", default=list(workloads), choices=list(workloads))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0, help=scale_help)
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--cpu", type=int, default=None,
                    help="the CPU to pin the children to (default: the last one allowed)")
    ap.add_argument("--wait-idle", type=float, default=0.0, metavar="S",
                    help="before each child wait up to S s until its CPU is idle")
    ap.add_argument("--json", metavar="FILE")


def spawn_child(script: str, child_args: list[str], cpu: int | None) -> dict:
    """Run ``script --child ARGS`` pinned to cpu; its last stdout line is a
    JSON object (or the error it died of)."""
    cmd = [sys.executable, os.path.abspath(script), "--child", *child_args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          preexec_fn=pin_preexec(cpu))
    if proc.returncode != 0:
        err = (proc.stderr.strip().splitlines() or ["exit %d" % proc.returncode])[-1]
        return {"error": err}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_matrix(script: str, args, sizes: dict, min_n: int, key: str, unit: str, spec: str):
    """Every (workload, loop) of args in a fresh child pinned to one CPU
    (args.cpu, default the last allowed), loops interleaved (the order
    rotated each repeat), args.repeat times.  sizes[workload] is the count
    before args.scale.  Returns (cpu, {workload: {loop: [result[key], ...]}},
    {(workload, loop): error})."""
    cpu = args.cpu if args.cpu is not None else sorted(os.sched_getaffinity(0))[-1]
    results = {w: {lp: [] for lp in args.loops} for w in args.workloads}
    errors = {}
    for rep in range(args.repeat):
        for w in args.workloads:
            n = max(int(sizes[w] * args.scale), min_n)
            order = args.loops[rep % len(args.loops):] + args.loops[:rep % len(args.loops)]
            for lp in order:
                wait_idle([cpu], args.wait_idle)
                res = spawn_child(script, [lp, w, str(n)], cpu)
                if "error" in res:
                    errors[(w, lp)] = res["error"]
                else:
                    results[w][lp].append(res[key])
                print(f"  [{rep + 1}/{args.repeat}] {w:11s} {lp:8s} "
                      f"{fmt(res.get(key), spec, res.get('error', '-'))} {unit}",
                      file=sys.stderr, flush=True)
    return cpu, results, errors


# -- C programs --------------------------------------------------------------------------


class BuildError(Exception):
    """A C program of bench/ could not be compiled (the message says why)."""


def build_c(src: Path, out: Path, what: str, libs: tuple[str, ...] = ()) -> Path:
    """Compile src to out with ``cc -O2 -Wall`` unless out is newer than src."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise BuildError("no C compiler (cc) found; install gcc or set CC")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and out.stat().st_mtime >= src.stat().st_mtime:
        return out
    cmd = [cc, "-O2", "-Wall", "-o", str(out), str(src), *libs]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise BuildError(f"compiling the {what} failed: {' '.join(cmd)}\n{r.stderr.strip()}")
    return out


# -- output ------------------------------------------------------------------------------


def fmt(v, spec=",.0f", missing="-"):
    if v is None:
        return missing
    return format(v, spec)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def print_table(headers: list[str], rows: list[list[str]], out=sys.stdout, left: int = 1):
    """A Markdown table; the first ``left`` columns left-aligned, the others right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 1) + ":" if i >= left else "-" * (w + 2) for i, w in enumerate(widths)) + "|"
    print(line, file=out)
    print(sep, file=out)
    for r in rows:
        print("| " + " | ".join((c.ljust(w) if i < left else c.rjust(w)) for i, (c, w) in
                                enumerate(zip(r, widths, strict=False))) + " |", file=out)
