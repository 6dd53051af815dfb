"""The pipe transports (connect_read_pipe / connect_write_pipe), on both
loops: the contract of asyncio's _UnixReadPipeTransport and
_UnixWritePipeTransport — reading control, flow control, EOF, the reader
closing (EPIPE), a PTY master both ways (EIO at the end), the errors, the
ResourceWarning — and, on evloop, that the transports are evloop's own."""
import asyncio
import contextvars
import errno
import gc
import os
import tty
import warnings

import pytest

from aio_harness import run


def assert_owned(loop_name, *transports):
    # On evloop every transport a test sees is the compiled one.
    if loop_name == "evloop":
        for tr in transports:
            assert type(tr).__module__.startswith("evloop"), type(tr)


class Recorder(asyncio.Protocol):
    """Records the protocol calls in order."""

    def __init__(self, loop, eof_keep_open=False):
        self.calls = []
        self.data = bytearray()
        self.lost = loop.create_future()
        self.resumed = None
        self.loop = loop

    def connection_made(self, transport):
        self.calls.append("made")
        self.transport = transport

    def data_received(self, data):
        if not self.calls or self.calls[-1] != "data":
            self.calls.append("data")
        self.data += data

    def eof_received(self):
        self.calls.append("eof")

    def pause_writing(self):
        self.calls.append("pause")
        self.resumed = self.loop.create_future()

    def resume_writing(self):
        self.calls.append("resume")
        self.resumed.set_result(None)

    def connection_lost(self, exc):
        self.calls.append("lost")
        self.lost.set_result(exc)


def test_read_pipe_contract(loop, loop_name):
    rfd, wfd = os.pipe()

    async def main():
        pipe = os.fdopen(rfd, "rb", 0)
        tr, proto = await loop.connect_read_pipe(lambda: Recorder(loop), pipe)
        assert_owned(loop_name, tr)
        assert isinstance(tr, asyncio.ReadTransport)
        assert tr.get_extra_info("pipe") is pipe
        assert tr.get_extra_info("nothing", 5) == 5
        assert tr.get_protocol() is proto
        assert tr.is_reading() and not tr.is_closing()
        assert not os.get_blocking(rfd)
        tr.pause_reading()
        tr.pause_reading()           # idempotent
        assert not tr.is_reading()
        os.write(wfd, b"while paused")
        await asyncio.sleep(0.05)
        assert proto.data == b""     # nothing read while paused
        tr.resume_reading()
        assert tr.is_reading()
        while len(proto.data) < 12:
            await asyncio.sleep(0.01)
        assert proto.data == b"while paused"
        os.close(wfd)
        exc = await proto.lost
        assert exc is None
        assert proto.calls == ["made", "data", "eof", "lost"]
        assert tr.is_closing() and not tr.is_reading()
        assert pipe.closed           # the transport closes its pipe
        tr.close()                   # no-op once closed

    run(loop, main())


def test_read_pipe_close_and_set_protocol(loop):
    rfd, wfd = os.pipe()

    async def main():
        tr, proto = await loop.connect_read_pipe(lambda: Recorder(loop), os.fdopen(rfd, "rb", 0))
        other = Recorder(loop)
        tr.set_protocol(other)
        assert tr.get_protocol() is other
        os.write(wfd, b"x")
        while not other.data:
            await asyncio.sleep(0.01)
        tr.close()
        assert tr.is_closing() and not tr.is_reading()
        tr.resume_reading()          # ignored once closing
        assert await other.lost is None
        assert other.calls == ["data", "lost"]
        assert proto.calls == ["made"]
        os.close(wfd)

    run(loop, main())


