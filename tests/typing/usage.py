"""A user program of evloop's public API, written to pass ``mypy --strict``.

tests/test_sourcecode.py type-checks it together with the package (see
``[tool.mypy]`` in pyproject.toml) and runs it: every section prints one
line, and the program exits 0 only if all of them did what they say.  It
uses each face the way an application would:

* the asyncio face: evloop.run(), new_event_loop() and run_until_complete,
  asyncio.Runner(loop_factory=evloop.new_event_loop) (3.11+),
  EventLoopPolicy and install(); an EventLoop handed to code that takes any
  asyncio.AbstractEventLoop; call_soon/call_later/call_at, tasks, an
  executor, a TCP server and client with protocols and with streams, the
  sock_* coroutines, a reader, a signal handler, getaddrinfo, and a
  libevent Event and a BuffereventProtocol sharing the loop's EventBase;
* the libevent face: EventConfig, EventBase, Event (timers, persist),
  Evbuffer, a Bufferevent pair, a Listener with socket Bufferevents;
* evloop.compat: the same echo server with libevent's C names.

Run: python tests/typing/usage.py
"""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from typing import Any

import evloop
from evloop import (
    BEV_EVENT_CONNECTED, BEV_EVENT_EOF, BEV_OPT_CLOSE_ON_FREE, EV_PERSIST, EV_READ, EV_TIMEOUT,
    EV_WRITE, EVBUFFER_EOL_LF, LEV_OPT_CLOSE_ON_FREE, LEV_OPT_REUSEABLE,
)
from evloop.compat import (
    bufferevent_enable, bufferevent_free, bufferevent_get_input, bufferevent_get_output,
    bufferevent_setcb, bufferevent_socket_connect, bufferevent_socket_new, bufferevent_write,
    evbuffer_add, evbuffer_get_length, evbuffer_readln, evconnlistener_free,
    evconnlistener_get_fd, evconnlistener_new_bind, event_add, event_base_dispatch,
    event_base_free, event_base_get_method, event_base_loopexit, event_base_new, event_del,
    event_free, event_new, event_pending, evtimer_add, evtimer_new,
)

HOST = "127.0.0.1"
TIMEOUT = 10.0


def loop_kind(loop: asyncio.AbstractEventLoop) -> str:
    """Library code that takes any asyncio loop."""
    is_one = isinstance(loop, asyncio.AbstractEventLoop)
    return f"{type(loop).__name__} is an AbstractEventLoop: {is_one}"


# -- the asyncio face ---------------------------------------------------------

class Upper(asyncio.Protocol):
    """A server protocol: echoes each chunk upper-cased; ``lost`` is
    resolved when the connection ends."""

    def __init__(self, lost: asyncio.Future[None]) -> None:
        self.lost = lost

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data.upper())

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set_result(None)


class Collect(asyncio.Protocol):
    """A client protocol: resolves ``done`` with the first chunk."""

    def __init__(self, done: asyncio.Future[bytes]) -> None:
        self.done = done

    def data_received(self, data: bytes) -> None:
        if not self.done.done():
            self.done.set_result(data)


async def protocols(loop: asyncio.AbstractEventLoop) -> bytes:
    lost: asyncio.Future[None] = loop.create_future()
    server = await loop.create_server(lambda: Upper(lost), HOST, 0)
    port = server.sockets[0].getsockname()[1]
    done: asyncio.Future[bytes] = loop.create_future()
    transport, _ = await loop.create_connection(lambda: Collect(done), HOST, port)
    transport.write(b"protocols")
    try:
        return await asyncio.wait_for(done, TIMEOUT)
    finally:
        transport.close()
        await asyncio.wait_for(lost, TIMEOUT)
        server.close()
        await server.wait_closed()


async def streams() -> str:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        writer.write(line[::-1].strip() + b"\n")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle, HOST, 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(b"smaerts\n")
    answer = await asyncio.wait_for(reader.readline(), TIMEOUT)
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    return answer.decode().strip()


