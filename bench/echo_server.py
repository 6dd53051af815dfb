#!/usr/bin/env python3
"""Echo servers for bench/echo.py, in vmbench's three asyncio styles.

    python bench/echo_server.py --loop evloop --mode protocol [--port 0] [--cpu 0]

* ``protocol``: ``loop.create_server`` + ``data_received -> transport.write``;
* ``streams``: ``asyncio.start_server`` (limit 1 MiB), ``readline()`` then
  ``write()``, no ``drain()`` (as vmbench / uvloop's benchmarks);
* ``sockets``: ``sock_accept`` / ``sock_recv(102400)`` / ``sock_sendall``, one
  task per client.

The server binds 127.0.0.1 only, pins itself to ``--cpu`` (unless
``--cpu -1``), prints ``READY <port> <pid>`` on stdout once it listens, and
exits on SIGTERM/SIGINT or after ``--timeout`` seconds (a safety bound).
``--profile OUT.prof`` runs it under cProfile and writes the stats on exit.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The repository root first, so that the in-place build of evloop is found;
# EVLOOP_BENCH_PATH (set by the drivers' --evloop-path) names another
# directory holding an ``evloop`` package to benchmark instead.
_EVLOOP_PATH = os.environ.get("EVLOOP_BENCH_PATH") or str(ROOT)
if _EVLOOP_PATH not in sys.path:
    sys.path.insert(0, _EVLOOP_PATH)

LOOPS = ("asyncio", "uvloop", "evloop")
MODES = ("protocol", "streams", "sockets")


def new_loop(name: str) -> asyncio.AbstractEventLoop:
    if name == "asyncio":
        return asyncio.SelectorEventLoop()
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    if name == "evloop":
        import evloop

        return evloop.new_event_loop()
    raise ValueError(f"unknown loop {name!r}")


class EchoProtocol(asyncio.Protocol):
    __slots__ = ("transport",)

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.transport = None

    def data_received(self, data):
        self.transport.write(data)


async def echo_streams(reader, writer):
    sock = writer.get_extra_info("socket")
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass
    try:
        while True:
            data = await reader.readline()
            if not data:
                break
            writer.write(data)
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def echo_sock_client(loop, client):
    try:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass
    with client:
        try:
            while True:
                data = await loop.sock_recv(client, 102400)
                if not data:
                    break
                await loop.sock_sendall(client, data)
        except (ConnectionError, OSError):
            pass


async def sock_server(loop, sock):
    tasks = set()
    while True:
        client, _ = await loop.sock_accept(sock)
        t = loop.create_task(echo_sock_client(loop, client))
        tasks.add(t)
        t.add_done_callback(tasks.discard)


async def start(loop, mode: str, port: int):
    if mode == "protocol":
        srv = await loop.create_server(EchoProtocol, "127.0.0.1", port, backlog=128)
        return srv, srv.sockets[0].getsockname()[1]
    if mode == "streams":
        srv = await asyncio.start_server(echo_streams, "127.0.0.1", port, limit=1024 * 1024,
                                         backlog=128)
        return srv, srv.sockets[0].getsockname()[1]
    if mode == "sockets":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
        sock.setblocking(False)
        task = loop.create_task(sock_server(loop, sock))
        return (sock, task), sock.getsockname()[1]
    raise ValueError(f"unknown mode {mode!r}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loop", choices=LOOPS, required=True)
    ap.add_argument("--mode", choices=MODES, required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cpu", type=int, default=0, help="CPU to pin to (-1: no pinning)")
    ap.add_argument("--timeout", type=float, default=600.0, help="exit after this many seconds")
    ap.add_argument("--profile", metavar="OUT.prof", help="run under cProfile, dump stats here")
    args = ap.parse_args(argv)

    def cleanup(loop, server):
        if isinstance(server, tuple):
            server[1].cancel()
            server[0].close()
        else:
            server.close()

    serve(args, lambda loop: start(loop, args.mode, args.port), cleanup)
    return 0


def serve(args, start_coro, cleanup) -> None:
    """The servers' common life: pin to ``args.cpu``, make the loop of
    ``args.loop``, run ``start_coro(loop)`` (-> (server, port)), print the
    READY line, run until SIGTERM/SIGINT or ``args.timeout`` (under cProfile
    with ``args.profile``), then ``cleanup(loop, server)`` and close."""
    if args.cpu >= 0:
        os.sched_setaffinity(0, {args.cpu})
    loop = new_loop(args.loop)
    asyncio.set_event_loop(loop)
    server, port = loop.run_until_complete(start_coro(loop))

    def _stop(*_):
        loop.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _stop)
    loop.call_later(args.timeout, _stop)
    print(f"READY {port} {os.getpid()} {type(loop).__module__}.{type(loop).__name__}", flush=True)

    prof = None
    if args.profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    try:
        loop.run_forever()
    finally:
        if prof is not None:
            prof.disable()
            prof.dump_stats(args.profile)
        try:
            cleanup(loop, server)
        finally:
            loop.close()


if __name__ == "__main__":
    sys.exit(main())