def test_write_pipe_contract_and_flow_control(loop, loop_name):
    rfd, wfd = os.pipe()

    async def main():
        pipe = os.fdopen(wfd, "wb", 0)
        tr, proto = await loop.connect_write_pipe(lambda: Recorder(loop), pipe)
        assert_owned(loop_name, tr)
        assert isinstance(tr, asyncio.WriteTransport)
        assert tr.get_extra_info("pipe") is pipe
        assert tr.can_write_eof()
        assert tr.get_write_buffer_limits() == (16 * 1024, 64 * 1024)
        with pytest.raises(ValueError):
            tr.set_write_buffer_limits(high=1, low=2)
        tr.set_write_buffer_limits(high=4096)
        assert tr.get_write_buffer_limits() == (1024, 4096)
        tr.write(b"")                # nothing
        assert tr.get_write_buffer_size() == 0
        payload = bytes(range(256)) * 4096    # 1 MiB: more than the pipe holds
        tr.write(payload[:1000])
        tr.writelines([payload[1000:5000], bytearray(payload[5000:9000]),
                       memoryview(payload)[9000:]])
        assert tr.get_write_buffer_size() > 4096
        assert proto.calls == ["made", "pause"]
        got = bytearray()
        reader = os.fdopen(rfd, "rb", 0)
        os.set_blocking(rfd, False)
        while len(got) < len(payload):
            try:
                chunk = reader.read(65536)
            except BlockingIOError:
                chunk = None
            if chunk:
                got += chunk
            else:
                await asyncio.sleep(0.001)
        await proto.resumed
        assert got == payload
        assert tr.get_write_buffer_size() == 0
        assert proto.calls == ["made", "pause", "resume"]
        tr.write_eof()
        assert tr.is_closing()
        assert await proto.lost is None
        tr.write(b"dropped after close")   # silently dropped, as asyncio
        assert reader.read() == b""        # EOF: the transport closed its end
        reader.close()
        assert pipe.closed

    run(loop, main())


def test_write_pipe_close_flushes_abort_drops(loop):
    # close() flushes before connection_lost (the reader blocks in the
    # default executor); abort() drops what is queued.
    async def flush_case():
        rfd, wfd = os.pipe()
        tr, proto = await loop.connect_write_pipe(lambda: Recorder(loop), os.fdopen(wfd, "wb", 0))
        payload = b"z" * (1 << 20)
        tr.write(payload)
        tr.close()
        reader = os.fdopen(rfd, "rb")
        got = await loop.run_in_executor(None, reader.read)
        reader.close()
        exc = await proto.lost
        return got == payload, exc, proto.calls

    async def abort_case():
        rfd, wfd = os.pipe()
        tr, proto = await loop.connect_write_pipe(lambda: Recorder(loop), os.fdopen(wfd, "wb", 0))
        tr.write(b"z" * (1 << 20))
        tr.abort()
        assert tr.get_write_buffer_size() == 0   # abort drops the buffer
        exc = await proto.lost
        os.close(rfd)
        return exc, proto.calls

    ok, exc, calls = run(loop, flush_case())
    assert ok and exc is None and calls[-1] == "lost"
    exc, calls = run(loop, abort_case())
    assert exc is None and calls == ["made", "pause", "lost"]


def test_write_pipe_reader_closed_with_output_queued(loop):
    # The reader goes away while output waits: connection_lost gets a
    # BrokenPipeError (asyncio's reader-trick path: the fd turns readable).
    rfd, wfd = os.pipe()

    async def main():
        tr, proto = await loop.connect_write_pipe(lambda: Recorder(loop), os.fdopen(wfd, "wb", 0))
        tr.write(b"q" * (1 << 20))
        assert tr.get_write_buffer_size() > 0
        os.close(rfd)
        exc = await proto.lost
        assert tr.get_write_buffer_size() == 0
        return exc

    exc = run(loop, main())
    assert isinstance(exc, BrokenPipeError)


def test_write_pipe_reader_closed_idle(loop):
    # Nothing queued when the reader closes: connection_lost(None).
    rfd, wfd = os.pipe()

    async def main():
        tr, proto = await loop.connect_write_pipe(lambda: Recorder(loop), os.fdopen(wfd, "wb", 0))
        os.close(rfd)
        exc = await proto.lost
        assert tr.is_closing()
        tr.write(b"after")   # dropped, counted
        return exc

    assert run(loop, main()) is None


def test_write_pipe_epipe_on_write(loop):
    # The reader closed and the loop has not noticed yet: write() itself
    # gets EPIPE, and connection_lost gets that error.
    rfd, wfd = os.pipe()

    async def main():
        tr, proto = await loop.connect_write_pipe(lambda: Recorder(loop), os.fdopen(wfd, "wb", 0))
        os.close(rfd)
        tr.write(b"into the void")
        exc = await proto.lost
        return exc

    exc = run(loop, main())
    assert isinstance(exc, BrokenPipeError) and exc.errno == errno.EPIPE


