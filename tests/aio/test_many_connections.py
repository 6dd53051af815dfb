"""10,000 TCP connections open at the same time on one loop, both loops.

Both ends live in this process, so the test needs about 20,000
descriptors: the soft RLIMIT_NOFILE is raised to the hard limit (and, when
the process may, the hard limit to 32768); the test is skipped only if the
limit stays below 25,000.  Connects are throttled (at most 256 in flight)
so the listen backlog never overflows into SYN retries, but every
connection stays open until all 10,000 have echoed once.
"""
import asyncio
import resource

import pytest

from aio_harness import run

N_CONNECTIONS = 10_000
NEEDED_FDS = 25_000


@pytest.fixture
def many_fds():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < NEEDED_FDS:
        try:
            # Allowed with CAP_SYS_RESOURCE (e.g. as root in a container).
            resource.setrlimit(resource.RLIMIT_NOFILE, (32768, 32768))
        except (ValueError, OSError):
            pytest.skip(f"needs RLIMIT_NOFILE >= {NEEDED_FDS} for {N_CONNECTIONS} "
                        f"connections with both ends in one process; hard limit is {hard}")
    else:
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


class Client(asyncio.Protocol):
    def __init__(self, loop, msg):
        self.msg = msg
        self.echoed = loop.create_future()
        self.closed = loop.create_future()
        self.buf = b""

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.msg)

    def data_received(self, data):
        self.buf += data
        if len(self.buf) >= len(self.msg) and not self.echoed.done():
            self.echoed.set_result(self.buf)

    def connection_lost(self, exc):
        if not self.echoed.done():
            self.echoed.set_exception(exc or ConnectionError("lost before echo"))
        self.closed.set_result(exc)


@pytest.mark.slow
def test_ten_thousand_concurrent_connections(loop, many_fds):
    class Echo(CountingEcho):
        live = 0
        lost = None

    async def main():
        Echo.lost = loop.create_future()
        server = await loop.create_server(Echo, "127.0.0.1", 0, backlog=4096)
        addr = server.sockets[0].getsockname()
        gate = asyncio.Semaphore(256)
        clients = []

        async def connect(i):
            async with gate:
                msg = f"conn-{i:05d}".encode()
                tr, pr = await loop.create_connection(lambda: Client(loop, msg), *addr)
                clients.append(pr)
                assert await pr.echoed == msg

        try:
            await asyncio.gather(*(connect(i) for i in range(N_CONNECTIONS)))
            # All of them open at once, on both sides.
            live_clients = sum(not c.transport.is_closing() for c in clients)
            live_server = Echo.live
        finally:
            for c in clients:
                c.transport.close()
            await asyncio.gather(*(c.closed for c in clients))
            if Echo.live:
                await Echo.lost
            server.close()
            await server.wait_closed()
        return live_clients, live_server, Echo.live

    live_clients, live_server, left = run(loop, main(), timeout=60)
    assert live_clients == N_CONNECTIONS
    assert live_server == N_CONNECTIONS
    assert left == 0
