#!/usr/bin/env python3
"""libevent's test/bench.c workload, run on four engines in one invocation.

The workload (libevent's own test/bench.c):

* N AF_UNIX socketpairs, one ``EV_READ|EV_PERSIST`` event per pair;
* each round re-assigns and re-adds all N events, does one
  ``loop(EVLOOP_ONCE|EVLOOP_NONBLOCK)`` pass, then writes one byte into A
  evenly spaced pairs (pair ``i * (N // A)``);
* every callback reads 1 byte and, while the write budget W lasts, sends one
  byte to the next pair (index + 1, wrapping): a chain relay;
* the timed section runs the loop until bytes read == bytes sent, i.e. it
  costs A + W callbacks (each a recv and a send) plus the polls.

Columns:

(a) ``libevent C``: the real libevent 2.1 (Debian's libevent-dev), running
    bench/c/bench_libevent.c, compiled here into bench/_build/;
(b) ``evloop``: ``evloop.EventBase``/``evloop.Event``, the timed section is
    ``while count != fired: base.loop(EVLOOP_ONCE|EVLOOP_NONBLOCK)`` exactly
    as in bench.c, the callback is Python (os.read/os.write);
(c) ``asyncio``: a fresh stdlib ``asyncio.SelectorEventLoop`` with
    ``add_reader``; a round re-registers the readers (remove_reader +
    add_reader), runs one iteration (call_soon(stop) + run_forever), then
    the timed section is one ``run_forever()`` that the callback stops when
    bytes read == bytes sent;
(d) ``uvloop``: the same as (c) on ``uvloop.new_event_loop()``.

The Python callbacks of (b), (c) and (d) have the same body; (c) and (d) add
the ``if count == fired: loop.stop()`` test that (b) does in its outer loop.

Prints one table per configuration and the ratios evloop/libevent-C,
asyncio/evloop and uvloop/evloop.  The number is µs per round (the timed
section): the median of --runs runs.  The runs are split into --blocks blocks
and the columns take turns block by block (each block starts with --warmup
untimed runs, with fresh socketpairs and a fresh base/loop; the C column is one
process per block), so that a slow phase of the machine hits all columns
alike.  The process is pinned to one CPU (the C child inherits it).
``make bench`` runs it with the defaults.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

import _common

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUILD = HERE / "_build"
C_SRC = HERE / "c" / "bench_libevent.c"
C_BIN = BUILD / "bench_libevent"
EVENT_H = Path("/usr/include/event2/event.h")

# The repository root first, so that `python bench/pipes.py` finds the
# in-place build of evloop (setup.py build_ext --inplace) without installing.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLUMNS = ("c", "evloop", "asyncio", "uvloop")
LABELS = {
    "c": "(a) libevent C",
    "evloop": "(b) evloop EventBase",
    "asyncio": "(c) asyncio add_reader",
    "uvloop": "(d) uvloop add_reader",
}
TARGET_EVLOOP_VS_C = 1.5      # evloop must be at most 1.5x slower than C
TARGET_ASYNCIO_VS_EVLOOP = 3.0  # and at least 3x faster than asyncio


class Skip(Exception):
    """A column that cannot run here; the message says why."""


# -- helpers ---------------------------------------------------------------------------


def make_pairs(n):
    """N blocking AF_UNIX socketpairs (as bench.c): sockets, read fds, write fds."""
    socks, rfds, wfds = [], [], []
    try:
        for _ in range(n):
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            socks += (a, b)
            rfds.append(a.fileno())
            wfds.append(b.fileno())
    except BaseException:
        for s in socks:
            s.close()
        raise
    return socks, rfds, wfds


def close_all(socks):
    for s in socks:
        s.close()


def raise_nofile(n):
    """Raise RLIMIT_NOFILE to 2N+50 like bench.c (only ever raise)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not Unix
        return
    need = 2 * n + 50
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            hard = need
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def pin_cpu(cpu):
    """Pin this process (and the C child, which inherits it) to one CPU."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if cpu is None:
        cpu = allowed[-1]
    os.sched_setaffinity(0, {cpu})
    return cpu


def machine_info(pinned):
    return dict(_common.machine_info(), pinned_cpu=pinned)


# -- (a) libevent in C -------------------------------------------------------------------


def build_c():
    """Compile bench/c/bench_libevent.c once; return the binary path or raise Skip."""
    if not EVENT_H.exists():
        raise Skip(
            f"{EVENT_H} is missing: libevent's headers are not installed "
            "(`make bench` installs libevent-dev; or apt-get install libevent-dev)"
        )
    try:
        return _common.build_c(C_SRC, C_BIN, "C benchmark", ("-levent_core",))
    except _common.BuildError as exc:
        raise Skip(f"{exc} (is libevent-dev installed? `make bench` installs it)") from None


def bench_c(binary, n, a, w, runs, warmup, method):
    cmd = [str(binary), "-n", str(n), "-a", str(a), "-w", str(w),
           "-r", str(runs), "-W", str(warmup)]
    if method:
        cmd += ["-m", method]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise Skip(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    samples, passes, info = [], [], ""
    for line in proc.stdout.splitlines():
        if line.startswith("#"):
            parts = line.split()
            info = f"libevent {parts[4]}, {parts[2]}" if len(parts) >= 5 else line
            continue
        us, xcount, count = line.split()
        if int(count) != a + w:
            raise Skip(f"C benchmark read {count} bytes, expected {a + w}")
        samples.append(float(us))
        passes.append(int(xcount))
    return {"samples": samples, "passes": passes, "info": info}


# -- (b) evloop's EventBase ------------------------------------------------------------------


def bench_evloop(n, a, w, runs, warmup, method):
    try:
        import evloop as ev
    except ImportError as exc:
        raise Skip(f"evloop is not importable (run `make build`): {exc}") from None

    config = None
    if method:
        config = ev.EventConfig()
        for m in ev.supported_methods():
            if m != method:
                config.avoid_method(m)
    base = ev.EventBase(config)
    socks, rfds, wfds = make_pairs(n)
    read, write, now = os.read, os.write, time.perf_counter_ns
    what = ev.EV_READ | ev.EV_PERSIST
    once_nonblock = ev.EVLOOP_ONCE | ev.EVLOOP_NONBLOCK
    count = fired = writes = 0

    def read_cb(fd, which, idx):
        nonlocal count, fired, writes
        count += len(read(fd, 1))
        if writes:
            widx = idx + 1
            if widx >= n:
                widx -= n
            write(wfds[widx], b"e")
            writes -= 1
            fired += 1

    events = [None] * n
    space = n // a
    samples, passes = [], []
    loop = base.loop
    try:
        for r in range(warmup + runs):
            for i in range(n):
                e = events[i]
                if e is None:
                    e = events[i] = ev.Event(base, rfds[i], what, read_cb, i)
                else:
                    e.delete()
                    e.assign(base, rfds[i], what, read_cb, i)
                e.add()
            loop(once_nonblock)

            fired = 0
            for i in range(a):
                write(wfds[i * space], b"e")
                fired += 1
            count = 0
            writes = w
            xcount = 0
            t0 = now()
            while count != fired:
                loop(once_nonblock)
                xcount += 1
            t1 = now()
            if count != a + w:
                raise RuntimeError(f"evloop read {count} bytes, expected {a + w}")
            if r >= warmup:
                samples.append((t1 - t0) / 1e3)
                passes.append(xcount)
        info = f"evloop {getattr(ev, '__version__', '?')}, {base.method}"
    finally:
        for e in events:
            if e is not None:
                e.free()
        base.free()
        close_all(socks)
    return {"samples": samples, "passes": passes, "info": info}


# -- (c)/(d) asyncio-style add_reader ----------------------------------------------------------


def bench_add_reader(loop, n, a, w, runs, warmup):
    socks, rfds, wfds = make_pairs(n)
    read, write, now = os.read, os.write, time.perf_counter_ns
    stop = loop.stop
    count = fired = writes = 0

    def read_cb(fd, idx):
        nonlocal count, fired, writes
        count += len(read(fd, 1))
        if writes:
            widx = idx + 1
            if widx >= n:
                widx -= n
            write(wfds[widx], b"e")
            writes -= 1
            fired += 1
        if count == fired:
            stop()

    space = n // a
    samples = []
    try:
        for r in range(warmup + runs):
            for i in range(n):
                fd = rfds[i]
                loop.remove_reader(fd)
                loop.add_reader(fd, read_cb, fd, i)
            loop.call_soon(stop)  # one iteration: the ONCE|NONBLOCK pass
            loop.run_forever()

            fired = 0
            for i in range(a):
                write(wfds[i * space], b"e")
                fired += 1
            count = 0
            writes = w
            t0 = now()
            loop.run_forever()
            t1 = now()
            if count != a + w:
                raise RuntimeError(f"read {count} bytes, expected {a + w}")
            if r >= warmup:
                samples.append((t1 - t0) / 1e3)
    finally:
        for fd in rfds:
            loop.remove_reader(fd)
        loop.close()
        close_all(socks)
    return {"samples": samples, "passes": None}


def bench_asyncio(n, a, w, runs, warmup, method):
    loop = asyncio.SelectorEventLoop()
    sel = type(loop._selector).__name__  # for the label only
    res = bench_add_reader(loop, n, a, w, runs, warmup)
    res["info"] = f"asyncio {platform.python_version()}, {sel}"
    return res


def bench_uvloop(n, a, w, runs, warmup, method):
    try:
        import uvloop
    except ImportError as exc:
        raise Skip(f"uvloop is not importable: {exc}") from None
    res = bench_add_reader(uvloop.new_event_loop(), n, a, w, runs, warmup)
    res["info"] = f"uvloop {uvloop.__version__}"
    return res


RUNNERS = {"evloop": bench_evloop, "asyncio": bench_asyncio, "uvloop": bench_uvloop}


# -- report ------------------------------------------------------------------------------------


def summarize(res, ncallbacks):
    s = sorted(res["samples"])
    q = statistics.quantiles(s, n=4) if len(s) >= 2 else [s[0], s[0], s[0]]
    med = statistics.median(s)
    out = {
        "median_us": med,
        "min_us": s[0],
        "p25_us": q[0],
        "p75_us": q[2],
        "us_per_callback": med / ncallbacks,
        "passes_per_round": (statistics.median(res["passes"]) if res.get("passes") else None),
    }
    return out


def ratio(results, num, den):
    if num in results and den in results:
        return results[num]["median_us"] / results[den]["median_us"]
    return None


def fmt_ratio(r):
    return "n/a" if r is None else f"{r:.2f}x"


def print_table(cfg, results, skipped, infos):
    n, a, w, runs, warmup = cfg["pipes"], cfg["active"], cfg["writes"], cfg["runs"], cfg["warmup"]
    blocks = cfg["blocks"]
    ncb = a + w
    print()
    print(f"== N={n} pipes, A={a} active, W={w} writes: {ncb} callbacks/round; "
          f"median of {runs} runs ({blocks} interleaved blocks, "
          f"{warmup} warm-up runs each) ==")
    hdr = f"{'column':<25}{'µs/round':>10}{'min':>9}{'p25-p75':>17}{'µs/cb':>8}{'passes':>8}  engine"
    print(hdr)
    print("-" * (len(hdr) + 24))
    for col in cfg["columns"]:
        if col in results:
            s = results[col]
            passes = "-" if s["passes_per_round"] is None else f"{s['passes_per_round']:g}"
            iqr = f"{s['p25_us']:.1f}-{s['p75_us']:.1f}"
            print(f"{LABELS[col]:<25}{s['median_us']:>10.1f}{s['min_us']:>9.1f}{iqr:>17}"
                  f"{s['us_per_callback']:>8.2f}{passes:>8}  {infos.get(col, '')}")
        else:
            print(f"{LABELS[col]:<25}{'skipped':>10}  {skipped.get(col, '')}")
    r = cfg["ratios"]
    lines = []
    v = r["evloop/libevent_c"]
    if v is not None:
        ok = "met" if v <= TARGET_EVLOOP_VS_C else "NOT met"
        lines.append(f"evloop / libevent-C = {fmt_ratio(v)} (target <= {TARGET_EVLOOP_VS_C}x: {ok})")
    else:
        lines.append("evloop / libevent-C = n/a")
    v = r["asyncio/evloop"]
    if v is not None:
        ok = "met" if v >= TARGET_ASYNCIO_VS_EVLOOP else "NOT met"
        lines.append(f"asyncio / evloop = {fmt_ratio(v)} (target >= {TARGET_ASYNCIO_VS_EVLOOP}x: {ok})")
    else:
        lines.append("asyncio / evloop = n/a")
    lines.append(f"uvloop / evloop = {fmt_ratio(r['uvloop/evloop'])}")
    extra = []
    for k in ("asyncio/libevent_c", "uvloop/libevent_c"):
        if r[k] is not None:
            extra.append(f"{k.replace('_c', '-C')} = {fmt_ratio(r[k])}")
    if extra:
        lines.append("; ".join(extra))
    if "evloop" in results and "c" in results:
        d = (results["evloop"]["median_us"] - results["c"]["median_us"]) / ncb
        lines.append(f"evloop overhead over C: {d:+.2f} µs per callback")
    v = r["asyncio/libevent_c"]
    if v is not None and v < TARGET_ASYNCIO_VS_EVLOOP:
        lines.append(f"note: asyncio is only {v:.2f}x slower than C libevent here (the recv/send "
                     f"syscalls dominate), so asyncio/evloop >= {TARGET_ASYNCIO_VS_EVLOOP:g}x would "
                     "need evloop to beat C")
    for line in lines:
        print("  " + line)


def main(argv=None):
    p = argparse.ArgumentParser(
        description="libevent test/bench.c workload on libevent (C), evloop, asyncio and uvloop.")
    p.add_argument("--runs", type=int, default=500,
                   help="timed runs per column and configuration (default 500; bench.c does 25)")
    p.add_argument("--warmup", type=int, default=10,
                   help="untimed warm-up runs per column and block (default 10)")
    p.add_argument("--blocks", type=int, default=10,
                   help="split the runs into this many blocks, interleaving the columns (default 10)")
    p.add_argument("--pipes", "-n", type=int, default=100, help="socketpairs N (default 100)")
    p.add_argument("--active", "-a", type=int, nargs="+", default=[1, 10],
                   help="active pairs A; several values give several tables (default: 1 10)")
    p.add_argument("--writes", "-w", type=int, default=100,
                   help="write budget W (default 100; like bench.c, not derived from --pipes)")
    p.add_argument("--only", nargs="+", choices=COLUMNS, default=list(COLUMNS),
                   help="run only these columns")
    p.add_argument("--method", help="backend for the C and evloop columns (epoll, poll, select)")
    p.add_argument("--cpu", type=int, help="CPU to pin to (default: the last allowed CPU)")
    p.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    p.add_argument("--json", metavar="OUT.json", help="also write all samples and summaries as JSON")
    args = p.parse_args(argv)

    if args.pipes < 1 or args.runs < 1 or args.warmup < 0 or args.writes < 0 or args.blocks < 1:
        p.error("need --pipes >= 1, --runs >= 1, --warmup >= 0, --writes >= 0, --blocks >= 1")
    args.blocks = min(args.blocks, args.runs)
    for a in args.active:
        if not 1 <= a <= args.pipes:
            p.error(f"--active {a}: need 1 <= active <= pipes")

    pinned = None if args.no_pin else pin_cpu(args.cpu)
    raise_nofile(args.pipes)
    machine = machine_info(pinned)
    columns = [c for c in COLUMNS if c in args.only]

    print(f"bench/pipes.py: libevent test/bench.c workload | {machine['cpu_model']}, "
          f"nproc={machine['nproc']}, Python {machine['python']}, "
          f"pinned to CPU {pinned if pinned is not None else '(not pinned)'}")

    binary, c_skip = None, None
    if "c" in columns:
        try:
            binary = build_c()
        except Skip as exc:
            c_skip = str(exc)
            print(f"note: libevent C column skipped: {c_skip}", file=sys.stderr)

    report = {"machine": machine, "argv": sys.argv, "configs": []}
    for a in args.active:
        n, w = args.pipes, args.writes
        results, skipped, infos = {}, {}, {}
        raw = {col: {"samples": [], "passes": []} for col in columns}
        if c_skip:
            skipped["c"] = c_skip.splitlines()[0]
        # Interleave the columns in blocks so that a slow phase of the machine
        # (this is often a VM) hits every column alike, not just one.
        for b in range(args.blocks):
            nruns = args.runs // args.blocks + (b < args.runs % args.blocks)
            if nruns == 0:
                continue
            for col in columns:
                if col in skipped:
                    continue
                try:
                    if col == "c":
                        res = bench_c(binary, n, a, w, nruns, args.warmup, args.method)
                    else:
                        res = RUNNERS[col](n, a, w, nruns, args.warmup, args.method)
                except Skip as exc:
                    skipped[col] = str(exc)
                    continue
                except Exception as exc:  # a broken engine must not hide the others
                    traceback.print_exc()
                    skipped[col] = f"FAILED: {type(exc).__name__}: {exc}"
                    continue
                raw[col]["samples"] += res["samples"]
                if res.get("passes"):
                    raw[col]["passes"] += res["passes"]
                infos[col] = res.get("info", "")
        for col in columns:
            if col not in skipped:
                results[col] = summarize(raw[col], a + w)
        cfg = {
            "pipes": n, "active": a, "writes": w, "runs": args.runs, "warmup": args.warmup,
            "blocks": args.blocks,
            "columns": columns, "method": args.method,
            "results": {k: {**results[k], "engine": infos[k], "samples_us": raw[k]["samples"]}
                        for k in results},
            "skipped": skipped,
            "ratios": {
                "evloop/libevent_c": ratio(results, "evloop", "c"),
                "asyncio/evloop": ratio(results, "asyncio", "evloop"),
                "uvloop/evloop": ratio(results, "uvloop", "evloop"),
                "asyncio/libevent_c": ratio(results, "asyncio", "c"),
                "uvloop/libevent_c": ratio(results, "uvloop", "c"),
            },
        }
        print_table(cfg, results, skipped, infos)
        report["configs"].append(cfg)

    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
