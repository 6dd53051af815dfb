"""TCP transports on both loops: create_server/create_connection with
Protocol and BufferedProtocol, asyncio streams, write_eof and half-close,
pause/resume_reading, write flow control, abort, reset by peer,
get_extra_info, connect_accepted_socket."""
import asyncio
import socket
import struct

import pytest

from aio_harness import run
from aio_protocols import BufferedRecorder, Echo, Recorder, recorder_pair, tcp_echo_server


async def _close_server(server):
    server.close()
    await server.wait_closed()


def test_echo_protocol(loop):
    async def main():
        server, addr, sprotos = await tcp_echo_server(loop)
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        assert isinstance(tr, asyncio.Transport)
        assert pr.transport is tr
        assert tr.get_protocol() is pr
        tr.write(b"hello ")
        tr.writelines([b"wor", bytearray(b"ld"), memoryview(b"!")])
        assert await pr.wait_for_bytes(12) == b"hello world!"
        assert not tr.is_closing()
        tr.close()
        assert tr.is_closing()
        assert await pr.lost is None
        await sprotos[0].lost
        await _close_server(server)
        return pr.events, sprotos[0].events

    client_events, server_events = run(loop, main())
    assert client_events == ["made", "data", "lost"]
    assert server_events == ["made", "data", "eof", "lost"]


def test_large_echo(loop):
    payload = bytes(range(256)) * (32 * 1024)   # 8 MiB

    async def main():
        server, addr, _ = await tcp_echo_server(loop)
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        for i in range(0, len(payload), 1 << 20):
            tr.write(payload[i:i + (1 << 20)])
        got = await pr.wait_for_bytes(len(payload))
        tr.close()
        await pr.lost
        await _close_server(server)
        return got

    assert run(loop, main(), timeout=30) == payload


def test_many_small_writes_arrive_in_order(loop):
    async def main():
        server, addr, _ = await tcp_echo_server(loop)
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        expected = b"".join(struct.pack("!I", i) for i in range(5000))
        for i in range(5000):
            tr.write(struct.pack("!I", i))
        got = await pr.wait_for_bytes(len(expected))
        tr.close()
        await pr.lost
        await _close_server(server)
        return got, expected

    got, expected = run(loop, main())
    assert got == expected


def test_buffered_protocol_client(loop):
    payload = bytes(range(256)) * 8192   # 2 MiB

    class Sender(Recorder):
        def connection_made(self, transport):
            super().connection_made(transport)
            transport.write(payload)
            transport.close()

    async def main():
        server, addr, _ = await tcp_echo_server(loop, factory=lambda: Sender(loop))
        tr, pr = await loop.create_connection(lambda: BufferedRecorder(loop), *addr)
        await pr.eof
        exc = await pr.lost
        await _close_server(server)
        return pr, exc

    pr, exc = run(loop, main())
    assert exc is None
    assert bytes(pr.data) == payload
    assert pr.get_buffer_calls >= len(payload) // len(pr.buf)


def test_buffered_protocol_server(loop):
    payload = b"buffered server " * 100_000

    async def main():
        server, addr, sprotos = await tcp_echo_server(
            loop, factory=lambda: BufferedRecorder(loop, bufsize=1000))
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        tr.write(payload)
        tr.write_eof()
        sp = sprotos[0]
        await sp.eof
        sp.transport.close()
        await sp.lost
        await pr.lost
        await _close_server(server)
        return bytes(sp.data)

    assert run(loop, main()) == payload


def test_streams_echo(loop):
    async def handle(reader, writer):
        while True:
            line = await reader.readline()
            if not line:
                break
            writer.write(line.upper())
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        host, port = server.sockets[0].getsockname()[:2]
        async with server:
            reader, writer = await asyncio.open_connection(host, port)
            results = []
            for word in (b"alpha\n", b"beta\n", b"gamma\n"):
                writer.write(word)
                await writer.drain()
                results.append(await reader.readline())
            writer.write_eof()
            rest = await reader.read()
            writer.close()
            await writer.wait_closed()
        return results, rest

    results, rest = run(loop, main())
    assert results == [b"ALPHA\n", b"BETA\n", b"GAMMA\n"]
    assert rest == b""


