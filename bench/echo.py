#!/usr/bin/env python3
"""TCP echo benchmark (vmbench's asyncio echo servers) on asyncio, uvloop and evloop.

For every loop x mode x message size:

* the server (bench/echo_server.py) runs in its own process pinned to CPU 0
  (``--server-cpu``), bound to 127.0.0.1 on an ephemeral port;
* the load client (bench/c/echo_client.c, compiled here with ``cc -O2`` into
  bench/_build/) runs pinned to CPU 1 (``--client-cpu``, via ``taskset``):
  ``--conns`` connections (default 10), each sends a message of SIZE bytes
  and waits for the whole echo before sending the next one (closed loop);
  in ``streams`` mode the message ends with ``b"\\n"``;
* the client runs a warm-up (``--warmup``, default 1 s) and then the measured
  window (``--duration``, default 5 s).  At the exact start and end of the
  window it samples the server's CPU time (the sum of the on-CPU ns of its
  threads from /proc/PID/task/*/schedstat; utime+stime from /proc/PID/stat
  as a fallback and for the user/sys split) and /proc/stat (to see how
  busy the server's CPU was with *other* processes).

Modes (as vmbench's servers/asyncioecho.py):

* ``protocol``: ``loop.create_server`` + ``data_received -> transport.write``
* ``streams``:  ``asyncio.start_server``, ``readline()`` then ``write()``, no drain
* ``sockets``:  ``sock_accept`` / ``sock_recv(102400)`` / ``sock_sendall`` per client task

Output: one table per mode (requests/s, p50/p99 latency, server CPU
utilisation, server CPU µs per request, the share of the server's CPU used
by other processes) and a table of ratios evloop/uvloop and evloop/asyncio:
CPU µs per request (lower is better; target evloop <= 0.8x uvloop) and
requests/s (higher is better).  With ``--repeat N`` the whole matrix runs N
times (loop order rotated each time) and medians are reported.

    .venv/bin/python bench/echo.py                      # full run, ~3.5 min
    .venv/bin/python bench/echo.py --quick              # 1 s windows, ~1 min
    .venv/bin/python bench/echo.py --loops evloop uvloop --modes protocol --sizes 1 \\
        --duration 10 --json bench/out/echo.json
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common
from _common import BUILD, HERE, ROOT, fmt, machine_info, print_table, ratio, wait_idle

C_SRC = HERE / "c" / "echo_client.c"
C_BIN = BUILD / "echo_client"
C_SRV_SRC = HERE / "c" / "echo_server.c"
C_SRV_BIN = BUILD / "echo_server"
SERVER = HERE / "echo_server.py"

LOOPS = ("asyncio", "uvloop", "evloop")
# "c": bench/c/echo_server.c, the same system calls with no event loop at
# all -- the floor of CPU µs/request on this machine (see its comment).
FLOOR = "c"
ECHO_LOOPS = LOOPS + (FLOOR,)
MODES = ("protocol", "streams", "sockets")
TARGET_CPU_VS_UVLOOP = 0.8  # evloop CPU µs/request <= 0.8x uvloop's


# -- helpers shared with aiohttp_wrk.py ---------------------------------------------------


def evloop_path() -> Path:
    """Where the servers import evloop from (see --evloop-path)."""
    return Path(os.environ.get("EVLOOP_BENCH_PATH") or ROOT)


def add_evloop_path_arg(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--evloop-path", metavar="DIR",
                    help="import evloop from DIR/evloop instead of the repository's in-place build "
                         "(e.g. a copy of a known-good build; sets EVLOOP_BENCH_PATH for the servers)")


def apply_evloop_path(args) -> None:
    if args.evloop_path:
        d = Path(args.evloop_path).resolve()
        if not (d / "evloop" / "__init__.py").exists():
            sys.exit(f"error: --evloop-path {d}: no evloop/__init__.py there")
        os.environ["EVLOOP_BENCH_PATH"] = str(d)


def versions(loops) -> dict:
    """Versions of the loops, read in a child (the driver never imports them)."""
    code = (
        "import json,sys\n"
        "sys.path.insert(0, %r)\n"
        "out={}\n"
        "for name in %r:\n"
        "    try:\n"
        "        m=__import__(name)\n"
        "        out[name]=getattr(m,'__version__',None) or 'stdlib'\n"
        "    except Exception as e:\n"
        "        out[name]='unavailable: %%s' %% e\n"
        "try:\n"
        "    import aiohttp; out['aiohttp']=aiohttp.__version__\n"
        "except Exception:\n"
        "    pass\n"
        "print(json.dumps(out))\n"
    ) % (str(evloop_path()), list(loops))
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        out = json.loads(r.stdout.strip().splitlines()[-1])
    except Exception as exc:  # noqa: BLE001
        out = {"error": repr(exc)}
    out["evloop_git"] = _common.git_rev()
    if evloop_path() != ROOT:
        out["evloop_path"] = str(evloop_path())
    so = sorted(evloop_path().glob("evloop/_evloop*.so"))
    if so:
        out["evloop_so_mtime"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(so[0].stat().st_mtime))
    return out


def pin_cmd(cpu: int | None) -> list[str]:
    if cpu is None:
        return []
    if shutil.which("taskset"):
        return ["taskset", "-c", str(cpu)]
    return []  # fallback: preexec_fn in popen_pinned


def popen_pinned(cmd, cpu, **kw):
    if cpu is not None and not shutil.which("taskset"):
        kw["preexec_fn"] = lambda: os.sched_setaffinity(0, {cpu})
        return subprocess.Popen(cmd, **kw)
    return subprocess.Popen(pin_cmd(cpu) + cmd, **kw)


class Server:
    """A benchmark server subprocess that prints ``READY <port> <pid> ...``."""

    def __init__(self, cmd: list[str], cpu: int | None, ready_timeout: float = 20.0):
        self.errf = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.errf,
                                     stdin=subprocess.DEVNULL, text=True)
        self.port = self.pid = None
        self.kind = ""
        deadline = time.monotonic() + ready_timeout
        line = ""
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                line = self.proc.stdout.readline()
                if line.startswith("READY"):
                    break
                if not line:  # EOF: the server died
                    break
            elif self.proc.poll() is not None:
                break
        if not line.startswith("READY"):
            self.stop()
            raise RuntimeError(f"server did not start: {' '.join(cmd)}\n{self.stderr_tail()}")
        parts = line.split()
        self.port, self.pid = int(parts[1]), int(parts[2])
        self.kind = parts[3] if len(parts) > 3 else ""
        if cpu is not None:
            aff = os.sched_getaffinity(self.pid)
            if aff != {cpu}:
                self.stop()
                raise RuntimeError(f"server affinity is {aff}, expected {{{cpu}}}")

    def stderr_tail(self, n: int = 20) -> str:
        try:
            self.errf.seek(0)
            return "".join(self.errf.read().splitlines(True)[-n:])
        except (OSError, ValueError):
            return ""

    def stop(self):
        p = self.proc
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if p.stdout:
            p.stdout.close()


def cpu_s(pid: int) -> float:
    """utime+stime of a process in seconds (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tck


def sched_s(pid: int) -> float | None:
    """On-CPU seconds summed over the threads of a process (/proc/PID/task/*/schedstat)."""
    total, found = 0, False
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
                    found = True
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        return None
    return total / 1e9 if found else None


def run_with_retries(fn, args, what: str):
    """Run fn() (after waiting for idle CPUs, --wait-idle); while other
    processes took more than --max-other of the server's or the client's CPU
    during the window, run it again, at most --retries more times; return the
    least disturbed result, with the others under "discarded"."""
    attempts = []
    for attempt in range(args.retries + 1):
        waited = wait_idle([args.server_cpu, args.client_cpu], args.wait_idle)
        res = fn()
        res["waited_idle_s"] = round(waited, 2)
        attempts.append(res)
        noise = max(res.get("other_on_server_cpu") or 0, res.get("other_on_client_cpu") or 0)
        if noise <= args.max_other:
            break
        if attempt < args.retries:
            print(f"    ({what}: other processes took {noise:.0%} of a CPU, retrying)", file=sys.stderr, flush=True)
    best = min(attempts, key=lambda r: max(r.get("other_on_server_cpu") or 0, r.get("other_on_client_cpu") or 0))
    best["discarded"] = [r for r in attempts if r is not best]
    return best


def add_noise_args(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("shared machines")
    g.add_argument("--wait-idle", type=float, default=0.0, metavar="S",
                   help="before each run wait up to S seconds until both CPUs are idle (<10%% busy); default 0")
    g.add_argument("--retries", type=int, default=0,
                   help="rerun a run up to N times while other processes took more than --max-other of the "
                        "server's or client's CPU during the window (the least disturbed run is kept); default 0")
    g.add_argument("--max-other", type=float, default=0.10, metavar="FRACTION",
                   help="the 'other' share above which --retries reruns (default 0.10)")


# -- the echo benchmark ------------------------------------------------------------------


def build_c(src: Path, out: Path, what: str) -> Path:
    try:
        return _common.build_c(src, out, what)
    except _common.BuildError as exc:
        sys.exit(f"error: {exc}")


def build_client() -> Path:
    return build_c(C_SRC, C_BIN, "echo client")


def parse_size(s: str) -> int:
    """'1' -> 1 KiB; '512B', '10k', '1M' also accepted."""
    s = s.strip().lower()
    mult = 1024
    if s.endswith("b"):
        s, mult = s[:-1], 1
    elif s.endswith("k"):
        s, mult = s[:-1], 1024
    elif s.endswith("m"):
        s, mult = s[:-1], 1024 * 1024
    n = int(float(s) * mult)
    if n < 2:
        raise argparse.ArgumentTypeError("size must be at least 2 bytes")
    return n


def size_label(n: int) -> str:
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} B"


def run_one(client: Path, loop: str, mode: str, size: int, args) -> dict:
    if loop == FLOOR:
        srv_cmd = pin_cmd(args.server_cpu) + [str(build_c(C_SRV_SRC, C_SRV_BIN, "C echo server"))]
    else:
        srv_cmd = [sys.executable, str(SERVER), "--loop", loop, "--mode", mode, "--port", "0",
                   "--cpu", str(args.server_cpu if args.server_cpu is not None else -1),
                   "--timeout", str(args.warmup + args.duration + 60)]
    server = Server(srv_cmd, args.server_cpu)
    try:
        cmd = [str(client), "--host", "127.0.0.1", "--port", str(server.port), "--conns", str(args.conns),
               "--size", str(size), "--duration", str(args.duration), "--warmup", str(args.warmup),
               "--server-pid", str(server.pid)]
        if mode == "streams":
            cmd.append("--newline")
        cp = popen_pinned(cmd, args.client_cpu, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = cp.communicate(timeout=args.warmup + args.duration + 30)
        except subprocess.TimeoutExpired:
            cp.kill()
            out, err = cp.communicate()
            raise RuntimeError(f"echo client timed out: {' '.join(cmd)}") from None
        finally:
            if cp.poll() is None:  # interrupted (SIGINT/SIGTERM): do not leave it behind
                cp.kill()
                cp.wait()
        lines = [ln for ln in out.splitlines() if ln.startswith("{")]
        if not lines:
            raise RuntimeError(f"echo client printed no result (rc={cp.returncode}): {err.strip()}\n"
                               f"server stderr:\n{server.stderr_tail()}")
        res = json.loads(lines[-1])
        if "error" in res:
            raise RuntimeError(f"echo client: {res['error']}\nserver stderr:\n{server.stderr_tail()}")
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.stderr_tail()}")
    finally:
        server.stop()
    # server CPU over the measured window: exact schedstat ns when available
    cpu = res.get("server_sched_s")
    source = "schedstat"
    if cpu is None and "server_utime_s" in res:
        cpu = res["server_utime_s"] + res["server_stime_s"]
        source = "stat"
    res["loop"], res["mode"], res["loop_class"] = loop, mode, server.kind
    res["server_cpu_s"] = cpu
    res["server_cpu_source"] = source
    req = res["requests"]
    res["cpu_us_per_req"] = cpu * 1e6 / req if cpu is not None and req else None
    res["server_cpu_util"] = cpu / res["duration_s"] if cpu is not None and res["duration_s"] else None
    busy = res.get("cpu_busy_s")
    if busy and args.server_cpu is not None and args.server_cpu < len(busy) and cpu is not None:
        res["other_on_server_cpu"] = max(0.0, busy[args.server_cpu] - cpu) / res["duration_s"]
    if busy and args.client_cpu is not None and args.client_cpu < len(busy):
        res["other_on_client_cpu"] = max(0.0, busy[args.client_cpu] - res["client_cpu_s"]) / res["duration_s"]
    return res


def median_of(runs: list[dict], key: str):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def exit_on_sigterm() -> None:
    """SIGTERM raises SystemExit, so that the finally clauses stop the servers and clients."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


def main(argv=None) -> int:
    exit_on_sigterm()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loops", nargs="+", choices=ECHO_LOOPS, default=list(ECHO_LOOPS),
                    help="default: all; 'c' is the C floor server (bench/c/echo_server.c)")
    ap.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    ap.add_argument("--sizes", nargs="+", type=parse_size, default=[1024, 10240, 102400],
                    help="message sizes; plain numbers are KiB (default: 1 10 100)")
    ap.add_argument("--conns", type=int, default=10, help="client connections (default 10)")
    ap.add_argument("--duration", type=float, default=5.0, help="measured window, seconds (default 5)")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up before the window, seconds (default 1)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 s windows, 0.5 s warm-up")
    ap.add_argument("--repeat", type=int, default=1, help="run the whole matrix N times, report medians")
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--no-pin", action="store_true", help="do not pin server and client")
    ap.add_argument("--json", metavar="OUT.json", help="write every run, the medians and the machine here")
    ap.add_argument("--report", metavar="IN.json", help="print the tables of a previous --json run, run nothing")
    add_evloop_path_arg(ap)
    add_noise_args(ap)
    args = ap.parse_args(argv)
    apply_evloop_path(args)
    if args.quick:
        args.duration, args.warmup = 1.0, 0.5
    if args.report:
        with open(args.report) as f:
            data = json.load(f)
        cfg = data["config"]
        for k in ("modes", "sizes", "conns", "duration", "warmup", "repeat", "server_cpu", "client_cpu"):
            setattr(args, k, cfg[k])
        mach, vers, runs, elapsed = data["machine"], data["versions"], data["runs"], data["elapsed_s"]
        loops, skipped, args.json = cfg["loops"], {}, None
        print(f"# report of {args.report}: {' '.join(cfg.get('argv', []))}")
    else:
        if args.no_pin:
            args.server_cpu = args.client_cpu = None
        else:
            ncpu = os.cpu_count() or 1
            if max(args.server_cpu, args.client_cpu) >= ncpu or args.server_cpu == args.client_cpu:
                sys.exit(f"error: need two distinct CPUs < {ncpu} for --server-cpu/--client-cpu (or --no-pin)")
            # the driver itself sleeps most of the time; keep it off the server's CPU
            os.sched_setaffinity(0, {args.client_cpu})

        client = build_client()
        mach = machine_info()
        vers = versions([lp for lp in args.loops if lp != FLOOR])
        if FLOOR in args.loops:
            vers[FLOOR] = "bench/c/echo_server.c"
        loops = [lp for lp in args.loops if not str(vers.get(lp, "")).startswith("unavailable")]
        skipped = {lp: vers[lp] for lp in args.loops if lp not in loops}
        for lp, why in skipped.items():
            print(f"note: skipping {lp}: {why}", file=sys.stderr)
        if not loops:
            sys.exit("error: no loop available")

        n_runs = len(loops) * len(args.modes) * len(args.sizes) * args.repeat
        est = n_runs * (args.duration + args.warmup + 0.7)
        print(f"# echo benchmark: {n_runs} runs, about {est / 60:.1f} min; server on CPU {args.server_cpu}, "
              f"client on CPU {args.client_cpu}, {args.conns} connections, "
              f"{args.warmup:g} s warm-up + {args.duration:g} s window", file=sys.stderr, flush=True)

        runs: list[dict] = []
        t_begin = time.monotonic()
        for rep in range(args.repeat):
            order = loops[rep % len(loops):] + loops[:rep % len(loops)]
            for mode in args.modes:
                for size in args.sizes:
                    for loop in order:
                        try:
                            res = run_with_retries(
                                functools.partial(run_one, client, loop, mode, size, args), args,
                                f"{mode} {size_label(size)} {loop}")
                        except RuntimeError as exc:
                            print(f"  FAILED {loop} {mode} {size_label(size)}: {exc}", file=sys.stderr, flush=True)
                            runs.append({"loop": loop, "mode": mode, "size": size, "rep": rep, "error": str(exc)})
                            continue
                        res["rep"] = rep
                        runs.append(res)
                        print(f"  [{rep + 1}/{args.repeat}] {mode:8s} {size_label(size):>7s} {loop:7s} "
                              f"{res['rps']:>10,.0f} req/s  p50 {res['p50_us']:>8,.0f} µs  p99 {res['p99_us']:>8,.0f} µs  "
                              f"{fmt(res['cpu_us_per_req'], '.1f')} CPU µs/req  srv CPU {fmt(res['server_cpu_util'], '.0%')}  "
                              f"other on srv CPU {fmt(res.get('other_on_server_cpu'), '.0%')}",
                              file=sys.stderr, flush=True)
        elapsed = time.monotonic() - t_begin

    # medians per (mode, size, loop)
    summary = {}
    for mode in args.modes:
        for size in args.sizes:
            for loop in loops:
                rs = [r for r in runs if r["loop"] == loop and r["mode"] == mode and r["size"] == size
                      and "error" not in r]
                if not rs:
                    continue
                summary[(mode, size, loop)] = {
                    k: median_of(rs, k) for k in ("rps", "p50_us", "p99_us", "cpu_us_per_req",
                                                  "server_cpu_util", "other_on_server_cpu",
                                                  "other_on_client_cpu", "client_cpu_s", "duration_s")
                }
                summary[(mode, size, loop)]["n"] = len(rs)

    print()
    print(f"Machine: {mach['cpu_model']}, {mach['nproc']} CPUs"
          f"{' (VM)' if mach['virtualized'] else ''}, Linux {mach['kernel']}, "
          f"{mach['python_impl']} {mach['python']}; " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    print(f"Server pinned to CPU {args.server_cpu}, C client to CPU {args.client_cpu}; {args.conns} connections; "
          f"{args.warmup:g} s warm-up + {args.duration:g} s window"
          f"{f', median of {args.repeat} runs' if args.repeat > 1 else ''}; total {elapsed:.0f} s.")
    print("CPU µs/req = server CPU time (user+sys) over the window / requests in the window. "
          "srv CPU = server CPU time / window. other srv/cli = share of the server's / the client's CPU "
          "used by other processes during the window.")
    for mode in args.modes:
        print(f"\n### {mode}\n")
        rows = []
        for size in args.sizes:
            for loop in loops:
                s = summary.get((mode, size, loop))
                if s is None:
                    rows.append([size_label(size), loop, "FAILED", "", "", "", "", ""])
                    continue
                rows.append([size_label(size), loop, fmt(s["rps"]), fmt(s["p50_us"]), fmt(s["p99_us"]),
                             fmt(s["server_cpu_util"], ".0%"), fmt(s["cpu_us_per_req"], ".1f"),
                             f'{fmt(s["other_on_server_cpu"], ".0%")} / {fmt(s["other_on_client_cpu"], ".0%")}'])
        print_table(["size", "loop", "req/s", "p50 µs", "p99 µs", "srv CPU", "CPU µs/req", "other srv/cli"], rows,
                    left=2)

    ratio_rows = []
    ratios = []
    if "evloop" in loops:
        for mode in args.modes:
            for size in args.sizes:
                ev = summary.get((mode, size, "evloop"))
                uv = summary.get((mode, size, "uvloop"))
                ai = summary.get((mode, size, "asyncio"))
                fl = summary.get((mode, size, FLOOR))
                if ev is None:
                    continue
                cf = ratio(fl and fl["cpu_us_per_req"], uv and uv["cpu_us_per_req"])
                cu = ratio(ev["cpu_us_per_req"], uv and uv["cpu_us_per_req"])
                ca = ratio(ev["cpu_us_per_req"], ai and ai["cpu_us_per_req"])
                ru = ratio(ev["rps"], uv and uv["rps"])
                ra = ratio(ev["rps"], ai and ai["rps"])
                met = None if cu is None else cu <= TARGET_CPU_VS_UVLOOP
                ratios.append({"mode": mode, "size": size, "cpu_vs_uvloop": cu, "cpu_vs_asyncio": ca,
                               "rps_vs_uvloop": ru, "rps_vs_asyncio": ra, "cpu_target_met": met,
                               "floor_cpu_vs_uvloop": cf})
                ratio_rows.append([mode, size_label(size), fmt(cu, ".2f"),
                                   "-" if met is None else ("met" if met else "NOT met"),
                                   fmt(cf, ".2f"), fmt(ca, ".2f"), fmt(ru, ".2f"), fmt(ra, ".2f")])
    if ratio_rows:
        print(f"\n### ratios (CPU µs/req: lower is better, target evloop/uvloop <= {TARGET_CPU_VS_UVLOOP}; "
              "req/s: higher is better)\n")
        print_table(["mode", "size", "CPU/req ev/uv", f"target <= {TARGET_CPU_VS_UVLOOP}", "CPU/req C floor/uv",
                     "CPU/req ev/asyncio", "req/s ev/uv", "req/s ev/asyncio"], ratio_rows, left=2)
        if FLOOR in loops:
            print("\nC floor/uv: the CPU µs/request of bench/c/echo_server.c (the same system calls, no event "
                  "loop) over uvloop's; no loop can go below it on this machine.")
    for lp, why in skipped.items():
        print(f"\nwarning: {lp} was not run: {why}")
    noisy = [k for k, s in summary.items() if (s.get("other_on_server_cpu") or 0) > 0.10]
    if noisy:
        print(f"\nwarning: in {len(noisy)} of {len(summary)} cells other processes used more than 10% of the "
              "server's CPU during the window; req/s and latency are then unreliable (CPU µs/req less so).")
    failed = [r for r in runs if "error" in r]
    if failed:
        print(f"\nwarning: {len(failed)} run(s) failed (see stderr)")

    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({
                "benchmark": "echo", "machine": mach, "versions": vers,
                "config": {"loops": loops, "modes": args.modes, "sizes": args.sizes, "conns": args.conns,
                           "duration": args.duration, "warmup": args.warmup, "repeat": args.repeat,
                           "server_cpu": args.server_cpu, "client_cpu": args.client_cpu,
                           "wait_idle": args.wait_idle, "retries": args.retries, "max_other": args.max_other,
                           "argv": sys.argv},
                "runs": runs,
                "summary": [dict(mode=m, size=sz, loop=lp, **v) for (m, sz, lp), v in summary.items()],
                "ratios": ratios,
                "elapsed_s": elapsed,
            }, f, indent=1)
        print(f"\nwrote {args.json}")
    return 1 if failed or skipped else 0


if __name__ == "__main__":
    sys.exit(main())