async def sock_calls(loop: evloop.EventLoop) -> bytes:
    listener = socket.create_server((HOST, 0))
    listener.setblocking(False)
    client = socket.socket()
    client.setblocking(False)
    with listener, client:
        addr = listener.getsockname()
        infos = await loop.getaddrinfo(addr[0], addr[1], type=socket.SOCK_STREAM)
        connect = loop.create_task(loop.sock_connect(client, infos[0][4]))
        conn, _ = await asyncio.wait_for(loop.sock_accept(listener), TIMEOUT)
        await connect
        with conn:
            await loop.sock_sendall(client, b"sock_")
            await loop.sock_sendall(client, bytearray(b"calls"))
            data = b""
            while len(data) < 10:
                chunk = await asyncio.wait_for(loop.sock_recv(conn, 100), TIMEOUT)
                if not chunk:
                    break
                data += chunk
            return data


async def scheduling(loop: evloop.EventLoop) -> list[str]:
    order: list[str] = []
    done: asyncio.Future[None] = loop.create_future()

    def note(what: str, n: int) -> None:
        order.append(f"{what}{n}")

    loop.call_soon(note, "soon", 1)
    loop.call_later(0.01, note, "later", 2)
    loop.call_at(loop.time() + 0.02, note, "at", 3)
    never: asyncio.TimerHandle = loop.call_later(3600, note, "never", 0)
    never.cancel()
    loop.call_later(0.03, done.set_result, None)
    await asyncio.wait_for(done, TIMEOUT)

    task: asyncio.Task[int] = loop.create_task(asyncio.sleep(0, 40), name="sleeper")
    squared = await loop.run_in_executor(None, pow, 2, 5)
    order.append(f"task{await task + 2}")
    order.append(f"executor{squared}")
    return order


async def fd_and_signal(loop: evloop.EventLoop) -> str:
    r, w = socket.socketpair()
    got: asyncio.Future[bytes] = loop.create_future()
    signalled: asyncio.Future[int] = loop.create_future()
    with r, w:
        def on_readable() -> None:
            if not got.done():
                got.set_result(r.recv(10))

        loop.add_reader(r, on_readable)
        loop.add_signal_handler(signal.SIGUSR1, signalled.set_result, int(signal.SIGUSR1))
        try:
            w.send(b"reader")
            os.kill(os.getpid(), signal.SIGUSR1)
            data = await asyncio.wait_for(got, TIMEOUT)
            sig = await asyncio.wait_for(signalled, TIMEOUT)
        finally:
            loop.remove_reader(r)
            loop.remove_signal_handler(signal.SIGUSR1)
    return f"{data.decode()} {signal.Signals(sig).name}"


async def shared_base(loop: evloop.EventLoop) -> str:
    """A libevent Event and a BuffereventProtocol on the loop's EventBase."""
    fired: asyncio.Future[int] = loop.create_future()

    def on_timer(fd: int, what: int, arg: Any) -> None:
        fired.set_result(what)

    ev = evloop.Event(loop.event_base, -1, 0, on_timer)
    ev.add(0.01)
    what = await asyncio.wait_for(fired, TIMEOUT)

    lost: asyncio.Future[None] = loop.create_future()
    server = await loop.create_server(lambda: Upper(lost), HOST, 0)
    port = server.sockets[0].getsockname()[1]
    reply: asyncio.Future[bytes] = loop.create_future()

    def readcb(bev: evloop.Bufferevent, arg: Any) -> None:
        if not reply.done():
            reply.set_result(bev.read(100))

    def on_connect(proto: evloop.BuffereventProtocol) -> None:
        proto.bufferevent.setcb(readcb, None, None)
        proto.bufferevent.enable(EV_READ)
        proto.bufferevent.write(b"bufferevent")

    _, proto = await loop.create_connection(
        lambda: evloop.BuffereventProtocol(loop.event_base, on_connect), HOST, port)
    try:
        data = await asyncio.wait_for(reply, TIMEOUT)
    finally:
        proto.close()
        await asyncio.wait_for(lost, TIMEOUT)
        server.close()
        await server.wait_closed()
    return f"timer {'EV_TIMEOUT' if what == EV_TIMEOUT else what}, {data.decode()}"


