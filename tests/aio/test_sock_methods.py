"""The loop's low-level socket coroutines on both loops: sock_recv,
sock_recv_into, sock_sendall, sock_connect, sock_accept, sock_recvfrom,
sock_sendto (UDP), sock_sendfile, and the non-blocking check."""
import asyncio
import socket
import sys

import pytest

from aio_harness import run


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
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


@pytest.mark.skipif(sys.version_info < (3, 11), reason="sock_recvfrom/sock_sendto are new in 3.11")
def test_sock_sendto_and_recvfrom_udp(loop):
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


@pytest.mark.parametrize("method", ["sock_recv", "sock_recv_into", "sock_sendall",
                                    "sock_connect", "sock_accept"])
def test_sock_methods_refuse_blocking_sockets(loop, method):
    # asyncio checks this in debug mode (3.11: only in debug mode).
    loop.set_debug(True)
    s = socket.socket()
    assert s.getblocking()
    args = {
        "sock_recv": (s, 10),
        "sock_recv_into": (s, bytearray(10)),
        "sock_sendall": (s, b"x"),
        "sock_connect": (s, ("127.0.0.1", 1)),
        "sock_accept": (s,),
    }[method]
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
