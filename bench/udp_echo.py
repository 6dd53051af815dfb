#!/usr/bin/env python3
"""UDP echo benchmark: create_datagram_endpoint on asyncio, uvloop, rloop and evloop.

For every loop:

* the server (this file with ``--serve LOOP``) runs in its own process
  pinned to CPU 0 (``--server-cpu``): ``loop.create_datagram_endpoint`` on
  127.0.0.1 with a protocol whose ``datagram_received`` calls
  ``transport.sendto(data, addr)`` (protocol mode; one recvfrom and one
  sendto per datagram, the loop's transport does the rest);
* the load generator is another process pinned to CPU 1 (``--client-cpu``)
  that does not use any event loop: bench/c/udp_echo_client.c (compiled
  here with ``cc -O2`` into bench/_build/; ``--client-impl python`` uses
  this file's ``--client`` mode instead, a plain blocking socket, which
  cannot load the server as much).  One socket connected to the server
  keeps ``--window`` datagrams of ``--size`` bytes in flight (closed
  loop: one new datagram per echo received; datagrams lost on the way
  are replaced after a 0.5 s timeout and counted).  It prints ``START``
  and ``END <echoes> <lost> <seconds>`` around the measured window
  (``--duration`` after ``--warmup``), and the driver samples the
  server's on-CPU time (schedstat, as bench/echo.py) at those two lines.

Output: echoes/s, server CPU µs per echoed datagram (lower is better)
and the ratios of evloop to the others.  With ``--repeat N`` the loops run
N times (order rotated) and the medians are reported.  A loop that cannot
be imported, or whose loop has no datagram endpoints, is reported as
unavailable.

    .venv/bin/python bench/udp_echo.py                  # 4 loops x 5 s
    .venv/bin/python bench/udp_echo.py --quick          # 1 s windows
    .venv/bin/python bench/udp_echo.py --loops evloop uvloop --repeat 3 --json out.json
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import signal
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LOOPS = ("asyncio", "uvloop", "rloop", "evloop")


# -- the server (a child process) ------------------------------------------------------


def new_loop(name: str) -> asyncio.AbstractEventLoop:
    if name == "asyncio":
        return asyncio.SelectorEventLoop()
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    if name == "rloop":
        import rloop

        return rloop.new_event_loop()
    if name == "evloop":
        import evloop

        return evloop.new_event_loop()
    raise ValueError(f"unknown loop {name!r}")


class Echo(asyncio.DatagramProtocol):
    __slots__ = ("transport",)

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


def serve(name: str, cpu: int, timeout: float) -> int:
    # The repository root first, so that the in-place build of evloop is
    # found (EVLOOP_BENCH_PATH: another directory, as bench/echo_server.py).
    path = os.environ.get("EVLOOP_BENCH_PATH") or str(ROOT)
    if path not in sys.path:
        sys.path.insert(0, path)
    if cpu >= 0:
        os.sched_setaffinity(0, {cpu})
    loop = new_loop(name)
    stop = loop.create_future()

    def on_signal(*_):
        loop.call_soon_threadsafe(lambda: stop.done() or stop.set_result(None))

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    async def main():
        transport, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        sock = transport.get_extra_info("socket")
        for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, opt, 1 << 20)
            except (OSError, AttributeError):
                pass
        port = transport.get_extra_info("sockname")[1]
        print(f"READY {port} {os.getpid()} {type(transport).__module__}", flush=True)
        try:
            await asyncio.wait_for(stop, timeout)
        except asyncio.TimeoutError:
            pass
        transport.close()
        await asyncio.sleep(0)

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    return 0


# -- the load generator (a child process, no event loop) ------------------------------


def client(port: int, size: int, window: int, warmup: float, duration: float) -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(0.5)
    payload = b"x" * size
    send, recv = sock.send, sock.recv
    for _ in range(window):
        send(payload)
    echoes = lost = 0
    t_start = time.monotonic() + warmup
    t_end = t_start + duration
    started = False
    while True:
        try:
            recv(65536)
        except socket.timeout:
            # The datagrams in flight were lost: refill the window.
            if started:
                lost += window
            for _ in range(window):
                send(payload)
            continue
        send(payload)
        if started:
            echoes += 1
            if echoes & 255 == 0 and time.monotonic() >= t_end:
                break
        elif time.monotonic() >= t_start:
            print("START", flush=True)
            started = True
            t_end = time.monotonic() + duration
    elapsed = time.monotonic() - (t_end - duration)
    print(f"END {echoes} {lost} {elapsed:.6f}", flush=True)
    sock.close()
    return 0


# -- the driver -----------------------------------------------------------------------


def read_line(proc, timeout: float) -> str:
    r, _, _ = select.select([proc.stdout], [], [], timeout)
    if not r:
        raise RuntimeError("the client did not report in time")
    return proc.stdout.readline()


def run_one(loop: str, args) -> dict:
    import subprocess

    from echo import Server, popen_pinned, sched_s

    srv = Server([sys.executable, __file__, "--serve", loop, "--cpu",
                  str(args.server_cpu if args.server_cpu is not None else -1),
                  "--timeout", str(args.warmup + args.duration + 60)], args.server_cpu)
    try:
        if args.client_bin is not None:
            cmd = [str(args.client_bin), str(srv.port), str(args.size), str(args.window),
                   str(args.warmup), str(args.duration)]
        else:
            cmd = [sys.executable, __file__, "--client", str(srv.port),
                   "--size", str(args.size), "--window", str(args.window),
                   "--warmup", str(args.warmup), "--duration", str(args.duration)]
        cli = popen_pinned(cmd, args.client_cpu, stdout=subprocess.PIPE, text=True)
        try:
            line = read_line(cli, args.warmup + 30)
            if not line.startswith("START"):
                raise RuntimeError(f"client: {line!r}")
            c0 = sched_s(srv.pid)
            line = read_line(cli, args.duration + 30)
            c1 = sched_s(srv.pid)
            if not line.startswith("END"):
                raise RuntimeError(f"client: {line!r}")
            _, echoes, lost, elapsed = line.split()
            cli.wait(10)
        finally:
            if cli.poll() is None:
                cli.kill()
                cli.wait(5)
            cli.stdout.close()
    finally:
        srv.stop()
    echoes, lost, elapsed = int(echoes), int(lost), float(elapsed)
    cpu = None if c0 is None or c1 is None else c1 - c0
    return {
        "loop": loop, "transport_module": srv.kind, "echoes": echoes, "lost": lost,
        "seconds": elapsed, "echoes_per_s": echoes / elapsed if elapsed else None,
        "server_cpu_s": cpu,
        "cpu_us_per_dgram": cpu / echoes * 1e6 if cpu is not None and echoes else None,
        "server_cpu_util": cpu / elapsed if cpu is not None and elapsed else None,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--serve", choices=LOOPS, help=argparse.SUPPRESS)
    ap.add_argument("--client", type=int, metavar="PORT", help=argparse.SUPPRESS)
    ap.add_argument("--cpu", type=int, default=-1, help=argparse.SUPPRESS)
    ap.add_argument("--timeout", type=float, default=600, help=argparse.SUPPRESS)
    ap.add_argument("--loops", nargs="+", choices=LOOPS, default=list(LOOPS))
    ap.add_argument("--size", type=int, default=64, help="datagram size in bytes (default 64)")
    ap.add_argument("--window", type=int, default=32,
                    help="datagrams in flight (default 32)")
    ap.add_argument("--client-impl", choices=("c", "python"), default="c",
                    help="the load generator: bench/c/udp_echo_client.c (default) or Python")
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--quick", action="store_true", help="1 s windows, 0.5 s warm-up")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--json", metavar="OUT", help="write the results as JSON")
    args = ap.parse_args(argv)
    if args.serve:
        return serve(args.serve, args.cpu, args.timeout)
    if args.client is not None:
        return client(args.client, args.size, args.window, args.warmup, args.duration)

    import _common
    from _common import BUILD, HERE, fmt, machine_info, print_table, ratio
    from echo import build_c, versions

    args.client_bin = None
    if args.client_impl == "c":
        args.client_bin = build_c(HERE / "c" / "udp_echo_client.c", BUILD / "udp_echo_client",
                                  "UDP echo client")
    if args.quick:
        args.duration, args.warmup = 1.0, 0.5
    if (os.cpu_count() or 1) < 2:
        args.server_cpu = args.client_cpu = None
    results: dict[str, list[dict]] = {name: [] for name in args.loops}
    unavailable: dict[str, str] = {}
    order = list(args.loops)
    for rep in range(args.repeat):
        for name in order[rep % len(order):] + order[:rep % len(order)]:
            if name in unavailable:
                continue
            try:
                results[name].append(run_one(name, args))
            except RuntimeError as exc:
                unavailable[name] = str(exc).strip().splitlines()[-1][:200]
    print(f"# UDP echo, {args.size} B datagrams, window {args.window}, {args.client_impl} client, "
          f"{args.duration:g} s x {args.repeat}; server CPU {args.server_cpu}, "
          f"client CPU {args.client_cpu}; git {_common.git_rev()}")

    def med(name, key):
        vals = [r[key] for r in results[name] if r.get(key) is not None]
        return statistics.median(vals) if vals else None

    rows = []
    for name in args.loops:
        if name in unavailable:
            rows.append([name, "unavailable: " + unavailable[name], "-", "-", "-"])
            continue
        rows.append([name, fmt(med(name, "echoes_per_s")), fmt(med(name, "cpu_us_per_dgram"), ".2f"),
                     fmt(med(name, "server_cpu_util"), ".0%"), fmt(med(name, "lost"))])
    print_table(["loop", "echoes/s", "server CPU µs/dgram", "server CPU", "lost"], rows)
    if "evloop" in args.loops and "evloop" not in unavailable:
        print()
        rows = []
        for other in args.loops:
            if other == "evloop" or other in unavailable:
                continue
            rows.append([f"evloop / {other}",
                         fmt(ratio(med("evloop", "cpu_us_per_dgram"), med(other, "cpu_us_per_dgram")), ".2f"),
                         fmt(ratio(med("evloop", "echoes_per_s"), med(other, "echoes_per_s")), ".2f")])
        print_table(["ratio", "CPU µs/dgram (lower is better)", "echoes/s"], rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine_info(), "versions": versions(args.loops),
                       "args": {k: str(v) if isinstance(v, Path) else v
                                for k, v in vars(args).items()}, "results": results, "unavailable": unavailable},
                      f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
