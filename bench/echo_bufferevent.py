"""Bufferevent echo: evloop vs the real libevent in C, server CPU per request.

The libevent book's chapter-5 echo server (evconnlistener + a socket
bufferevent per connection; readcb: evbuffer_add_buffer(output, input)) runs

  * C       -- bench/c/bev_echo_server.c on Debian's libevent 2.1
               (libevent-dev), built here with `cc -O2 ... -levent`;
  * evloop  -- bench/servers/evloop_bev_echo.py, the same server in Python
               on evloop.Listener + evloop.Bufferevent;
  * evloop4k -- the same with bufferevent_set_max_single_read(4096): evloop
               then reads in libevent 2.1's pattern (2.1 caps every read at
               EVBUFFER_MAX_READ = 4096 bytes, evloop reads up to 16384), so
               a 10 KiB message costs both 3 reads, 3 readcbs and 3 writes;

each pinned to one CPU (--server-cpu, default 0), under the same closed-loop
load client written in C (bench/c/echo_client.c, shared with bench/echo.py,
built here as bench/_build/bev_echo_load) pinned to another CPU
(--client-cpu, default 1): 10 connections, each sending a message of SIZE
bytes (1 KiB and 10 KiB) and waiting for its echo before the next one.
After a warm-up (--warmup, default 1 s) the client samples the server's
utime+stime (/proc/PID/stat) and on-CPU ns (/proc/PID/task/*/schedstat) at
the exact start and end of the measured window (--duration, default 5 s).

Printed per message size: requests/s, server CPU µs per request (utime+stime
over the window / requests in the window) and the ratio evloop / C, the
target being <= 1.3.  Both servers set TCP_NODELAY on accepted sockets
(--nagle: not; libevent 2.1's 3 writes per 10 KiB echo then stall on the
client's delayed ACK).  Every configuration runs --rounds times (default 3),
the columns alternating within a round (the order flips every round) and a
fresh server process per run; the tables show medians over rounds.

Usage:
  .venv/bin/python bench/echo_bufferevent.py                 # ~2 min
  .venv/bin/python bench/echo_bufferevent.py --quick         # ~10 s smoke run
  .venv/bin/python bench/echo_bufferevent.py --duration 10 --rounds 5 --json bench/out/bev.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import select
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _common
from _common import cpu_model, pin_preexec, wait_idle

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(HERE, "_build")
C_SERVER_SRC = os.path.join(HERE, "c", "bev_echo_server.c")
C_SERVER_BIN = os.path.join(BUILD, "bev_echo_server")
CLIENT_SRC = os.path.join(HERE, "c", "echo_client.c")
CLIENT_BIN = os.path.join(BUILD, "bev_echo_load")
PY_SERVER = os.path.join(HERE, "servers", "evloop_bev_echo.py")
EVENT2_HEADER = "/usr/include/event2/bufferevent.h"

TARGET = 1.3
COLUMNS = ("c", "evloop", "evloop4k")
LABELS = {"c": "libevent C (bev_echo_server.c)", "evloop": "evloop (evloop_bev_echo.py)",
          "evloop4k": "evloop, 4 KiB reads (--max-single-read 4096)"}
CLIENT_FLAGS = ("--port", "--conns", "--size", "--duration", "--warmup", "--server-pid")


class BenchError(Exception):
    pass


# -- building -----------------------------------------------------------------

def _cc(src: str, out: str, what: str, libs: tuple[str, ...] = ()) -> None:
    try:
        _common.build_c(Path(src), Path(out), what, libs)
    except _common.BuildError as exc:
        raise BenchError(str(exc)) from None


def build(only) -> None:
    os.makedirs(BUILD, exist_ok=True)
    if "c" in only:
        if not os.path.exists(EVENT2_HEADER):
            raise BenchError(
                f"libevent-dev headers are missing ({EVENT2_HEADER} not found): the C column needs the "
                "real libevent 2.1.\n`make bench` installs them (as root, with apt-get), or run "
                "`apt-get install libevent-dev`; `--only evloop` runs without them.")
        _cc(C_SERVER_SRC, C_SERVER_BIN, "C bufferevent echo server", ("-levent",))
    if not os.path.exists(CLIENT_SRC):
        raise BenchError(f"the load client {CLIENT_SRC} is missing")
    _cc(CLIENT_SRC, CLIENT_BIN, "echo client")
    # The client is shared with bench/echo.py: make sure it still speaks the
    # options we use (its usage line, printed on a usage error).
    res = subprocess.run([CLIENT_BIN], capture_output=True, text=True, timeout=10)
    missing = [f for f in CLIENT_FLAGS if f not in res.stderr]
    if missing:
        raise BenchError(f"{CLIENT_SRC} no longer accepts {' '.join(missing)}; usage line was:\n{res.stderr}")


# -- machine ------------------------------------------------------------------

def libevent_version() -> str | None:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libevent-dev"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def evloop_build() -> str:
    """The git commit of the checkout (+ "-dirty") and the build time of the extension."""
    so = [f for f in os.listdir(os.path.join(ROOT, "evloop")) if f.startswith("_evloop") and f.endswith(".so")]
    built = (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(os.path.getmtime(os.path.join(ROOT, "evloop", so[0]))))
             + " UTC") if so else "not built in place"
    return f"{_common.git_rev()}, extension built {built}"


# -- one run ------------------------------------------------------------------

def start_server(column: str, cpu, nagle: bool) -> tuple[subprocess.Popen, int]:
    if column == "c":
        cmd = [C_SERVER_BIN, "0"]
    else:
        cmd = [sys.executable, PY_SERVER, "0"]
    if nagle:
        cmd.append("--nagle")
    if column == "evloop4k":
        cmd += ["--max-single-read", "4096"]
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env,
                            preexec_fn=pin_preexec(cpu))
    deadline = time.monotonic() + 15
    buf = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([proc.stdout], [], [], 0.2)
        if r:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            for line in buf.decode(errors="replace").splitlines():
                if line.startswith("PORT:"):
                    return proc, int(line[5:])
        elif proc.poll() is not None:
            break
    stop_server(proc)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    raise BenchError(f"{column} server did not print its port (rc={proc.returncode}):\n{buf.decode()}{err}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def run_once(column: str, size: int, args) -> dict:
    proc, port = start_server(column, args.server_cpu, args.nagle)
    try:
        cmd = [CLIENT_BIN, "--port", str(port), "--conns", str(args.conns), "--size", str(size),
               "--duration", str(args.duration), "--warmup", str(args.warmup),
               "--server-pid", str(proc.pid)]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=pin_preexec(args.client_cpu),
                                 timeout=args.warmup + args.duration + 30)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{column} size={size}: the load client did not finish in time") from None
        try:
            out = json.loads(res.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError) as exc:
            raise BenchError(f"{column} size={size}: bad client output (rc={res.returncode}):\n"
                             f"{res.stdout}{res.stderr}") from exc
        if res.returncode != 0 or "error" in out:
            raise BenchError(f"{column} size={size}: client error: {out.get('error')} {res.stderr}")
        if proc.poll() is not None:
            raise BenchError(f"{column} server died (rc={proc.returncode})")
    finally:
        stop_server(proc)
    if "server_utime_s" not in out:
        raise BenchError(f"{column}: the client could not read /proc/{proc.pid}/stat")
    n = out["requests"]
    cpu = out["server_utime_s"] + out["server_stime_s"]
    sched = out.get("server_sched_s")
    busy = out.get("cpu_busy_s") or []
    win = out["duration_s"]
    r = {
        "column": column, "size": size, "requests": n, "duration_s": win, "rps": out["rps"],
        "server_utime_s": out["server_utime_s"], "server_stime_s": out["server_stime_s"],
        "server_cpu_s": cpu, "server_sched_s": sched,
        "us_per_req": cpu * 1e6 / n if n else None,
        "sched_us_per_req": sched * 1e6 / n if n and sched is not None else None,
        "user_us_per_req": out["server_utime_s"] * 1e6 / n if n else None,
        "sys_us_per_req": out["server_stime_s"] * 1e6 / n if n else None,
        "server_cpu_share": cpu / win if win else None,
        "p50_us": out.get("p50_us"), "p99_us": out.get("p99_us"),
        "client_cpu_s": out.get("client_cpu_s"), "cpu_busy_s": busy,
        "cpu_steal_s": out.get("cpu_steal_s"),
    }
    # Busy time of the server's CPU not spent by the server: other processes.
    if args.server_cpu is not None and args.server_cpu < len(busy) and win:
        r["other_on_server_cpu"] = max(0.0, busy[args.server_cpu] - (sched if sched is not None else cpu)) / win
    return r


def run_with_retries(column: str, size: int, args) -> dict:
    attempts = []
    for attempt in range(args.retries + 1):
        waited = wait_idle([args.server_cpu, args.client_cpu], args.wait_idle)
        r = run_once(column, size, args)
        r["waited_idle_s"] = round(waited, 2)
        attempts.append(r)
        if (r.get("other_on_server_cpu") or 0) <= args.max_other:
            break
        if attempt < args.retries:
            print(f"    ({column} {size} B: other processes took {r['other_on_server_cpu']:.0%} of the "
                  f"server CPU, retrying)", file=sys.stderr, flush=True)
    best = min(attempts, key=lambda x: x.get("other_on_server_cpu") or 0)
    best["discarded"] = [x for x in attempts if x is not best]
    return best


# -- report -------------------------------------------------------------------

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec=",.1f"):
    return "-" if v is None else format(v, spec)


def size_label(size: int) -> str:
    return f"{size // 1024} KiB" if size % 1024 == 0 else f"{size} B"


def summarize(runs: list[dict], columns) -> dict:
    s = {}
    for col in columns:
        rs = [r for r in runs if r["column"] == col]
        if not rs:
            continue
        s[col] = {k: med([r[k] for r in rs]) for k in
                  ("rps", "us_per_req", "sched_us_per_req", "user_us_per_req", "sys_us_per_req",
                   "server_cpu_share", "p50_us", "p99_us")}
        s[col]["us_per_req_min"] = min(r["us_per_req"] for r in rs)
        s[col]["us_per_req_max"] = max(r["us_per_req"] for r in rs)
        s[col]["runs"] = len(rs)
        s[col]["max_other_on_server_cpu"] = max((r.get("other_on_server_cpu") or 0) for r in rs)
    if "c" in s and "evloop4k" in s:
        s["ratio_4k"] = s["evloop4k"]["us_per_req"] / s["c"]["us_per_req"]
    if "c" in s and "evloop" in s:
        s["ratio"] = s["evloop"]["us_per_req"] / s["c"]["us_per_req"]
        s["ratio_sched"] = (s["evloop"]["sched_us_per_req"] / s["c"]["sched_us_per_req"]
                            if s["evloop"]["sched_us_per_req"] and s["c"]["sched_us_per_req"] else None)
        # Paired per round: the two columns of one round ran back to back.
        pairs = []
        for rnd in sorted({r["round"] for r in runs}):
            c = [r for r in runs if r["round"] == rnd and r["column"] == "c"]
            e = [r for r in runs if r["round"] == rnd and r["column"] == "evloop"]
            if c and e:
                pairs.append(e[0]["us_per_req"] / c[0]["us_per_req"])
        s["ratio_per_round"] = pairs
        s["met"] = s["ratio"] <= TARGET
    return s


def print_size_table(size: int, s: dict, columns, args) -> None:
    print(f"\n### {size_label(size)} messages, {args.conns} connections "
          f"({args.rounds} round(s) x {args.duration:g} s; medians)\n")
    print("| server | requests/s | server CPU µs/req | (min–max) | user µs | sys µs | "
          "schedstat µs/req | server CPU busy | p50 latency µs |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for col in columns:
        if col not in s:
            continue
        c = s[col]
        print(f"| {LABELS[col]} | {fmt(c['rps'], ',.0f')} | **{fmt(c['us_per_req'], '.2f')}** | "
              f"{fmt(c['us_per_req_min'], '.2f')}–{fmt(c['us_per_req_max'], '.2f')} | "
              f"{fmt(c['user_us_per_req'], '.2f')} | {fmt(c['sys_us_per_req'], '.2f')} | "
              f"{fmt(c['sched_us_per_req'], '.2f')} | {fmt(c['server_cpu_share'] * 100, '.0f')} % | "
              f"{fmt(c['p50_us'], '.0f')} |")
    if "ratio" in s:
        per_round = ", ".join(f"{x:.2f}" for x in s["ratio_per_round"])
        print(f"\nevloop / C, server CPU per request: **{s['ratio']:.2f}×** "
              f"(target ≤ {TARGET}: {'met' if s['met'] else 'NOT met'}); "
              f"schedstat: {fmt(s['ratio_sched'], '.2f')}×; per round: {per_round}; "
              f"evloop's overhead: {s['evloop']['us_per_req'] - s['c']['us_per_req']:+.2f} µs/req")
    if "ratio_4k" in s:
        print(f"\nevloop with libevent 2.1's 4 KiB reads / C: {s['ratio_4k']:.2f}× "
              f"({s['evloop4k']['us_per_req'] - s['c']['us_per_req']:+.2f} µs/req)")
    others = [s[c]["max_other_on_server_cpu"] for c in columns if c in s]
    if others and max(others) > args.max_other:
        print(f"\nwarning: other processes took up to {max(others):.0%} of the server's CPU during a window; "
              "the machine was not idle (try --wait-idle 30 --retries 2)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=5.0, help="measured window per run, s (default 5)")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up per run, s (default 1)")
    ap.add_argument("--rounds", type=int, default=3, help="runs per server and size, interleaved (default 3)")
    ap.add_argument("--quick", action="store_true", help="smoke run: --duration 1 --warmup 0.5 --rounds 1")
    ap.add_argument("--conns", type=int, default=10, help="connections (default 10)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 10240], help="message sizes, bytes")
    ap.add_argument("--only", nargs="+", choices=COLUMNS, default=list(COLUMNS),
                    help="columns to run (default: all three)")
    ap.add_argument("--nagle", action="store_true",
                    help="leave Nagle on in the servers (the book's server; by default they set TCP_NODELAY)")
    ap.add_argument("--server-cpu", type=int, default=0, help="CPU the server is pinned to (default 0)")
    ap.add_argument("--client-cpu", type=int, default=1, help="CPU the load client is pinned to (default 1)")
    ap.add_argument("--no-pin", action="store_true", help="do not pin the server and the client")
    ap.add_argument("--wait-idle", type=float, default=0.0, metavar="S",
                    help="before each run wait up to S s until both CPUs are < 10%% busy (default 0)")
    ap.add_argument("--retries", type=int, default=0,
                    help="rerun a run up to N times while other processes took more than --max-other of "
                         "the server's CPU (the least disturbed run is kept; default 0)")
    ap.add_argument("--max-other", type=float, default=0.10, metavar="FRACTION")
    ap.add_argument("--json", metavar="OUT.json", help="write every run and the summaries")
    args = ap.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.rounds = 1.0, 0.5, 1
    if args.duration <= 0 or args.duration > 600 or args.warmup < 0 or args.warmup > 60:
        ap.error("--duration must be in (0, 600] and --warmup in [0, 60]")
    if args.rounds < 1 or args.conns < 1 or any(s < 1 for s in args.sizes):
        ap.error("--rounds, --conns and --sizes must be positive")
    columns = [c for c in COLUMNS if c in args.only]

    cpus = sorted(os.sched_getaffinity(0))
    if args.no_pin:
        args.server_cpu = args.client_cpu = None
    else:
        for name in ("server_cpu", "client_cpu"):
            if getattr(args, name) not in cpus:
                ap.error(f"--{name.replace('_', '-')} {getattr(args, name)} is not one of the usable CPUs {cpus}")
        if args.server_cpu == args.client_cpu:
            print("warning: server and client share one CPU", file=sys.stderr)

    try:
        build(columns)
    except BenchError as e:
        print(f"echo_bufferevent: {e}", file=sys.stderr)
        return 2

    machine = {
        "nproc": os.cpu_count(), "usable_cpus": cpus, "cpu_model": cpu_model(),
        "python": platform.python_version(), "platform": platform.platform(),
        "libevent_dev": libevent_version() if "c" in columns else None,
        "evloop": evloop_build(),
    }
    print("# Bufferevent echo: server CPU per request, evloop vs libevent C")
    print(f"machine: {machine['nproc']} CPUs ({machine['cpu_model']}), Python {machine['python']}, "
          f"libevent-dev {machine['libevent_dev'] or '-'}")
    print(f"evloop: {machine['evloop']}")
    print(f"command: {os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(ROOT) else sys.executable} "
          f"bench/echo_bufferevent.py {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    print(f"server pinned to CPU {args.server_cpu}, load client (bench/c/echo_client.c) to CPU {args.client_cpu}; "
          f"{args.conns} connections; warm-up {args.warmup:g} s, window {args.duration:g} s; "
          f"servers {'with Nagle' if args.nagle else 'with TCP_NODELAY'}", flush=True)

    runs = []
    try:
        for rnd in range(args.rounds):
            for size in args.sizes:
                order = columns if rnd % 2 == 0 else columns[::-1]
                for col in order:
                    r = run_with_retries(col, size, args)
                    r["round"] = rnd
                    runs.append(r)
                    print(f"  round {rnd + 1}/{args.rounds} {size_label(size):>7} {col:>6}: "
                          f"{r['rps']:>9,.0f} req/s  {r['us_per_req']:6.2f} µs/req server CPU "
                          f"({r['server_cpu_share'] * 100:.0f} % busy)", file=sys.stderr, flush=True)
    except BenchError as e:
        print(f"echo_bufferevent: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

    summaries = {}
    for size in args.sizes:
        s = summarize([r for r in runs if r["size"] == size], columns)
        summaries[str(size)] = s
        print_size_table(size, s, columns, args)

    ratios = [summaries[str(z)].get("ratio") for z in args.sizes]
    if all(x is not None for x in ratios):
        verdict = "met" if all(x <= TARGET for x in ratios) else "NOT met"
        print(f"\nTarget evloop ≤ {TARGET}× C libevent (server CPU per request): {verdict} "
              f"({', '.join(f'{size_label(z)}: {x:.2f}×' for z, x in zip(args.sizes, ratios, strict=True))})")

    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "args": vars(args), "target": TARGET, "runs": runs,
                       "summaries": summaries}, f, indent=1)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
