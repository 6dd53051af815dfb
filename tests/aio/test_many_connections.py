"""10,000 TCP connections open at the same time on one loop, both loops.

The server side runs on the loop under test; the 10,000 clients run in a
child process (plain asyncio), so each process needs about 10,000
descriptors: the soft RLIMIT_NOFILE is raised to the hard limit in both
(the test is skipped, saying so, only if the hard limit is below 12,000).
Connects are throttled (at most 256 in flight) so the listen backlog never
overflows into SYN retries, and every connection stays open until all
10,000 have echoed once; then the child closes them all.
"""
import asyncio
import os
import resource
import sys

import pytest

from aio_harness import run

N_CONNECTIONS = 10_000
NEEDED_FDS = 12_000
# The clients are only the load: never in asyncio's debug mode (a suite run
# with PYTHONASYNCIODEBUG=1 would triple their time).
CLIENT_ENV = {k: v for k, v in os.environ.items()
              if k not in ("PYTHONASYNCIODEBUG", "PYTHONDEVMODE")}

CLIENT = r"""
import asyncio, resource, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, n = int(sys.argv[1]), int(sys.argv[2])

async def main():
    gate = asyncio.Semaphore(256)
    writers = []
    async def one(i):
        async with gate:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            msg = b"conn-%05d" % i
            w.write(msg)
            got = await r.readexactly(len(msg))
            assert got == msg, (got, msg)
            writers.append(w)
    await asyncio.gather(*(one(i) for i in range(n)))
    print("OPEN", len(writers), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for w in writers:
        w.close()
    await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)
    print("CLOSED", flush=True)

asyncio.run(main())
"""


@pytest.fixture
def many_fds():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < NEEDED_FDS:
        pytest.skip(f"needs RLIMIT_NOFILE >= {NEEDED_FDS} for {N_CONNECTIONS} "
                    f"connections; hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


class CountingEcho(asyncio.Protocol):
    """Server side: echoes; counts live connections."""

    live = 0
    lost = None

    def connection_made(self, transport):
        type(self).live += 1
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def connection_lost(self, exc):
        cls = type(self)
        cls.live -= 1
        if cls.live == 0 and cls.lost is not None and not cls.lost.done():
            cls.lost.set_result(None)


@pytest.mark.slow
def test_ten_thousand_concurrent_connections(loop, many_fds):
    class Echo(CountingEcho):
        live = 0
        lost = None

    async def main():
        Echo.lost = loop.create_future()
        server = await loop.create_server(Echo, "127.0.0.1", 0, backlog=4096)
        port = server.sockets[0].getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CLIENT, str(port), str(N_CONNECTIONS),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env=CLIENT_ENV)
        try:
            line = await proc.stdout.readline()
            # All of them open at once, seen from both sides.
            live_server = Echo.live
            proc.stdin.write(b"close\n")
            await proc.stdin.drain()
            closed = await proc.stdout.readline()
            if Echo.live:
                await Echo.lost
            rc = await proc.wait()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            server.close()
            await server.wait_closed()
        return line, live_server, closed, rc, Echo.live

    line, live_server, closed, rc, left = run(loop, main(), timeout=90)
    assert line == f"OPEN {N_CONNECTIONS}\n".encode()
    assert live_server == N_CONNECTIONS
    assert closed == b"CLOSED\n"
    assert rc == 0
    assert left == 0
