"""Protocols shared by the transport tests of ``tests/aio``.

``Recorder`` remembers every protocol callback, in order, and offers
futures to await them (``made``, ``eof``, ``lost``) and
``await wait_for_bytes(n)``; ``Echo`` writes back what it reads;
``BufferedRecorder`` is the ``asyncio.BufferedProtocol`` twin of
``Recorder`` with a deliberately small buffer.
"""
import asyncio


class Recorder(asyncio.Protocol):
    """Records callbacks.  ``keep_open_on_eof``: eof_received's return."""

    def __init__(self, loop, keep_open_on_eof=False):
        self.loop = loop
        self.keep_open_on_eof = keep_open_on_eof
        self.transport = None
        self.data = bytearray()
        self.events = []
        self.made = loop.create_future()
        self.eof = loop.create_future()
        self.lost = loop.create_future()
        self._waiter = None
        self._want = 0

    # -- protocol callbacks
    def connection_made(self, transport):
        self.transport = transport
        self.events.append("made")
        self.made.set_result(transport)

    def data_received(self, data):
        assert isinstance(data, bytes)
        assert self.events and self.events[0] == "made"
        assert "eof" not in self.events and "lost" not in self.events
        if not self.events or self.events[-1] != "data":
            self.events.append("data")
        self.data += data
        self._wake()

    def eof_received(self):
        assert "lost" not in self.events
        self.events.append("eof")
        self.eof.set_result(None)
        self._wake()
        return self.keep_open_on_eof

    def connection_lost(self, exc):
        self.events.append("lost")
        self.lost.set_result(exc)
        self._wake()
        # Python 3.10's SSL transport warns "unclosed transport" when it is
        # collected unless close() was called on it, even after the
        # connection was lost; close() is a no-op for a closed transport.
        if self.transport is not None:
            self.transport.close()

    def pause_writing(self):
        self.events.append("pause_writing")

    def resume_writing(self):
        self.events.append("resume_writing")

    # -- helpers
    def _wake(self):
        if self._waiter is not None and not self._waiter.done():
            if len(self.data) >= self._want or self.lost.done() or self.eof.done():
                self._waiter.set_result(None)

    async def wait_for_bytes(self, n):
        """Wait until ``n`` bytes arrived (or EOF/loss came first)."""
        while len(self.data) < n and not self.lost.done() and not self.eof.done():
            self._want = n
            self._waiter = self.loop.create_future()
            await self._waiter
        return bytes(self.data)


class Echo(Recorder):
    """Writes back everything; closes on EOF."""

    def data_received(self, data):
        super().data_received(data)
        self.transport.write(data)


class BufferedRecorder(asyncio.BufferedProtocol):
    """BufferedProtocol: get_buffer hands out a small reusable buffer."""

    def __init__(self, loop, bufsize=4096):
        self.loop = loop
        self.buf = bytearray(bufsize)
        self.data = bytearray()
        self.get_buffer_calls = 0
        self.transport = None
        self.made = loop.create_future()
        self.eof = loop.create_future()
        self.lost = loop.create_future()

    def connection_made(self, transport):
        self.transport = transport
        self.made.set_result(transport)

    def get_buffer(self, sizehint):
        self.get_buffer_calls += 1
        return memoryview(self.buf)

    def buffer_updated(self, nbytes):
        assert 0 < nbytes <= len(self.buf)
        self.data += self.buf[:nbytes]

    def eof_received(self):
        self.eof.set_result(None)
        return False

    def connection_lost(self, exc):
        self.lost.set_result(exc)


async def tcp_echo_server(loop, factory=None, **kwargs):
    """A listening asyncio Server on 127.0.0.1 port 0; returns
    (server, (host, port), list of server-side protocols)."""
    protocols = []

    def make():
        p = (factory or (lambda: Echo(loop)))()
        protocols.append(p)
        return p

    server = await loop.create_server(make, "127.0.0.1", 0, **kwargs)
    return server, server.sockets[0].getsockname()[:2], protocols


async def recorder_pair(loop, **connect_kwargs):
    """A connected pair of Recorders over 127.0.0.1: returns
    (server, client transport, client protocol, server-side protocol),
    the server side's connection_made already run."""
    server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Recorder(loop))
    tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr, **connect_kwargs)
    while not sprotos:
        await asyncio.sleep(0)
    sp = sprotos[0]
    await sp.made
    return server, tr, pr, sp
