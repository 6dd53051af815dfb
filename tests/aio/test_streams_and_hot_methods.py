"""asyncio streams in the cases evloop's transport feeds a StreamReader
directly (the StreamReaderProtocol fast path of aio/transports.pyx), and the
hot loop methods evloop compiles (create_future, create_task, get_debug):
each behaves as on the stdlib loop."""
import asyncio
import contextvars
import socket
import sys

import pytest

from aio_harness import run
from aio_protocols import recorder_pair


async def _pair(limit=2 ** 16):
    """A connected (server reader, server writer, client socket) triple:
    the server side is asyncio streams on the loop under test, the client
    a plain blocking-free socket driven with sock_* calls."""
    loop = asyncio.get_running_loop()
    accepted = loop.create_future()

    async def on_client(reader, writer):
        accepted.set_result((reader, writer))

    server = await asyncio.start_server(on_client, "127.0.0.1", 0, limit=limit)
    port = server.sockets[0].getsockname()[1]
    client = socket.socket()
    client.setblocking(False)
    await loop.sock_connect(client, ("127.0.0.1", port))
    reader, writer = await accepted
    return server, reader, writer, client


async def _cleanup(server, writer, client):
    client.close()
    writer.close()
    try:
        await writer.wait_closed()
    except (ConnectionError, OSError):
        pass
    server.close()
    await server.wait_closed()


def test_reader_pauses_transport_above_twice_the_limit_and_resumes(loop):
    # StreamReader.feed_data pauses the transport once its buffer holds more
    # than 2 * limit bytes, and readexactly() below the limit resumes it.
    async def main():
        server, reader, writer, client = await _pair(limit=1000)
        try:
            await loop.sock_sendall(client, b"x" * 5000)
            for _ in range(200):
                if len(reader._buffer) >= 5000:
                    break
                await asyncio.sleep(0.01)
            paused = not writer.transport.is_reading()
            head = await reader.readexactly(4500)
            resumed = writer.transport.is_reading()
            rest = await reader.readexactly(500)
            return paused, head, resumed, rest
        finally:
            await _cleanup(server, writer, client)

    paused, head, resumed, rest = run(loop, main())
    assert paused
    assert head == b"x" * 4500 and rest == b"x" * 500
    assert resumed


def test_cancelled_read_then_data_is_kept(loop):
    # A read() cancelled while waiting leaves a cancelled waiter behind;
    # the next data must neither raise nor be lost.
    async def main():
        server, reader, writer, client = await _pair()
        try:
            t = asyncio.ensure_future(reader.read(100))
            await asyncio.sleep(0.05)
            t.cancel()
            with pytest.raises(asyncio.CancelledError):
                await t
            await loop.sock_sendall(client, b"after-cancel\n")
            return await reader.readline()
        finally:
            await _cleanup(server, writer, client)

    assert run(loop, main()) == b"after-cancel\n"


def test_many_chunks_and_eof_arrive_in_order(loop):
    async def main():
        server, reader, writer, client = await _pair()
        try:
            chunks = [bytes([65 + i % 26]) * (i + 1) for i in range(300)]
            for c in chunks:
                await loop.sock_sendall(client, c)
            client.shutdown(socket.SHUT_WR)
            got = await reader.read()
            return b"".join(chunks), got, reader.at_eof()
        finally:
            await _cleanup(server, writer, client)

    sent, got, at_eof = run(loop, main())
    assert got == sent
    assert at_eof