def test_streams_readexactly_and_large_drain(loop):
    blob = bytes(range(256)) * 20000

    async def handle(reader, writer):
        n = int((await reader.readline()).decode())
        data = await reader.readexactly(n)
        writer.write(len(data).to_bytes(8, "big") + data[::-1])
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"{len(blob)}\n".encode())
        writer.write(blob)
        await writer.drain()
        n = int.from_bytes(await reader.readexactly(8), "big")
        back = await reader.readexactly(n)
        assert await reader.read() == b""
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return back

    assert run(loop, main()) == blob[::-1]


def test_write_eof_half_close(loop):
    """Client sends a request then EOF; the server keeps its side open
    (eof_received returns True), answers, then closes."""

    class Answer(Recorder):
        def eof_received(self):
            super().eof_received()
            self.transport.write(b"answer to " + bytes(self.data))
            self.transport.close()
            return True

    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Answer(loop))
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        assert tr.can_write_eof()
        tr.write(b"question")
        tr.write_eof()
        with pytest.raises(RuntimeError):
            tr.write(b"after eof")
        await pr.eof
        exc = await pr.lost
        await sprotos[0].lost
        await _close_server(server)
        return bytes(pr.data), pr.events, sprotos[0].events, exc

    data, cevents, sevents, exc = run(loop, main())
    assert data == b"answer to question"
    assert cevents == ["made", "data", "eof", "lost"]
    assert sevents == ["made", "data", "eof", "lost"]
    assert exc is None


def test_half_close_from_server_client_keeps_writing(loop):
    """The server writes and sends EOF first; the client keeps its side
    open and sends afterwards; the server still reads it."""

    class EofFirst(Recorder):
        def connection_made(self, transport):
            super().connection_made(transport)
            transport.write(b"server done")
            transport.write_eof()

    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: EofFirst(loop))
        tr, pr = await loop.create_connection(lambda: Recorder(loop, keep_open_on_eof=True), *addr)
        await pr.eof
        assert not tr.is_closing()
        tr.write(b"client still talking")
        sp = sprotos[0]
        got = await sp.wait_for_bytes(len(b"client still talking"))
        tr.close()
        await pr.lost
        await sp.lost
        await _close_server(server)
        return bytes(pr.data), got

    from_server, from_client = run(loop, main())
    assert from_server == b"server done"
    assert from_client == b"client still talking"


def test_pause_and_resume_reading(loop):
    async def main():
        server, tr, pr, sp = await recorder_pair(loop)
        st = sp.transport
        assert st.is_reading()
        st.pause_reading()
        assert not st.is_reading()
        st.pause_reading()   # idempotent
        tr.write(b"while paused")
        for _ in range(20):
            await asyncio.sleep(0.001)
        received_while_paused = bytes(sp.data)
        st.resume_reading()
        assert st.is_reading()
        st.resume_reading()   # idempotent
        got = await sp.wait_for_bytes(len(b"while paused"))
        tr.close()
        await pr.lost
        await sp.lost
        await _close_server(server)
        return received_while_paused, got

    while_paused, got = run(loop, main())
    assert while_paused == b""
    assert got == b"while paused"


def test_write_flow_control(loop):
    """pause_writing when the buffer goes above the high-water mark of a
    peer that does not read; resume_writing once it drains below the
    low-water mark."""
    chunk = b"x" * 65536

    async def main():
        server, tr, pr, sp = await recorder_pair(loop)
        sp.transport.pause_reading()          # the peer stops reading
        tr.set_write_buffer_limits(high=128 * 1024, low=32 * 1024)
        assert tr.get_write_buffer_limits() == (32 * 1024, 128 * 1024)
        written = 0
        for _ in range(4096):                  # at most 256 MiB
            tr.write(chunk)
            written += len(chunk)
            await asyncio.sleep(0)
            if "pause_writing" in pr.events:
                break
        assert pr.events[-1] == "pause_writing"
        assert tr.get_write_buffer_size() > 128 * 1024
        sp.transport.resume_reading()
        await sp.wait_for_bytes(written)
        for _ in range(100):
            if "resume_writing" in pr.events:
                break
            await asyncio.sleep(0.001)
        assert tr.get_write_buffer_size() == 0
        tr.close()
        await pr.lost
        await sp.lost
        await _close_server(server)
        return pr.events, len(sp.data), written

    events, received, written = run(loop, main(), timeout=30)
    assert received == written
    assert events == ["made", "pause_writing", "resume_writing", "lost"]


