"""The loop's low-level socket coroutines on both loops: sock_recv,
sock_recv_into, sock_sendall, sock_connect, sock_accept, sock_recvfrom,
sock_recvfrom_into, sock_sendto (UDP), sock_sendfile, and asyncio's
checks (non-blocking, SSL sockets, closed loop, transports), cancellation,
timeouts and concurrent operations on one socket.

evloop has sock_recvfrom/sock_recvfrom_into/sock_sendto on Python 3.10
too; the stdlib only from 3.11, so the asyncio run of those tests is
skipped there.  evloop-only behaviour (the lazy read watcher) is in
test_sock_lazy_watcher.py."""
import asyncio
import errno
import gc
import socket
import ssl
import sys

import pytest

from aio_harness import run

UDP_METHODS_IN_STDLIB = sys.version_info >= (3, 11)


def need_udp_methods(loop_name):
    if loop_name == "asyncio" and not UDP_METHODS_IN_STDLIB:
        pytest.skip("asyncio has sock_recvfrom/sock_recvfrom_into/sock_sendto from 3.11")


@pytest.fixture
def udp_pair():
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (a, b):
        s.setblocking(False)
        s.bind(("127.0.0.1", 0))
    yield a, b
    a.close()
    b.close()


@pytest.fixture
def listener():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setblocking(False)
    srv.bind(("127.0.0.1", 0))
    srv.listen(100)
    yield srv
    srv.close()


def test_sock_recv_and_sendall(loop, pair):
    a, b = pair

    async def main():
        await loop.sock_sendall(b, b"hello")
        return await loop.sock_recv(a, 100)

    assert run(loop, main()) == b"hello"


def test_sock_recv_waits_for_data(loop, pair):
    a, b = pair

    async def main():
        reader = loop.create_task(loop.sock_recv(a, 100))
        await asyncio.sleep(0.01)
        assert not reader.done()
        await loop.sock_sendall(b, b"late")
        return await reader

    assert run(loop, main()) == b"late"


def test_sock_recv_eof(loop, pair):
    a, b = pair

    async def main():
        b.shutdown(socket.SHUT_WR)
        return await loop.sock_recv(a, 100)

    assert run(loop, main()) == b""


def test_sock_recv_into(loop, pair):
    a, b = pair
    buf = bytearray(10)

    async def main():
        await loop.sock_sendall(b, b"abcdef")
        return await loop.sock_recv_into(a, buf)

    n = run(loop, main())
    assert n == 6
    assert buf[:n] == b"abcdef"


def test_sock_recv_cancelled_leaves_socket_usable(loop, pair):
    a, b = pair

    async def main():
        t = loop.create_task(loop.sock_recv(a, 100))
        await asyncio.sleep(0)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        await loop.sock_sendall(b, b"after cancel")
        return await loop.sock_recv(a, 100)

    assert run(loop, main()) == b"after cancel"


def test_sock_sendall_large_with_concurrent_reader(loop, pair):
    a, b = pair
    payload = bytes(range(256)) * (16 * 1024)   # 4 MiB, far beyond the socket buffer

    async def reader():
        chunks = []
        total = 0
        while total < len(payload):
            chunk = await loop.sock_recv(a, 256 * 1024)
            assert chunk
            chunks.append(chunk)
            total += len(chunk)
        return b"".join(chunks)

    async def main():
        r = loop.create_task(reader())
        await loop.sock_sendall(b, payload)
        return await r

    assert run(loop, main()) == payload


def test_sock_connect_and_accept(loop, listener):
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setblocking(False)

    async def main():
        accept = loop.create_task(loop.sock_accept(listener))
        await loop.sock_connect(client, listener.getsockname())
        conn, addr = await accept
        with conn:
            conn.setblocking(False)
            assert addr == client.getsockname()
            await loop.sock_sendall(client, b"over tcp")
            data = await loop.sock_recv(conn, 100)
            await loop.sock_sendall(conn, data.upper())
            return await loop.sock_recv(client, 100)

    try:
        assert run(loop, main()) == b"OVER TCP"
    finally:
        client.close()


def test_sock_connect_refused(loop):
    # A port that was just free: bind, note it, close, connect.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    addr = probe.getsockname()
    probe.close()
    client = socket.socket()
    client.setblocking(False)
    try:
        with pytest.raises(ConnectionRefusedError):
            run(loop, loop.sock_connect(client, addr))
    finally:
        client.close()


