"""asyncio.Server on both loops: sockets, is_serving, start_serving,
serve_forever, close/wait_closed, async context manager, and 3.13's
close_clients/abort_clients."""
import asyncio
import socket
import sys

import pytest

from aio_harness import known_difference, run
from aio_protocols import Echo, Recorder


async def _echo_once(loop, addr, payload=b"ping"):
    tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
    tr.write(payload)
    got = await pr.wait_for_bytes(len(payload))
    tr.close()
    await pr.lost
    return got


def test_server_sockets_and_is_serving(loop):
    async def main():
        server = await loop.create_server(lambda: Echo(loop), "127.0.0.1", 0)
        assert isinstance(server, asyncio.AbstractServer)
        assert server.get_loop() is loop
        assert server.is_serving()
        socks = server.sockets
        assert isinstance(socks, tuple)
        assert len(socks) == 1
        addr = socks[0].getsockname()
        assert addr[0] == "127.0.0.1" and addr[1] > 0
        assert socks[0].family == socket.AF_INET
        assert await _echo_once(loop, addr) == b"ping"
        server.close()
        assert not server.is_serving()
        await server.wait_closed()
        assert server.sockets == ()
        return addr

    addr = run(loop, main())
    # Closed for real: nobody listens there any more.
    with pytest.raises(ConnectionRefusedError):
        run(loop, loop.create_connection(asyncio.Protocol, *addr))


def test_server_close_keeps_existing_connections(loop):
    async def main():
        server = await loop.create_server(lambda: Echo(loop), "127.0.0.1", 0)
        addr = server.sockets[0].getsockname()
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        await asyncio.sleep(0.01)
        server.close()
        tr.write(b"still served")
        got = await pr.wait_for_bytes(12)
        tr.close()
        await pr.lost
        await server.wait_closed()
        return got

    assert run(loop, main()) == b"still served"


def test_start_serving_false(loop):
    async def main():
        server = await loop.create_server(lambda: Echo(loop), "127.0.0.1", 0,
                                          start_serving=False)
        assert not server.is_serving()
        addr = server.sockets[0].getsockname()
        await server.start_serving()
        assert server.is_serving()
        got = await _echo_once(loop, addr)
        server.close()
        await server.wait_closed()
        return got

    assert run(loop, main()) == b"ping"


def test_serve_forever_until_cancelled(loop):
    async def main():
        server = await loop.create_server(lambda: Echo(loop), "127.0.0.1", 0,
                                          start_serving=False)
        addr = server.sockets[0].getsockname()
        task = loop.create_task(server.serve_forever())
        await asyncio.sleep(0)
        assert server.is_serving()
        with pytest.raises(RuntimeError, match="already being awaited"):
            await server.serve_forever()
        got = await _echo_once(loop, addr)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not server.is_serving()
        await server.wait_closed()
        return got

    assert run(loop, main()) == b"ping"


def test_serve_forever_on_closed_server_raises(loop):
    async def main():
        server = await loop.create_server(lambda: Echo(loop), "127.0.0.1", 0)
        server.close()
        await server.wait_closed()
        with pytest.raises(RuntimeError, match="is closed"):
            await server.serve_forever()

    run(loop, main())


def test_server_async_context_manager(loop):
    async def main():
        server = await loop.create_server(lambda: Echo(loop), "127.0.0.1", 0)
        async with server:
            assert server.is_serving()
            got = await _echo_once(loop, server.sockets[0].getsockname())
        assert not server.is_serving()
        return got

    assert run(loop, main()) == b"ping"


def test_server_many_sequential_clients(loop):
    async def main():
        server = await loop.create_server(lambda: Echo(loop), "127.0.0.1", 0)
        addr = server.sockets[0].getsockname()
        results = [await _echo_once(loop, addr, f"client {i}".encode()) for i in range(50)]
        server.close()
        await server.wait_closed()
        return results

    assert run(loop, main()) == [f"client {i}".encode() for i in range(50)]


def test_server_reuse_options_and_backlog(loop):
    async def main():
        server = await loop.create_server(lambda: Echo(loop), "127.0.0.1", 0,
                                          reuse_address=True, reuse_port=True, backlog=5)
        sock = server.sockets[0]
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
        got = await _echo_once(loop, sock.getsockname())
        server.close()
        await server.wait_closed()
        return got

    assert run(loop, main()) == b"ping"


def test_create_server_address_in_use(loop):
    async def main():
        server = await loop.create_server(lambda: Echo(loop), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(OSError):
                await loop.create_server(lambda: Echo(loop), "127.0.0.1", port,
                                         reuse_address=False)
        finally:
            server.close()
            await server.wait_closed()

    run(loop, main())


def _close_clients_exists(request, loop_name):
    if sys.version_info < (3, 13):
        known_difference(request, loop_name,
                         "asyncio's Server has close_clients/abort_clients only from Python 3.13; "
                         "evloop's Server has them on 3.10-3.12 too", on="asyncio")


async def _require_close_clients(*servers):
    # Fail before any client connects when the methods are missing (the
    # xfail above), so that the failed run leaves no transport behind.
    if not all(hasattr(srv, "close_clients") and hasattr(srv, "abort_clients") for srv in servers):
        for srv in servers:
            srv.close()
            await srv.wait_closed()
        raise AssertionError("Server has no close_clients/abort_clients")


@pytest.mark.parametrize("method, lost_with", [
    ("close_clients", (type(None),)),
    ("abort_clients", (type(None), ConnectionError)),
])
def test_server_close_and_abort_clients(loop, loop_name, request, method, lost_with):
    _close_clients_exists(request, loop_name)

    async def main():
        server = await loop.create_server(lambda: Echo(loop), "127.0.0.1", 0)
        await _require_close_clients(server)
        addr = server.sockets[0].getsockname()
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        await asyncio.sleep(0.01)
        server.close()
        getattr(server, method)()
        exc = await pr.lost
        await server.wait_closed()
        return exc

    assert isinstance(run(loop, main()), lost_with)


def test_server_close_clients_covers_streams_and_tls(loop, loop_name, request, tls_contexts):
    # Every kind of client transport the server made is closed: a plain
    # start_server stream and a TLS connection (the stdlib's SSL transport).
    _close_clients_exists(request, loop_name)
    server_ctx, client_ctx = tls_contexts

    async def handle(reader, writer):
        try:
            await reader.read()
        finally:
            writer.close()

    async def main():
        plain = await asyncio.start_server(handle, "127.0.0.1", 0)
        tls = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
        await _require_close_clients(plain, tls)
        r1, w1 = await asyncio.open_connection(*plain.sockets[0].getsockname()[:2])
        r2, w2 = await asyncio.open_connection(*tls.sockets[0].getsockname()[:2], ssl=client_ctx,
                                               server_hostname="localhost")
        await asyncio.sleep(0.05)
        for srv in (plain, tls):
            srv.close()
            srv.close_clients()
        got = [await asyncio.wait_for(r.read(), 5) for r in (r1, r2)]
        for w in (w1, w2):
            w.close()
            try:
                await w.wait_closed()
            except (ConnectionError, OSError):
                pass
        for srv in (plain, tls):
            await asyncio.wait_for(srv.wait_closed(), 5)
        return got

    assert run(loop, main()) == [b"", b""]
