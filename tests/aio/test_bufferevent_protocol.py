"""evloop.BuffereventProtocol: libevent-style bufferevent code over an
asyncio transport (evloop only: it needs the loop's EventBase)."""
import asyncio
import os
import subprocess
import sys

import pytest

import evloop
from evloop import (BEV_EVENT_EOF, BEV_EVENT_READING, EV_READ, EV_WRITE,
                    BuffereventProtocol)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def eloop():
    loop = evloop.new_event_loop()
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def run(loop, coro):
    return loop.run_until_complete(asyncio.wait_for(coro, 10))


def test_echo_server_written_with_bufferevent_callbacks(eloop):
    events = []

    def on_connect(proto):
        bev = proto.bufferevent

        def readcb(bev, arg):
            bev.write(bev.read(len(bev.get_input())).upper())

        def eventcb(bev, what, arg):
            events.append(what)
            if what & BEV_EVENT_EOF:
                proto.close()

        bev.setcb(readcb, None, eventcb, None)
        bev.enable(EV_READ | EV_WRITE)

    async def main():
        server = await eloop.create_server(
            lambda: BuffereventProtocol(eloop.event_base, on_connect), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"hello bufferevent\n")
        line = await reader.readline()
        writer.write_eof()
        rest = await reader.read()
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return line, rest

    line, rest = run(eloop, main())
    assert line == b"HELLO BUFFEREVENT\n"
    assert rest == b""                       # the server closed after EOF
    assert events == [BEV_EVENT_EOF | BEV_EVENT_READING]


def test_writes_queue_while_the_transport_pauses_writing(eloop):
    sent = 4 * 1024 * 1024

    async def main():
        got = bytearray()
        done = eloop.create_future()

        class Sink(asyncio.Protocol):
            def data_received(self, data):
                got.extend(data)
                if len(got) >= sent and not done.done():
                    done.set_result(None)

        server = await eloop.create_server(Sink, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        tr, proto = await eloop.create_connection(
            lambda: BuffereventProtocol(eloop.event_base), "127.0.0.1", port)
        tr.set_write_buffer_limits(high=64 * 1024)
        bev = proto.bufferevent
        bev.enable(EV_WRITE)
        bev.write(b"x" * sent)               # far above the high water mark
        await done
        proto.close()
        server.close()
        await server.wait_closed()
        return bytes(got)

    data = run(eloop, main())
    assert data == b"x" * sent


def test_one_loop_example_serves_all_three():
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "asyncio", "one_loop.py")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "echo server answered: b'ping from asyncio streams\\n'" in proc.stdout
    assert "aiohttp answered: 200 'hello from evloop" in proc.stdout
