#!/usr/bin/env python3
"""aiohttp "hello world" server for bench/aiohttp_wrk.py.

    python bench/aiohttp_server.py --loop evloop [--port 0] [--cpu 0]

``GET /`` answers ``Hello, World!`` (text/plain).  Access logging is off.
Binds 127.0.0.1 only, pins itself to ``--cpu`` (``-1``: no pinning), prints
``READY <port> <pid> <loop class>`` once it listens and exits on
SIGTERM/SIGINT or after ``--timeout`` seconds.  ``--profile OUT.prof`` runs
the loop under cProfile.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # echo_server (which also puts evloop on sys.path)

from echo_server import LOOPS, serve  # noqa: E402

from aiohttp import web  # noqa: E402

BODY = "Hello, World!"


async def hello(request):
    return web.Response(text=BODY)


async def start(port: int):
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=128)
    await site.start()
    sock = site._server.sockets[0]  # noqa: SLF001  (port 0: ask the socket)
    return runner, sock.getsockname()[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loop", choices=LOOPS, required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cpu", type=int, default=0, help="CPU to pin to (-1: no pinning)")
    ap.add_argument("--timeout", type=float, default=600.0, help="exit after this many seconds")
    ap.add_argument("--profile", metavar="OUT.prof", help="run under cProfile, dump stats here")
    args = ap.parse_args(argv)

    def cleanup(loop, runner):
        try:
            loop.run_until_complete(asyncio.wait_for(runner.cleanup(), 5))
        except Exception:  # noqa: BLE001
            pass

    serve(args, lambda loop: start(args.port), cleanup)
    return 0


if __name__ == "__main__":
    sys.exit(main())
