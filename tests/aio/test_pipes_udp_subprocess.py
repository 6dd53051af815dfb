"""The other transports the stdlib runs on the loop's readers/writers, on
both loops: UDP endpoints, pipes (connect_read_pipe / connect_write_pipe)
and subprocesses."""
import asyncio
import os
import socket
import sys

from aio_harness import run


class DatagramRecorder(asyncio.DatagramProtocol):
    def __init__(self, loop):
        self.loop = loop
        self.received = asyncio.Queue()
        self.lost = loop.create_future()
        self.errors = []

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.received.put_nowait((data, addr))

    def error_received(self, exc):
        self.errors.append(exc)

    def connection_lost(self, exc):
        self.lost.set_result(exc)


def test_udp_endpoints(loop):
    async def main():
        server_tr, server = await loop.create_datagram_endpoint(
            lambda: DatagramRecorder(loop), local_addr=("127.0.0.1", 0))
        addr = server_tr.get_extra_info("sockname")
        client_tr, client = await loop.create_datagram_endpoint(
            lambda: DatagramRecorder(loop), remote_addr=addr)
        try:
            for i in range(20):
                client_tr.sendto(f"dgram {i}".encode())
            got = [await server.received.get() for _ in range(20)]
            data, peer = got[0]
            server_tr.sendto(b"reply", peer)
            reply = await client.received.get()
            return ([d for d, _ in got], peer, client_tr.get_extra_info("sockname"),
                    reply, addr)
        finally:
            client_tr.close()
            server_tr.close()
            await client.lost
            await server.lost

    datagrams, peer, client_name, reply, server_addr = run(loop, main())
    assert datagrams == [f"dgram {i}".encode() for i in range(20)]
    assert peer == client_name
    assert reply == (b"reply", server_addr)


def test_udp_large_datagrams_and_buffer(loop):
    async def main():
        rtr, r = await loop.create_datagram_endpoint(
            lambda: DatagramRecorder(loop), local_addr=("127.0.0.1", 0))
        stx, s = await loop.create_datagram_endpoint(
            lambda: DatagramRecorder(loop), family=socket.AF_INET)
        try:
            dest = rtr.get_extra_info("sockname")
            payload = os.urandom(60000)
            stx.sendto(payload, dest)
            data, _ = await r.received.get()
            return data == payload, stx.get_write_buffer_size()
        finally:
            stx.close()
            rtr.close()
            await s.lost
            await r.lost

    same, bufsize = run(loop, main())
    assert same
    assert bufsize == 0


def test_read_and_write_pipes(loop):
    rfd, wfd = os.pipe()

    async def main():
        reader = asyncio.StreamReader()
        rtr, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(rfd, "rb", 0))
        wtr, wproto = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(wfd, "wb", 0))
        payload = b"through a pipe\n" * 20000
        wtr.write(payload)
        wtr.write_eof()   # closes the write end once flushed
        data = await reader.read()
        rtr.close()
        return data == payload

    assert run(loop, main())


def test_subprocess_exec_communicate(loop):
    async def main():
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c",
            "import sys; data = sys.stdin.buffer.read(); "
            "sys.stdout.buffer.write(data.upper()); sys.stderr.write('err'); sys.exit(3)",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate(b"hello subprocess")
        return proc.returncode, out, err

    rc, out, err = run(loop, main(), timeout=30)
    assert rc == 3
    assert out == b"HELLO SUBPROCESS"
    assert err == b"err"


def test_subprocess_shell_and_wait(loop):
    async def main():
        proc = await asyncio.create_subprocess_shell(
            "echo shell-ok", stdout=asyncio.subprocess.PIPE)
        line = await proc.stdout.readline()
        rc = await proc.wait()
        return rc, line

    assert run(loop, main(), timeout=30) == (0, b"shell-ok\n")


def test_subprocess_terminate(loop):
    async def main():
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import time; time.sleep(60)")
        proc.terminate()
        return await proc.wait()

    assert run(loop, main(), timeout=30) == -15
