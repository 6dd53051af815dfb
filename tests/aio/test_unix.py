"""Unix-domain stream sockets on both loops: create_unix_server /
create_unix_connection in tmp_path, streams over them, the socket file's
cleanup, abstract-namespace names, sock= arguments."""
import asyncio
import os
import socket
import stat
import sys
import uuid

import pytest

from aio_harness import known_difference, run
from aio_protocols import Echo, Recorder


def test_unix_echo(loop, tmp_path):
    path = str(tmp_path / "echo.sock")

    async def main():
        server = await loop.create_unix_server(lambda: Echo(loop), path)
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        assert server.sockets[0].getsockname() == path
        tr, pr = await loop.create_unix_connection(lambda: Recorder(loop), path)
        assert tr.get_extra_info("peername") == path
        assert tr.get_extra_info("socket").family == socket.AF_UNIX
        tr.write(b"over unix")
        got = await pr.wait_for_bytes(9)
        tr.close()
        await pr.lost
        server.close()
        await server.wait_closed()
        return got

    assert run(loop, main()) == b"over unix"


def test_unix_streams(loop, tmp_path):
    path = str(tmp_path / "streams.sock")

    async def handle(reader, writer):
        data = await reader.read()
        writer.write(data[::-1])
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def main():
        server = await asyncio.start_unix_server(handle, path)
        async with server:
            reader, writer = await asyncio.open_unix_connection(path)
            writer.write(b"abcdef" * 10000)
            writer.write_eof()
            got = await reader.read()
            writer.close()
            await writer.wait_closed()
        return got

    assert run(loop, main()) == (b"abcdef" * 10000)[::-1]


def test_unix_server_path_can_be_reused_after_close(loop, tmp_path):
    path = str(tmp_path / "reuse.sock")

    async def main():
        for _ in range(2):
            server = await loop.create_unix_server(lambda: Echo(loop), path)
            tr, pr = await loop.create_unix_connection(lambda: Recorder(loop), path)
            tr.write(b"x")
            await pr.wait_for_bytes(1)
            tr.close()
            await pr.lost
            server.close()
            await server.wait_closed()

    run(loop, main())


def _cleanup_exists(request, loop_name):
    if sys.version_info < (3, 13):
        known_difference(request, loop_name,
                         "cleanup_socket= is new in Python 3.13's asyncio; evloop accepts it "
                         "on 3.10-3.12 too (off by default there, as those asyncios keep the "
                         "file: test_fidelity_lifecycle.py)", on="asyncio")


# Python 3.13's default; passed explicitly, so that it also applies on
# 3.10-3.12, where evloop's default follows that Python's asyncio.
CLEANUP = {"cleanup_socket": True}


def test_unix_server_close_removes_socket_file(loop, loop_name, request, tmp_path):
    _cleanup_exists(request, loop_name)
    path = str(tmp_path / "cleanup.sock")

    async def main():
        server = await loop.create_unix_server(lambda: Echo(loop), path, **CLEANUP)
        assert os.path.exists(path)
        server.close()
        await server.wait_closed()
        return os.path.exists(path)

    assert run(loop, main()) is False


def test_unix_server_refuses_to_replace_a_regular_file(loop, tmp_path):
    path = tmp_path / "regular"
    path.write_text("not a socket")

    async def main():
        with pytest.raises(OSError):
            await loop.create_unix_server(lambda: Echo(loop), str(path))

    run(loop, main())
    assert path.read_text() == "not a socket"


def test_unix_connection_to_missing_path(loop, tmp_path):
    with pytest.raises(FileNotFoundError):
        run(loop, loop.create_unix_connection(asyncio.Protocol, str(tmp_path / "nope.sock")))


def test_unix_abstract_namespace(loop):
    name = f"\0evloop-test-{os.getpid()}-{uuid.uuid4().hex}"

    async def main():
        server = await loop.create_unix_server(lambda: Echo(loop), name)
        tr, pr = await loop.create_unix_connection(lambda: Recorder(loop), name)
        tr.write(b"abstract")
        got = await pr.wait_for_bytes(8)
        tr.close()
        await pr.lost
        server.close()
        await server.wait_closed()
        return got

    assert run(loop, main()) == b"abstract"


def test_unix_with_sock_arguments(loop, tmp_path):
    path = str(tmp_path / "sock-arg.sock")
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    lsock.setblocking(False)

    async def main():
        server = await loop.create_unix_server(lambda: Echo(loop), sock=lsock)
        csock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        csock.setblocking(False)
        await loop.sock_connect(csock, path)
        tr, pr = await loop.create_unix_connection(lambda: Recorder(loop), sock=csock)
        tr.write(b"sock=")
        got = await pr.wait_for_bytes(5)
        tr.close()
        await pr.lost
        server.close()
        await server.wait_closed()
        return got

    assert run(loop, main()) == b"sock="


def test_unix_half_close(loop, tmp_path):
    path = str(tmp_path / "half.sock")

    class Answer(Recorder):
        def eof_received(self):
            super().eof_received()
            self.transport.write(b"got " + bytes(self.data))
            self.transport.close()
            return True

    async def main():
        server = await loop.create_unix_server(lambda: Answer(loop), path)
        tr, pr = await loop.create_unix_connection(lambda: Recorder(loop), path)
        assert tr.can_write_eof()
        tr.write(b"it")
        tr.write_eof()
        await pr.eof
        await pr.lost
        server.close()
        await server.wait_closed()
        return bytes(pr.data)

    assert run(loop, main()) == b"got it"


def test_unix_server_cleanup_socket_false_keeps_the_file(loop, loop_name, request, tmp_path):
    if sys.version_info < (3, 13):
        known_difference(request, loop_name,
                         "cleanup_socket= is new in Python 3.13's asyncio; evloop accepts it on "
                         "3.10-3.12 too", on="asyncio")
    path = str(tmp_path / "kept.sock")

    async def main():
        server = await loop.create_unix_server(lambda: Echo(loop), path, cleanup_socket=False)
        server.close()
        await server.wait_closed()
        return os.path.exists(path)

    assert run(loop, main()) is True


def test_unix_server_cleanup_leaves_a_replaced_file_alone(loop, loop_name, request, tmp_path):
    # The file is removed only if it is still the one the server bound.
    _cleanup_exists(request, loop_name)
    path = str(tmp_path / "replaced.sock")

    async def main():
        server = await loop.create_unix_server(lambda: Echo(loop), path, **CLEANUP)
        os.unlink(path)
        with open(path, "w") as f:
            f.write("someone else's")
        server.close()
        await server.wait_closed()
        removed_after_replace = not os.path.exists(path)
        os.unlink(path)
        server2 = await loop.create_unix_server(lambda: Echo(loop), path, **CLEANUP)
        server2.close()
        await server2.wait_closed()
        return removed_after_replace, os.path.exists(path)

    assert run(loop, main()) == (False, False)