async def main() -> list[str]:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, evloop.EventLoop)
    return [
        (await protocols(loop)).decode(),
        await streams(),
        (await sock_calls(loop)).decode(),
        " ".join(await scheduling(loop)),
        await fd_and_signal(loop),
        await shared_base(loop),
    ]


def asyncio_face() -> None:
    for line in evloop.run(main()):
        print("asyncio:", line)

    loop = evloop.new_event_loop()
    try:
        print("asyncio:", loop_kind(loop))
        print("asyncio: run_until_complete", loop.run_until_complete(protocols(loop)).decode())
    finally:
        loop.close()

    if sys.version_info >= (3, 11):  # (asyncio.Runner is new in 3.11)
        with asyncio.Runner(loop_factory=evloop.new_event_loop) as runner:
            print("asyncio: Runner", runner.run(streams()), type(runner.get_loop()).__name__)

    policy = evloop.EventLoopPolicy()
    other = policy.new_event_loop()
    print("asyncio: EventLoopPolicy makes", type(other).__name__)
    other.close()
    evloop.install()
    try:
        print("asyncio: install(); asyncio.run", asyncio.run(streams()))
    finally:
        asyncio.set_event_loop_policy(None)


# -- the libevent face --------------------------------------------------------

def libevent_face() -> None:
    cfg = evloop.EventConfig()
    cfg.avoid_method("select")
    base = evloop.EventBase(cfg)
    ticks: list[int] = []

    def tick(fd: int, what: int, arg: list[int]) -> None:
        arg.append(what)
        if len(arg) == 3:
            timer.delete()
            maybe_done()

    timer = evloop.Event(base, -1, EV_PERSIST, tick, ticks)
    timer.add((0, 1000))
    buf = evloop.Evbuffer()
    buf.add(b"first line\nsecond")
    buf.add_printf(" line %d\n", 2)
    lines = [buf.readln(EVBUFFER_EOL_LF), buf.readln(EVBUFFER_EOL_LF), buf.readln(EVBUFFER_EOL_LF)]

    a, b = evloop.Bufferevent.pair(base)
    received: list[bytes] = []
    b.setcb(lambda bev, arg: received.append(bev.read(len(bev.get_input()))), None, None)
    b.enable(EV_READ)
    a.write(b"pair")

    listener = evloop.Listener.bind(base, None, None, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                    16, (HOST, 0))
    with socket.socket(fileno=listener.get_fd()) as lsock:
        port = lsock.getsockname()[1]
        lsock.detach()
    served: list[evloop.Bufferevent] = []

    def echo(bev: evloop.Bufferevent, arg: Any) -> None:
        bev.output.add_buffer(bev.input)

    def accept(lis: evloop.Listener, fd: int, address: Any, arg: Any) -> None:
        bev = evloop.Bufferevent(lis.get_base(), fd, BEV_OPT_CLOSE_ON_FREE)
        bev.setcb(echo, None, None)
        bev.enable(EV_READ | EV_WRITE)
        served.append(bev)

    answer = bytearray()

    def maybe_done() -> None:
        if len(ticks) == 3 and answer == b"listener":
            base.loopexit()

    def client_read(bev: evloop.Bufferevent, arg: Any) -> None:
        answer.extend(bev.read(100))
        maybe_done()

    def client_event(bev: evloop.Bufferevent, what: int, arg: Any) -> None:
        if what & BEV_EVENT_CONNECTED:
            bev.write(b"listener")

    listener.set_cb(accept, None)
    client = evloop.Bufferevent(base, -1, BEV_OPT_CLOSE_ON_FREE)
    client.setcb(client_read, None, client_event)
    client.enable(EV_READ)
    client.socket_connect((HOST, port))
    base.loopexit(TIMEOUT)
    base.dispatch()
    method = base.get_method()

    for bev in (*served, client, a, b):
        bev.free()
    listener.free()
    base.free()
    print(f"libevent: select avoided={method != 'select'} ticks={len(ticks)}"
          f" lines={lines} pair={b''.join(received).decode()} echo={answer.decode()}")