def test_sock_connect_resolves_hostname(loop, listener):
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setblocking(False)

    async def main():
        accept = loop.create_task(loop.sock_accept(listener))
        await loop.sock_connect(client, ("localhost", listener.getsockname()[1]))
        conn, _ = await accept
        conn.close()

    try:
        run(loop, main())
    finally:
        client.close()


def test_sock_sendto_and_recvfrom_udp(loop, loop_name):
    need_udp_methods(loop_name)
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (a, b):
        s.setblocking(False)
        s.bind(("127.0.0.1", 0))

    async def main():
        recv = loop.create_task(loop.sock_recvfrom(a, 1000))
        await asyncio.sleep(0)
        n = await loop.sock_sendto(b, b"datagram", a.getsockname())
        assert n == len(b"datagram")
        data, addr = await recv
        assert addr == b.getsockname()
        buf = bytearray(100)
        await loop.sock_sendto(a, b"reply", addr)
        nbytes, addr2 = await loop.sock_recvfrom_into(b, buf)
        return data, bytes(buf[:nbytes]), addr2

    try:
        data, reply, addr2 = run(loop, main())
        assert addr2 == a.getsockname()
    finally:
        a.close()
        b.close()
    assert data == b"datagram"
    assert reply == b"reply"


ALL_METHODS = ["sock_recv", "sock_recv_into", "sock_sendall", "sock_connect",
               "sock_accept", "sock_recvfrom", "sock_recvfrom_into", "sock_sendto"]


def method_args(method, s):
    return {
        "sock_recv": (s, 10),
        "sock_recv_into": (s, bytearray(10)),
        "sock_sendall": (s, b"x"),
        "sock_connect": (s, ("127.0.0.1", 1)),
        "sock_accept": (s,),
        "sock_recvfrom": (s, 10),
        "sock_recvfrom_into": (s, bytearray(10)),
        "sock_sendto": (s, b"x", ("127.0.0.1", 9)),
    }[method]


@pytest.mark.parametrize("method", ALL_METHODS)
def test_sock_methods_refuse_blocking_sockets(loop, loop_name, method):
    # asyncio checks this in debug mode (3.11: only in debug mode).
    if method in ("sock_recvfrom", "sock_recvfrom_into", "sock_sendto"):
        need_udp_methods(loop_name)
    loop.set_debug(True)
    s = socket.socket()
    assert s.getblocking()
    args = method_args(method, s)
    try:
        with pytest.raises(ValueError, match="the socket must be non-blocking"):
            run(loop, getattr(loop, method)(*args))
    finally:
        s.close()


def test_sock_sendfile(loop, listener, tmp_path):
    data = bytes(range(256)) * 8192    # 2 MiB
    path = tmp_path / "payload.bin"
    path.write_bytes(data)
    client = socket.socket()
    client.setblocking(False)

    async def main():
        accept = loop.create_task(loop.sock_accept(listener))
        await loop.sock_connect(client, listener.getsockname())
        conn, _ = await accept
        conn.setblocking(False)

        async def drain():
            chunks = []
            while True:
                chunk = await loop.sock_recv(conn, 256 * 1024)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)

        with conn:
            reader = loop.create_task(drain())
            with open(path, "rb") as f:
                sent = await loop.sock_sendfile(client, f)
                assert f.tell() == len(data)
            client.shutdown(socket.SHUT_WR)
            return sent, await reader

    try:
        sent, received = run(loop, main())
    finally:
        client.close()
    assert sent == len(data)
    assert received == data


def test_sock_sendfile_offset_and_count(loop, pair, tmp_path):
    a, b = pair
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789" * 10)

    async def main():
        with open(path, "rb") as f:
            sent = await loop.sock_sendfile(b, f, offset=5, count=20)
            pos = f.tell()
        b.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            chunk = await loop.sock_recv(a, 100)
            if not chunk:
                break
            got += chunk
        return sent, pos, got

    sent, pos, got = run(loop, main())
    assert sent == 20
    assert pos == 25
    assert got == (b"0123456789" * 10)[5:25]


# -- UDP ----------------------------------------------------------------------