def test_pty_both_directions(loop, loop_name, exc_calls):
    master, slave = os.openpty()
    tty.setraw(slave)

    async def main():
        rtr, rproto = await loop.connect_read_pipe(lambda: Recorder(loop),
                                                   os.fdopen(master, "rb", 0))
        wtr, wproto = await loop.connect_write_pipe(lambda: Recorder(loop),
                                                    os.fdopen(os.dup(master), "wb", 0))
        assert_owned(loop_name, rtr, wtr)
        # master -> slave
        wtr.write(b"to the slave")
        got = b""
        os.set_blocking(slave, False)
        while len(got) < 12:
            try:
                got += os.read(slave, 100)
            except BlockingIOError:
                await asyncio.sleep(0.01)
        assert got == b"to the slave"
        # slave -> master
        os.write(slave, b"from the slave")
        while len(rproto.data) < 14:
            await asyncio.sleep(0.01)
        assert rproto.data == b"from the slave"
        # The slave side closes: the master's read fails with EIO, which
        # asyncio treats as the end (connection_lost(EIO), no handler call).
        os.close(slave)
        exc = await rproto.lost
        assert isinstance(exc, OSError) and exc.errno == errno.EIO
        assert rproto.calls == ["made", "data", "lost"]
        wtr.close()
        assert await wproto.lost is None

    run(loop, main())
    assert not exc_calls.consume()


def test_not_a_pipe(loop, tmp_path):
    path = tmp_path / "regular"
    path.write_bytes(b"")

    async def main():
        with open(path, "rb") as f:
            with pytest.raises(ValueError, match=r"^Pipe transport is for pipes/sockets only\.$"):
                await loop.connect_read_pipe(asyncio.Protocol, f)
        with open(path, "wb") as f:
            with pytest.raises(ValueError, match="^Pipe transport is only for "
                               "pipes, sockets and character devices$"):
                await loop.connect_write_pipe(asyncio.Protocol, f)

    run(loop, main())


@pytest.mark.parametrize("kind", ["read", "write"])
def test_unclosed_pipe_transport_warns(loop, kind):
    # A transport nobody closed warns when collected, and closes its pipe.
    # (Idle ones only: a reading transport is held by the loop.  The write
    # side uses a PTY master, which has no reader watch.)
    if kind == "read":
        keep, other = os.pipe()
    else:
        keep, other = os.openpty()

    async def main():
        if kind == "read":
            tr, _ = await loop.connect_read_pipe(asyncio.Protocol, os.fdopen(keep, "rb", 0))
            tr.pause_reading()
        else:
            tr, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(keep, "wb", 0))
        return tr

    tr = run(loop, main())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        del tr
        gc.collect()
    assert any(issubclass(w.category, ResourceWarning) and "unclosed transport" in str(w.message)
               for w in caught), [str(w.message) for w in caught]
    with pytest.raises(OSError):
        os.fstat(keep)          # the transport closed its pipe
    os.close(other)


def test_pipe_callbacks_run_in_asyncio_contexts(loop):
    # asyncio's handles copy the context current when they are made: the
    # reader's when reading starts (or resumes), the writer's when write()
    # first queues; evloop keeps the same contexts without the handles.
    var = contextvars.ContextVar("var", default="unset")
    seen = []

    class P(Recorder):
        def data_received(self, data):
            seen.append(("data", var.get()))
            super().data_received(data)

        def resume_writing(self):
            seen.append(("resume", var.get()))
            super().resume_writing()

    async def main():
        rfd, wfd = os.pipe()
        var.set("at connect")
        rtr, rproto = await loop.connect_read_pipe(lambda: P(loop), os.fdopen(rfd, "rb", 0))
        var.set("later")
        os.write(wfd, b"a")
        while not rproto.data:
            await asyncio.sleep(0.01)
        rtr.pause_reading()
        var.set("at resume")
        rtr.resume_reading()
        var.set("after resume")
        os.write(wfd, b"b")
        while len(rproto.data) < 2:
            await asyncio.sleep(0.01)
        rtr.close()
        await rproto.lost
        os.close(wfd)

        rfd, wfd = os.pipe()
        wtr, wproto = await loop.connect_write_pipe(lambda: P(loop), os.fdopen(wfd, "wb", 0))
        var.set("at write")
        wtr.write(b"w" * (1 << 20))
        var.set("after write")
        reader = os.fdopen(rfd, "rb")
        got = await loop.run_in_executor(None, reader.read, 1 << 20)
        await wproto.resumed
        wtr.close()
        await wproto.lost
        reader.close()
        return len(got)

    assert run(loop, main()) == 1 << 20
    assert seen == [("data", "at connect"), ("data", "at resume"), ("resume", "at write")]