# -- evloop.compat ------------------------------------------------------------

def compat_face() -> int:
    base = event_base_new()
    if base is None:
        return -1
    echoed: list[bytes] = []
    conns: list[evloop.Bufferevent] = []

    def server_read(bev: evloop.Bufferevent, ctx: Any) -> None:
        inp, out = bufferevent_get_input(bev), bufferevent_get_output(bev)
        assert inp is not None and out is not None
        while (line := evbuffer_readln(inp, EVBUFFER_EOL_LF)) is not None:
            evbuffer_add(out, line[::-1] + b"\n")

    def do_accept(lis: evloop.Listener, fd: int, address: Any, arg: evloop.EventBase) -> None:
        bev = bufferevent_socket_new(arg, fd, BEV_OPT_CLOSE_ON_FREE)
        assert bev is not None
        bufferevent_setcb(bev, server_read, None, None, None)
        bufferevent_enable(bev, EV_READ | EV_WRITE)
        conns.append(bev)

    def client_read(bev: evloop.Bufferevent, ctx: Any) -> None:
        inp = bufferevent_get_input(bev)
        assert inp is not None
        line = evbuffer_readln(inp, EVBUFFER_EOL_LF)
        if line is not None:
            echoed.append(line)
            event_base_loopexit(base, None)

    def client_event(bev: evloop.Bufferevent, events: int, ctx: Any) -> None:
        if events & BEV_EVENT_CONNECTED:
            bufferevent_write(bev, b"tapmoc\n")
        elif events & BEV_EVENT_EOF:
            event_base_loopexit(base, None)

    def on_guard(fd: int, what: int, arg: Any) -> None:
        event_base_loopexit(base, None)    # (never: the echo comes first)

    listener = evconnlistener_new_bind(base, do_accept, base,
                                       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16, (HOST, 0))
    assert listener is not None
    with socket.socket(fileno=evconnlistener_get_fd(listener)) as lsock:
        port = lsock.getsockname()[1]
        lsock.detach()
    client = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)
    guard = evtimer_new(base, on_guard, None)
    idle = event_new(base, -1, EV_PERSIST, on_guard, None)
    assert client is not None and guard is not None and idle is not None
    bufferevent_setcb(client, client_read, None, client_event, None)
    bufferevent_enable(client, EV_READ | EV_WRITE)
    rc = bufferevent_socket_connect(client, (HOST, port))
    rc |= evtimer_add(guard, (int(TIMEOUT), 0))
    rc |= event_add(idle, (3600, 0))
    flags, deadline = event_pending(idle, EV_TIMEOUT, want_tv=True)
    pending = flags == EV_TIMEOUT and deadline is not None and event_pending(guard, EV_TIMEOUT) != 0
    rc |= event_del(idle)
    rc |= event_base_dispatch(base)
    left = [evbuffer_get_length(b) for b in (bufferevent_get_input(client),) if b is not None]

    for bev in (*conns, client):
        bufferevent_free(bev)
    evconnlistener_free(listener)
    for ev in (guard, idle):
        event_free(ev)
    method = event_base_get_method(base)
    event_base_free(base)
    print(f"compat: rc={rc} pending={pending} echo={b''.join(echoed).decode()} left={left}"
          f" method={method is not None}")
    return rc


if __name__ == "__main__":
    asyncio_face()
    libevent_face()
    sys.exit(1 if compat_face() else 0)