def test_sock_recvfrom_into_nbytes(loop, loop_name, udp_pair):
    need_udp_methods(loop_name)
    a, b = udp_pair

    async def main():
        buf = bytearray(100)
        await loop.sock_sendto(b, b"0123456789", a.getsockname())
        # nbytes limits the datagram (the rest is discarded, as recvfrom does)
        n, addr = await loop.sock_recvfrom_into(a, buf, 4)
        assert (n, bytes(buf[:n]), addr) == (4, b"0123", b.getsockname())
        # nbytes=0 means len(buf)
        small = bytearray(3)
        await loop.sock_sendto(b, b"abcdef", a.getsockname())
        n, _ = await loop.sock_recvfrom_into(a, small)
        assert (n, bytes(small)) == (3, b"abc")
        return True

    assert run(loop, main())


def test_sock_recvfrom_waits_and_keeps_datagram_boundaries(loop, loop_name, udp_pair):
    need_udp_methods(loop_name)
    a, b = udp_pair

    async def main():
        pending = loop.create_task(loop.sock_recvfrom(a, 100))
        await asyncio.sleep(0.01)
        assert not pending.done()
        for i in range(5):
            assert await loop.sock_sendto(b, b"d%d" % i, a.getsockname()) == 2
        got = [(await pending)[0]]
        for _ in range(4):
            got.append((await loop.sock_recvfrom(a, 100))[0])
        return got

    assert run(loop, main()) == [b"d0", b"d1", b"d2", b"d3", b"d4"]


def test_sock_sendto_errors(loop, loop_name, udp_pair):
    need_udp_methods(loop_name)
    a, _ = udp_pair

    async def main():
        with pytest.raises(TypeError):
            await loop.sock_sendto(a, "not bytes", ("127.0.0.1", 9))
        with pytest.raises((TypeError, OSError)):
            await loop.sock_sendto(a, b"x", "not an address")
        return True

    assert run(loop, main())


# -- asyncio's checks -------------------------------------------------------------


@pytest.mark.parametrize("method", ALL_METHODS)
def test_sock_methods_refuse_ssl_sockets(loop, loop_name, method):
    if method in ("sock_recvfrom", "sock_recvfrom_into", "sock_sendto"):
        need_udp_methods(loop_name)
    ctx = ssl.create_default_context()
    s = ctx.wrap_socket(socket.socket(), server_hostname="example.org",
                        do_handshake_on_connect=False)
    try:
        with pytest.raises(TypeError, match="Socket cannot be of type SSLSocket"):
            run(loop, getattr(loop, method)(*method_args(method, s)))
    finally:
        s.close()


@pytest.mark.parametrize("method", ["sock_recv", "sock_recv_into", "sock_accept",
                                    "sock_sendall", "sock_recvfrom"])
def test_sock_methods_on_closed_loop(loop_factory, loop_name, method, listener):
    # Like asyncio: the first attempt is made, waiting raises RuntimeError.
    if method == "sock_recvfrom":
        need_udp_methods(loop_name)
    lp = loop_factory()
    lp.close()
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    try:
        if method == "sock_accept":
            args = (listener,)
        elif method == "sock_sendall":
            args = (a, b"x" * (8 << 20))     # more than the socket buffer
        else:
            args = method_args(method, a)
        coro = getattr(lp, method)(*args)
        with pytest.raises(RuntimeError, match="Event loop is closed"):
            coro.send(None)
        coro.close()
    finally:
        a.close()
        b.close()


def test_sock_recv_on_transport_fd(loop, listener):
    client = socket.socket()
    client.setblocking(False)

    async def main():
        accept = loop.create_task(loop.sock_accept(listener))
        await loop.sock_connect(client, listener.getsockname())
        conn, _ = await accept
        tr, _ = await loop.create_connection(asyncio.Protocol, sock=client)
        try:
            with pytest.raises(RuntimeError, match="is used by transport"):
                await loop.sock_recv(client, 10)
            with pytest.raises(RuntimeError, match="is used by transport"):
                await loop.sock_recv_into(client, bytearray(10))
        finally:
            tr.close()
            conn.close()
            await asyncio.sleep(0)

    run(loop, main())


def test_sock_bad_arguments(loop, pair):
    a, b = pair

    async def main():
        with pytest.raises(ValueError, match="negative buffersize"):
            await loop.sock_recv(a, -1)
        with pytest.raises(TypeError):
            await loop.sock_recv(a, "10")
        with pytest.raises(TypeError):
            await loop.sock_recv_into(a, b"read-only")
        with pytest.raises(TypeError):
            await loop.sock_recv_into(a, "text")
        with pytest.raises(TypeError):
            await loop.sock_sendall(b, "text")
        with pytest.raises(AttributeError):
            await loop.sock_recv(object(), 10)
        return True

    assert run(loop, main())