def test_write_buffer_limits_validation(loop):
    async def main():
        server, addr, _ = await tcp_echo_server(loop)
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        try:
            with pytest.raises(ValueError):
                tr.set_write_buffer_limits(high=10, low=20)
            tr.set_write_buffer_limits(high=1000)
            low, high = tr.get_write_buffer_limits()
            assert high == 1000 and low <= high
        finally:
            tr.close()
            await pr.lost
            await _close_server(server)

    run(loop, main())


def test_abort(loop):
    async def main():
        server, tr, pr, sp = await recorder_pair(loop)
        sp.transport.pause_reading()
        tr.set_write_buffer_limits(high=1 << 30)
        tr.write(b"y" * (16 << 20))   # more than the kernel buffers take
        assert tr.get_write_buffer_size() > 0
        tr.abort()
        assert tr.is_closing()
        exc = await pr.lost
        sp.transport.resume_reading()
        server_exc = await sp.lost
        await _close_server(server)
        return exc, server_exc, len(sp.data)

    exc, server_exc, nread = run(loop, main())
    assert exc is None
    # The peer sees either a clean EOF or a reset, never all 16 MiB.
    assert server_exc is None or isinstance(server_exc, ConnectionError)
    assert nread < 16 << 20


def test_reset_by_peer_reaches_connection_lost(loop, exc_calls):
    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Recorder(loop))
        raw = socket.create_connection(addr)
        try:
            while not sprotos:
                await asyncio.sleep(0)
            sp = sprotos[0]
            await sp.made
            raw.sendall(b"before reset")
            await sp.wait_for_bytes(len(b"before reset"))
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            raw.close()   # RST
        exc = await sp.lost
        await _close_server(server)
        return exc, sp.events

    exc, events = run(loop, main())
    assert isinstance(exc, ConnectionResetError)
    assert events == ["made", "data", "lost"]
    # A reset is an OSError: asyncio reports it only in debug mode.
    assert exc_calls.consume() == []


def test_reset_from_transport_abort_with_linger_zero(loop):
    async def main():
        server, tr, pr, sp = await recorder_pair(loop)
        sock = sp.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sp.transport.abort()
        exc = await pr.lost
        await sp.lost
        await _close_server(server)
        return exc

    assert isinstance(run(loop, main()), ConnectionResetError)


def test_get_extra_info(loop):
    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Recorder(loop))
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        while not sprotos:
            await asyncio.sleep(0)
        st = (await sprotos[0].made)
        try:
            sock = tr.get_extra_info("socket")
            assert sock.family == socket.AF_INET
            assert sock.type == socket.SOCK_STREAM
            assert sock.fileno() >= 0
            # aiohttp sets options through it.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert tr.get_extra_info("sockname") == sock.getsockname()
            assert tr.get_extra_info("peername") == addr
            assert st.get_extra_info("sockname") == addr
            assert st.get_extra_info("peername") == tr.get_extra_info("sockname")
            assert tr.get_extra_info("no such key") is None
            assert tr.get_extra_info("no such key", "dflt") == "dflt"
        finally:
            tr.close()
            await pr.lost
            await sprotos[0].lost
            await _close_server(server)

    run(loop, main())


def test_add_reader_on_transport_fd_raises(loop):
    async def main():
        server, addr, _ = await tcp_echo_server(loop)
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        try:
            fd = tr.get_extra_info("socket").fileno()
            with pytest.raises(RuntimeError, match="is used by transport"):
                loop.add_reader(fd, print)
            with pytest.raises(RuntimeError, match="is used by transport"):
                loop.add_writer(fd, print)
        finally:
            tr.close()
            await pr.lost
            await _close_server(server)

    run(loop, main())