def test_subclassed_protocol_data_received_is_called(loop):
    # A StreamReaderProtocol subclass overriding data_received must see every
    # byte through its own method (no fast path for it).
    seen = []

    class Spy(asyncio.StreamReaderProtocol):
        def data_received(self, data):
            seen.append(bytes(data))
            super().data_received(data)

    async def main():
        srv_reader = asyncio.StreamReader()
        srv_proto = None

        def factory():
            nonlocal srv_proto
            srv_proto = Spy(srv_reader)
            return srv_proto

        server = await loop.create_server(factory, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = socket.socket()
        client.setblocking(False)
        try:
            await loop.sock_connect(client, ("127.0.0.1", port))
            await loop.sock_sendall(client, b"spy-me\n")
            line = await srv_reader.readline()
        finally:
            client.close()
            if srv_proto is not None:
                srv_proto._transport.close()
            server.close()
            await server.wait_closed()
        return line

    assert run(loop, main()) == b"spy-me\n"
    assert b"".join(seen).startswith(b"spy-me\n")


def test_reader_garbage_collected_drops_data_quietly(loop):
    # StreamReaderProtocol holds its reader weakly: once the reader is gone,
    # incoming data is ignored (no error, the connection stays usable).
    async def main():
        server, reader, writer, client = await _pair()
        try:
            proto = writer.transport.get_protocol()
            proto._stream_reader_wr = None
            await loop.sock_sendall(client, b"into-the-void")
            await asyncio.sleep(0.05)
            writer.write(b"still-alive")
            return await loop.sock_recv(client, 100), writer.transport.is_closing()
        finally:
            await _cleanup(server, writer, client)

    data, closing = run(loop, main())
    assert data == b"still-alive"
    assert not closing


def test_create_future_belongs_to_loop(loop):
    fut = loop.create_future()
    assert isinstance(fut, asyncio.Future)
    assert fut.get_loop() is loop
    loop.call_soon(fut.set_result, 7)
    assert loop.run_until_complete(fut) == 7


def test_create_task_name_and_context(loop):
    var = contextvars.ContextVar("var", default="unset")

    async def job():
        return var.get()

    async def main():
        t = loop.create_task(job(), name="named-task")
        assert t.get_name() == "named-task"
        if sys.version_info >= (3, 11):
            ctx = contextvars.copy_context()
            ctx.run(var.set, "from-context")
            t2 = loop.create_task(job(), context=ctx)
            return await t, await t2
        return await t, "from-context"

    assert run(loop, main()) == ("unset", "from-context")


@pytest.mark.skipif(sys.version_info >= (3, 11), reason="3.10's create_task has no context argument")
def test_create_task_context_rejected_on_310(loop):
    async def job():
        return 1

    coro = job()
    with pytest.raises(TypeError, match="context"):
        loop.create_task(coro, context=contextvars.copy_context())
    coro.close()


def test_create_task_uses_task_factory(loop):
    made = []

    def factory(lp, coro, **kwargs):
        made.append(kwargs)
        return asyncio.Task(coro, loop=lp, **kwargs)

    async def job():
        return "ok"

    loop.set_task_factory(factory)
    try:
        t = loop.create_task(job(), name="via-factory")
        assert loop.run_until_complete(t) == "ok"
    finally:
        loop.set_task_factory(None)
    assert made == [{}]
    assert t.get_name() == "via-factory"


def test_create_task_on_closed_loop_raises(loop_factory):
    lp = loop_factory()
    lp.close()

    async def job():
        pass

    coro = job()
    with pytest.raises(RuntimeError, match="closed"):
        lp.create_task(coro)
    coro.close()


def test_get_debug_follows_set_debug(loop):
    loop.set_debug(True)
    assert loop.get_debug() is True
    loop.set_debug(False)
    assert loop.get_debug() is False


# -- transport.writelines --------------------------------------------------


async def _recorder_close(server, tr, pr, sp):
    tr.close()
    await pr.lost
    await sp.lost
    server.close()
    await server.wait_closed()


def test_writelines_mixed_buffers_arrive_in_order(loop):
    parts = [b"alpha-", bytearray(b"beta-"), memoryview(b"xxgamma-")[2:], b"", b"delta"]

    async def main():
        server, tr, pr, sp = await recorder_pair(loop)
        try:
            tr.writelines(parts)
            tr.writelines(iter([b"-gen1", b"-gen2"]))
            tr.writelines([b"-single"])
            tr.writelines([])
            return await sp.wait_for_bytes(39)
        finally:
            await _recorder_close(server, tr, pr, sp)

    assert run(loop, main()) == b"alpha-beta-gamma-delta-gen1-gen2-single"


def test_writelines_large_buffers_queue_the_rest_and_pause(loop, loop_name):
    # More than the socket buffers take at once: the unsent tail of the
    # buffers is queued in order, pause_writing comes, nothing is lost.
    blobs = [bytes([i]) * (3 * 1024 * 1024 + i) for i in range(4)]

    async def main():
        server, tr, pr, sp = await recorder_pair(loop)
        try:
            sp.transport.pause_reading()
            tr.writelines(blobs)
            queued = tr.get_write_buffer_size()
            paused = "pause_writing" in pr.events
            sp.transport.resume_reading()
            total = sum(map(len, blobs))
            data = await sp.wait_for_bytes(total)
            for _ in range(200):
                if tr.get_write_buffer_size() == 0:
                    break
                await asyncio.sleep(0.005)
            return queued, paused, data, tr.get_write_buffer_size()
        finally:
            await _recorder_close(server, tr, pr, sp)

    queued, paused, data, left = run(loop, main(), timeout=30)
    assert queued > 0
    # asyncio 3.12's and 3.13's writelines() (sendmsg-based) never calls
    # _maybe_pause_protocol, so only write() pauses there; 3.10/3.11's loops
    # over write().  evloop's writelines() pauses like write() everywhere.
    if loop_name == "evloop" or sys.version_info < (3, 12):
        assert paused
    assert data == b"".join(blobs)
    assert left == 0


def test_writelines_after_write_while_queued_keeps_order(loop):
    async def main():
        server, tr, pr, sp = await recorder_pair(loop)
        try:
            sp.transport.pause_reading()
            big = b"A" * (8 * 1024 * 1024)
            tr.write(big)
            assert tr.get_write_buffer_size() > 0
            tr.writelines([b"B" * 10, b"C" * 10])
            sp.transport.resume_reading()
            return await sp.wait_for_bytes(len(big) + 20), len(big)
        finally:
            await _recorder_close(server, tr, pr, sp)

    data, n = run(loop, main(), timeout=30)
    assert data[:n] == b"A" * n
    assert data[n:] == b"B" * 10 + b"C" * 10


def test_writelines_rejects_non_bytes(loop):
    async def main():
        server, tr, pr, sp = await recorder_pair(loop)
        try:
            with pytest.raises(TypeError, match="bytes-like"):
                tr.writelines([b"ok", "not bytes"])
            tr.write(b"after")
            return await sp.wait_for_bytes(5)
        finally:
            await _recorder_close(server, tr, pr, sp)

    got = run(loop, main())
    assert got.endswith(b"after")


def test_writelines_after_write_eof_raises(loop):
    async def main():
        server, tr, pr, sp = await recorder_pair(loop)
        try:
            tr.write_eof()
            with pytest.raises(RuntimeError):
                tr.writelines([b"a", b"b"])
        finally:
            await _recorder_close(server, tr, pr, sp)

    run(loop, main())