def test_sock_ops_on_closed_socket_raise_ebadf(loop):
    s, t = socket.socketpair()
    s.setblocking(False)
    s.close()
    t.close()

    async def main():
        for coro in (loop.sock_recv(s, 10), loop.sock_recv_into(s, bytearray(4)),
                     loop.sock_sendall(s, b"x")):
            with pytest.raises(OSError) as info:
                await coro
            assert info.value.errno == errno.EBADF
        return True

    assert run(loop, main())


def test_sock_recv_index_like_size(loop, pair):
    a, b = pair

    class Size:
        def __index__(self):
            return 3

    async def main():
        await loop.sock_sendall(b, b"abcdef")
        return await loop.sock_recv(a, Size())

    assert run(loop, main()) == b"abc"


def test_sock_recv_zero_and_large_sizes(loop, pair):
    a, b = pair
    payload = bytes(range(256)) * 1200     # 300 KiB

    async def main():
        # size 0 / an empty buffer: answered without waiting (as sock.recv)
        assert await loop.sock_recv(a, 0) == b""
        assert await loop.sock_recv_into(a, bytearray()) == 0
        r = loop.create_task(loop.sock_recv(a, 4 << 20))
        await asyncio.sleep(0)
        await loop.sock_sendall(b, payload[:1000])
        first = await r
        assert first == payload[:1000]
        writer = loop.create_task(loop.sock_sendall(b, payload[1000:]))
        got = bytearray(first)
        while len(got) < len(payload):
            got += await loop.sock_recv(a, 4 << 20)
        await writer
        return bytes(got)

    assert run(loop, main()) == payload


def test_sock_sendall_accepts_buffers(loop, pair):
    a, b = pair
    import array

    async def main():
        await loop.sock_sendall(b, bytearray(b"ab"))
        await loop.sock_sendall(b, memoryview(b"xcdx")[1:3])
        await loop.sock_sendall(b, b"")
        await loop.sock_sendall(b, array.array("B", b"ef"))
        got = b""
        while len(got) < 6:
            got += await loop.sock_recv(a, 100)
        return got

    assert run(loop, main()) == b"abcdef"


def test_sock_recv_into_memoryview_slice(loop, pair):
    a, b = pair
    buf = bytearray(b"..........")

    async def main():
        r = loop.create_task(loop.sock_recv_into(a, memoryview(buf)[2:6]))
        await asyncio.sleep(0.01)
        await loop.sock_sendall(b, b"ABCDEFGH")
        return await r

    assert run(loop, main()) == 4
    assert buf == bytearray(b"..ABCD....")


def test_sock_methods_use_overridden_socket_methods(loop, pair):
    # A socket subclass whose recv/send are overridden is used through them.
    calls = []

    class Traced(socket.socket):
        def recv(self, n, *args):
            calls.append("recv")
            return super().recv(n, *args)

        def send(self, data, *args):
            calls.append("send")
            return super().send(data, *args)

    a0, b = pair
    a = Traced(fileno=a0.detach())
    a.setblocking(False)

    async def main():
        r = loop.create_task(loop.sock_recv(a, 100))
        await asyncio.sleep(0.01)
        await loop.sock_sendall(b, b"ping")
        data = await r
        await loop.sock_sendall(a, b"pong")
        return data, await loop.sock_recv(b, 100)

    try:
        assert run(loop, main()) == (b"ping", b"pong")
    finally:
        a.close()
    assert "recv" in calls and "send" in calls


def test_sock_accept_returns_non_blocking_socket(loop, listener):
    client = socket.socket()
    client.setblocking(False)

    async def main():
        t = loop.create_task(loop.sock_accept(listener))
        await asyncio.sleep(0.01)
        assert not t.done()
        await loop.sock_connect(client, listener.getsockname())
        conn, addr = await t
        with conn:
            assert conn.gettimeout() == 0
            assert addr == client.getsockname()
            # several pending connections: accepted one after the other
            others = [socket.socket() for _ in range(3)]
            try:
                for o in others:
                    o.setblocking(False)
                    await loop.sock_connect(o, listener.getsockname())
                for _ in others:
                    c, _ = await loop.sock_accept(listener)
                    c.close()
            finally:
                for o in others:
                    o.close()
        return True

    try:
        assert run(loop, main())
    finally:
        client.close()


# -- cancellation, timeouts, concurrent operations -----------------------------


