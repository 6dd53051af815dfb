#!/usr/bin/env python3
"""aiohttp "hello world" under wrk, on asyncio, uvloop and evloop.

For every loop:

* the server (bench/aiohttp_server.py: ``GET /`` -> ``Hello, World!``, access
  log off) runs in its own process pinned to CPU 0 (``--server-cpu``), bound
  to 127.0.0.1 on an ephemeral port;
* ``wrk`` (Debian package ``wrk``) runs pinned to CPU 1 (``--client-cpu``):
  first an unmeasured warm-up (``--warmup`` s), then the measured run
  ``taskset -c 1 wrk -t1 -c10 -dDs --latency http://127.0.0.1:PORT/``;
* the server's CPU time is sampled right before and right after the measured
  wrk run (on-CPU ns of its threads from /proc/PID/task/*/schedstat;
  utime+stime from /proc/PID/stat as a fallback).

Prints requests/s, wrk's latency percentiles (p50, p99), the server's CPU
utilisation and CPU µs per request, and the ratios evloop/uvloop and
evloop/asyncio (target: requests/s on evloop >= 1.1x uvloop's).  The loops
take turns; with ``--repeat N`` (default 3) every loop runs N times, loop
order rotated, and medians are reported.

    .venv/bin/python bench/aiohttp_wrk.py                 # ~1.5 min
    .venv/bin/python bench/aiohttp_wrk.py --quick         # 1 s windows
    .venv/bin/python bench/aiohttp_wrk.py --loops evloop uvloop --duration 10 --json bench/out/aiohttp.json

Without ``wrk`` on PATH it prints how to install it and exits with status 2.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import fmt, machine_info, print_table, proc_stat_busy, ratio  # noqa: E402
from echo import (  # noqa: E402
    LOOPS, Server, add_evloop_path_arg, exit_on_sigterm, add_noise_args, apply_evloop_path, run_with_retries,
    cpu_s, pin_cmd, sched_s, versions,
)

SERVER = HERE / "aiohttp_server.py"
TARGET_RPS_VS_UVLOOP = 1.1  # evloop requests/s >= 1.1x uvloop's

_UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6}


def _lat_us(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"cannot parse wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(out: str) -> dict:
    res: dict = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise ValueError("no Requests/sec in wrk output")
    res["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", out)
    if m:
        res["requests"] = int(m.group(1))
        res["wrk_duration_s"] = float(m.group(2)) * _UNITS[m.group(3)] / 1e6
    in_dist = False
    for line in out.splitlines():
        if "Latency Distribution" in line:
            in_dist = True
            continue
        if in_dist:
            m = re.match(r"\s+(\d+)%\s+(\S+)", line)
            if not m:
                in_dist = False
                continue
            res[f"p{m.group(1)}_us"] = _lat_us(m.group(2))
    m = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    if m:
        res["mean_us"] = _lat_us(m.group(1))
        res["max_us"] = _lat_us(m.group(3))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    return res


def run_wrk(url: str, args, duration: int, latency: bool) -> str:
    cmd = pin_cmd(args.client_cpu) + [args.wrk, f"-t{args.threads}", f"-c{args.conns}", f"-d{duration}s"]
    if latency:
        cmd.append("--latency")
    cmd.append(url)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30)  # kills wrk on timeout/interrupt
    if r.returncode != 0:
        raise RuntimeError(f"wrk failed (rc={r.returncode}): {' '.join(cmd)}\n{r.stderr.strip()}")
    return r.stdout


def run_one(loop: str, args) -> dict:
    srv_cmd = [sys.executable, str(SERVER), "--loop", loop, "--port", "0",
               "--cpu", str(args.server_cpu if args.server_cpu is not None else -1),
               "--timeout", str(args.warmup + args.duration + 90)]
    server = Server(srv_cmd, args.server_cpu)
    try:
        url = f"http://127.0.0.1:{server.port}/"
        if args.warmup > 0:
            run_wrk(url, args, args.warmup, latency=False)
        busy0 = proc_stat_busy()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        sc0, st0, w0 = sched_s(server.pid), cpu_s(server.pid), time.monotonic()
        out = run_wrk(url, args, args.duration, latency=True)
        sc1, st1, w1 = sched_s(server.pid), cpu_s(server.pid), time.monotonic()
        busy1 = proc_stat_busy()
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.stderr_tail()}")
    finally:
        server.stop()
    res = parse_wrk(out)
    res["loop"], res["loop_class"], res["wrk_output"] = loop, server.kind, out
    if sc0 is not None and sc1 is not None:
        cpu, res["server_cpu_source"] = sc1 - sc0, "schedstat"
    else:
        cpu, res["server_cpu_source"] = st1 - st0, "stat"
    res["server_cpu_s"] = cpu
    res["server_stat_cpu_s"] = st1 - st0
    res["window_s"] = w1 - w0
    reqs = res.get("requests")
    res["cpu_us_per_req"] = cpu * 1e6 / reqs if reqs else None
    wd = res.get("wrk_duration_s") or (w1 - w0)
    res["server_cpu_util"] = cpu / wd if wd else None
    res["client_cpu_s"] = wrk_cpu
    if args.server_cpu is not None and args.server_cpu in busy0:
        res["other_on_server_cpu"] = max(0.0, busy1[args.server_cpu] - busy0[args.server_cpu] - cpu) / (w1 - w0)
    if args.client_cpu is not None and args.client_cpu in busy0:
        res["other_on_client_cpu"] = max(0.0, busy1[args.client_cpu] - busy0[args.client_cpu] - wrk_cpu) / (w1 - w0)
    return res


def median_of(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def main(argv=None) -> int:
    exit_on_sigterm()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loops", nargs="+", choices=LOOPS, default=list(LOOPS))
    ap.add_argument("--duration", type=int, default=5, help="measured wrk run, whole seconds (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured wrk run before it, seconds (default 1)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per loop, medians reported (default 3)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 s windows, no warm-up, 1 repeat")
    ap.add_argument("--conns", type=int, default=10, help="wrk -c (default 10)")
    ap.add_argument("--threads", type=int, default=1, help="wrk -t (default 1)")
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--no-pin", action="store_true")
    ap.add_argument("--wrk", default=os.environ.get("WRK", "wrk"), help="wrk binary (default: wrk on PATH)")
    ap.add_argument("--json", metavar="OUT.json")
    add_evloop_path_arg(ap)
    add_noise_args(ap)
    args = ap.parse_args(argv)
    apply_evloop_path(args)
    if args.quick:
        args.duration, args.warmup, args.repeat = 1, 0, 1

    wrk = shutil.which(args.wrk)
    if not wrk:
        print("error: wrk is not installed.\n"
              "  Debian/Ubuntu: sudo apt-get install -y wrk   (or `make bench`, which installs it as root)\n"
              "  elsewhere: build it from https://github.com/wg/wrk and pass --wrk /path/to/wrk",
              file=sys.stderr)
        return 2
    args.wrk = wrk
    if args.no_pin:
        args.server_cpu = args.client_cpu = None
    else:
        ncpu = os.cpu_count() or 1
        if max(args.server_cpu, args.client_cpu) >= ncpu or args.server_cpu == args.client_cpu:
            sys.exit(f"error: need two distinct CPUs < {ncpu} for --server-cpu/--client-cpu (or --no-pin)")
        os.sched_setaffinity(0, {args.client_cpu})

    mach = machine_info()
    vers = versions(args.loops)
    try:
        vers["wrk"] = subprocess.run([wrk, "--version"], capture_output=True, text=True,
                                     timeout=10).stdout.splitlines()[0].split(" [")[0].split(" Copyright")[0].strip()
    except Exception:  # noqa: BLE001
        pass
    loops = [lp for lp in args.loops if not str(vers.get(lp, "")).startswith("unavailable")]
    skipped = {lp: vers[lp] for lp in args.loops if lp not in loops}
    for lp, why in skipped.items():
        print(f"note: skipping {lp}: {why}", file=sys.stderr)
    if not loops:
        sys.exit("error: no loop available")
    print(f"# aiohttp/wrk: {len(loops) * args.repeat} runs, about "
          f"{len(loops) * args.repeat * (args.duration + args.warmup + 1) / 60:.1f} min", file=sys.stderr, flush=True)

    runs = []
    t_begin = time.monotonic()
    for rep in range(args.repeat):
        order = loops[rep % len(loops):] + loops[:rep % len(loops)]
        for loop in order:
            try:
                # (partial binds this iteration's loop; run_with_retries calls it now)
                res = run_with_retries(functools.partial(run_one, loop, args), args, loop)
            except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
                print(f"  FAILED {loop}: {exc}", file=sys.stderr, flush=True)
                runs.append({"loop": loop, "rep": rep, "error": str(exc)})
                continue
            res["rep"] = rep
            runs.append(res)
            print(f"  [{rep + 1}/{args.repeat}] {loop:7s} {res['rps']:>10,.0f} req/s  p50 {fmt(res.get('p50_us'))} µs  "
                  f"p99 {fmt(res.get('p99_us'))} µs  {fmt(res['cpu_us_per_req'], '.1f')} CPU µs/req  "
                  f"srv CPU {fmt(res['server_cpu_util'], '.0%')}  other on srv CPU "
                  f"{fmt(res.get('other_on_server_cpu'), '.0%')}", file=sys.stderr, flush=True)
    elapsed = time.monotonic() - t_begin

    summary = {}
    for loop in loops:
        rs = [r for r in runs if r["loop"] == loop and "error" not in r]
        if rs:
            summary[loop] = {k: median_of(rs, k) for k in ("rps", "p50_us", "p99_us", "cpu_us_per_req",
                                                          "server_cpu_util", "other_on_server_cpu",
                                                          "other_on_client_cpu")}
            summary[loop]["errors"] = sum(r["non_2xx"] + r["socket_errors"] for r in rs)
            summary[loop]["n"] = len(rs)

    print()
    print(f"Machine: {mach['cpu_model']}, {mach['nproc']} CPUs{' (VM)' if mach['virtualized'] else ''}, "
          f"Linux {mach['kernel']}, {mach['python_impl']} {mach['python']}; "
          + ", ".join(f"{k} {v}" for k, v in vers.items()))
    print(f"Server pinned to CPU {args.server_cpu}; `wrk -t{args.threads} -c{args.conns} -d{args.duration}s --latency` "
          f"pinned to CPU {args.client_cpu}; {args.warmup} s warm-up; "
          f"{f'median of {args.repeat} runs per loop' if args.repeat > 1 else '1 run per loop'}; total {elapsed:.0f} s.\n")
    rows = []
    for loop in loops:
        s = summary.get(loop)
        if s is None:
            rows.append([loop, "FAILED", "", "", "", "", "", ""])
            continue
        rows.append([loop, fmt(s["rps"]), fmt(s["p50_us"]), fmt(s["p99_us"]), fmt(s["server_cpu_util"], ".0%"),
                     fmt(s["cpu_us_per_req"], ".1f"),
                     f'{fmt(s["other_on_server_cpu"], ".0%")} / {fmt(s["other_on_client_cpu"], ".0%")}',
                     str(s["errors"])])
    print_table(["loop", "req/s", "p50 µs", "p99 µs", "srv CPU", "CPU µs/req", "other srv/cli", "errors"], rows)
    print("\nCPU µs/req = server CPU time (user+sys) during the measured wrk run / requests. other srv/cli = share "
          "of the server's / wrk's CPU used by other processes.")

    ratios = {}
    ev = summary.get("evloop")
    if ev:
        uv, ai = summary.get("uvloop"), summary.get("asyncio")
        ratios = {
            "rps_vs_uvloop": ratio(ev["rps"], uv and uv["rps"]),
            "rps_vs_asyncio": ratio(ev["rps"], ai and ai["rps"]),
            "cpu_vs_uvloop": ratio(ev["cpu_us_per_req"], uv and uv["cpu_us_per_req"]),
            "cpu_vs_asyncio": ratio(ev["cpu_us_per_req"], ai and ai["cpu_us_per_req"]),
        }
        r = ratios["rps_vs_uvloop"]
        ratios["rps_target_met"] = None if r is None else r >= TARGET_RPS_VS_UVLOOP
        print(f"\n### ratios (req/s: higher is better, target evloop/uvloop >= {TARGET_RPS_VS_UVLOOP}; "
              "CPU µs/req: lower is better)\n")
        print_table(["req/s ev/uv", f"target >= {TARGET_RPS_VS_UVLOOP}", "req/s ev/asyncio", "CPU/req ev/uv",
                     "CPU/req ev/asyncio"],
                    [[fmt(ratios["rps_vs_uvloop"], ".2f"),
                      "-" if r is None else ("met" if ratios["rps_target_met"] else "NOT met"),
                      fmt(ratios["rps_vs_asyncio"], ".2f"), fmt(ratios["cpu_vs_uvloop"], ".2f"),
                      fmt(ratios["cpu_vs_asyncio"], ".2f")]])
    for lp, why in skipped.items():
        print(f"\nwarning: {lp} was not run: {why}")
    if any((s.get("other_on_server_cpu") or 0) > 0.10 for s in summary.values()):
        print("\nwarning: other processes used more than 10% of the server's CPU during some windows; "
              "req/s and latency are then unreliable (CPU µs/req less so).")
    failed = [r for r in runs if "error" in r]
    if failed:
        print(f"\nwarning: {len(failed)} run(s) failed (see stderr)")
    if any(s["errors"] for s in summary.values()):
        print("\nwarning: wrk reported non-2xx responses or socket errors (column errors)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"benchmark": "aiohttp_wrk", "machine": mach, "versions": vers,
                       "config": {"loops": loops, "duration": args.duration, "warmup": args.warmup,
                                  "repeat": args.repeat, "conns": args.conns, "threads": args.threads,
                                  "server_cpu": args.server_cpu, "client_cpu": args.client_cpu,
                                  "wait_idle": args.wait_idle, "retries": args.retries,
                                  "max_other": args.max_other, "argv": sys.argv},
                       "runs": runs, "summary": summary, "ratios": ratios, "elapsed_s": elapsed}, f, indent=1)
        print(f"\nwrote {args.json}")
    return 1 if failed or skipped else 0


if __name__ == "__main__":
    sys.exit(main())