def test_set_protocol(loop):
    async def main():
        server, addr, _ = await tcp_echo_server(loop)
        tr, first = await loop.create_connection(lambda: Recorder(loop), *addr)
        second = Recorder(loop)
        second.connection_made(tr)
        tr.set_protocol(second)
        assert tr.get_protocol() is second
        tr.write(b"to second")
        got = await second.wait_for_bytes(9)
        tr.close()
        await second.lost
        await _close_server(server)
        return got, bytes(first.data)

    got, first_data = run(loop, main())
    assert got == b"to second"
    assert first_data == b""


def test_create_connection_refused(loop):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    addr = probe.getsockname()
    probe.close()
    with pytest.raises(ConnectionRefusedError):
        run(loop, loop.create_connection(lambda: Recorder(loop), *addr))


def test_create_connection_and_server_with_sock(loop):
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(10)
    lsock.setblocking(False)
    addr = lsock.getsockname()

    async def main():
        server = await loop.create_server(lambda: Echo(loop), sock=lsock)
        csock = socket.socket()
        csock.setblocking(False)
        await loop.sock_connect(csock, addr)
        tr, pr = await loop.create_connection(lambda: Recorder(loop), sock=csock)
        tr.write(b"via sock")
        got = await pr.wait_for_bytes(8)
        tr.close()
        await pr.lost
        await _close_server(server)
        return got

    assert run(loop, main()) == b"via sock"
    assert lsock.fileno() == -1   # the server owns and closed it


def test_create_connection_with_local_addr(loop):
    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Recorder(loop))
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr,
                                              local_addr=("127.0.0.1", 0))
        while not sprotos:
            await asyncio.sleep(0)
        sp = sprotos[0]
        await sp.made
        same = sp.transport.get_extra_info("peername") == tr.get_extra_info("sockname")
        tr.close()
        await pr.lost
        await sp.lost
        await _close_server(server)
        return same

    assert run(loop, main())


def test_connect_accepted_socket(loop):
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    client = socket.create_connection(lsock.getsockname())
    conn, _ = lsock.accept()
    lsock.close()

    async def main():
        tr, pr = await loop.connect_accepted_socket(lambda: Echo(loop), conn)
        assert tr.get_extra_info("peername") == client.getsockname()
        await loop.run_in_executor(None, client.sendall, b"accepted")
        data = await loop.run_in_executor(None, client.recv, 100)
        client.shutdown(socket.SHUT_WR)
        await pr.lost
        return data

    try:
        assert run(loop, main()) == b"accepted"
    finally:
        client.close()


def test_connect_accepted_socket_rejects_non_stream(loop):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with pytest.raises(ValueError):
            run(loop, loop.connect_accepted_socket(lambda: Echo(loop), udp))
    finally:
        udp.close()


def test_connection_made_exception_reaches_handler(loop, exc_calls):
    transports = []

    class Broken(asyncio.Protocol):
        def connection_made(self, transport):
            transports.append(transport)
            raise ZeroDivisionError("in connection_made")

    async def main():
        server, addr, _ = await tcp_echo_server(loop, factory=Broken)
        reader, writer = await asyncio.open_connection(*addr)
        while not exc_calls.calls:
            await asyncio.sleep(0.001)
        # asyncio leaves the transport open: the application closes it.
        transports[0].close()
        data = await reader.read()
        writer.close()
        await writer.wait_closed()
        await _close_server(server)
        return data

    assert run(loop, main()) == b""
    calls = exc_calls.consume()
    assert len(calls) == 1
    assert isinstance(calls[0]["exception"], ZeroDivisionError)


def test_data_received_exception_closes_transport(loop, exc_calls):
    class Broken(Recorder):
        def data_received(self, data):
            raise ValueError("in data_received")

    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Broken(loop))
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        tr.write(b"trigger")
        await pr.lost
        exc = await sprotos[0].lost
        await _close_server(server)
        return exc

    exc = run(loop, main())
    assert isinstance(exc, ValueError)
    calls = exc_calls.consume()
    assert len(calls) == 1
    assert isinstance(calls[0]["exception"], ValueError)
    assert "protocol" in calls[0] and "transport" in calls[0]