def fill_send_buffer(sock):
    """Send until the kernel buffers are full; how many bytes went."""
    total = 0
    chunk = b"\0" * 65536
    while True:
        try:
            total += sock.send(chunk)
        except BlockingIOError:
            return total


def test_sock_recv_timeout_leaves_data_for_next_call(loop, pair):
    a, b = pair

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(loop.sock_recv(a, 100), 0.02)
        await loop.sock_sendall(b, b"after timeout")
        await asyncio.sleep(0.01)
        return await loop.sock_recv(a, 100)

    assert run(loop, main()) == b"after timeout"


def test_sock_sendall_cancelled(loop, pair):
    a, b = pair

    async def main():
        sent = fill_send_buffer(b)
        t = loop.create_task(loop.sock_sendall(b, b"y" * 100000))
        await asyncio.sleep(0.01)
        assert not t.done()
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        # the writer went away with the cancelled operation
        assert loop.remove_writer(b) is False
        # drain what was queued before; nothing of the cancelled call follows
        got = 0
        while got < sent:
            got += len(await loop.sock_recv(a, 1 << 20))
        await asyncio.sleep(0.01)
        with pytest.raises(BlockingIOError):
            a.recv(1)
        await loop.sock_sendall(b, b"usable")
        return await loop.sock_recv(a, 100)

    assert run(loop, main()) == b"usable"


def test_sock_sendall_waits_for_reader(loop, pair):
    a, b = pair
    payload = b"z" * (4 << 20)

    async def main():
        writer = loop.create_task(loop.sock_sendall(b, payload))
        await asyncio.sleep(0.02)
        assert not writer.done()      # blocked on a full buffer
        got = 0
        while got < len(payload):
            got += len(await loop.sock_recv(a, 1 << 20))
        await writer
        return got

    assert run(loop, main()) == len(payload)


def test_concurrent_sock_recv_second_replaces_first(loop, pair):
    # asyncio's _add_reader replaces the reader of the fd: the second
    # operation gets the data, the first one is left waiting.
    a, b = pair

    async def main():
        first = loop.create_task(loop.sock_recv(a, 100))
        await asyncio.sleep(0.01)
        second = loop.create_task(loop.sock_recv(a, 100))
        await asyncio.sleep(0.01)
        await loop.sock_sendall(b, b"data")
        assert await second == b"data"
        await asyncio.sleep(0.01)
        assert not first.done()
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        await loop.sock_sendall(b, b"more")
        return await loop.sock_recv(a, 100)

    assert run(loop, main()) == b"more"


def test_add_reader_replaces_waiting_sock_recv(loop, pair):
    a, b = pair

    async def main():
        pending = loop.create_task(loop.sock_recv(a, 100))
        await asyncio.sleep(0.01)
        fired = loop.create_future()
        loop.add_reader(a, lambda: fired.done() or fired.set_result(a.recv(100)))
        await loop.sock_sendall(b, b"to the reader")
        data = await fired
        assert loop.remove_reader(a) is True
        assert not pending.done()
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
        return data

    assert run(loop, main()) == b"to the reader"


def test_remove_reader_of_waiting_sock_recv(loop, pair):
    a, b = pair

    async def main():
        pending = loop.create_task(loop.sock_recv(a, 100))
        await asyncio.sleep(0.01)
        assert loop.remove_reader(a) is True
        assert loop.remove_reader(a) is False
        await loop.sock_sendall(b, b"nobody reads")
        await asyncio.sleep(0.02)
        assert not pending.done()
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
        return await loop.sock_recv(a, 100)

    assert run(loop, main()) == b"nobody reads"


def test_sock_ping_pong_many_rounds(loop, pair):
    a, b = pair

    async def echo():
        while True:
            data = await loop.sock_recv(a, 102400)
            if not data:
                return
            await loop.sock_sendall(a, data)

    async def main():
        server = loop.create_task(echo())
        for i in range(300):
            msg = b"%d" % i * (1 + i % 7)
            await loop.sock_sendall(b, msg)
            got = b""
            while len(got) < len(msg):
                got += await loop.sock_recv(b, 102400)
            assert got == msg
        b.shutdown(socket.SHUT_WR)
        await server
        return True

    assert run(loop, main())


def test_sock_recv_is_a_coroutine_function(loop):
    import inspect
    for name in ("sock_recv", "sock_recv_into", "sock_sendall", "sock_accept"):
        assert asyncio.iscoroutinefunction(getattr(loop, name))
        assert inspect.iscoroutinefunction(getattr(loop, name))
    gc.collect()
