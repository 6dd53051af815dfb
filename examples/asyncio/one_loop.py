"""One dispatch loop, both faces: a libevent timer, a libevent bufferevent
echo server and an aiohttp app, all served by one evloop EventLoop.

Run:  .venv/bin/python examples/asyncio/one_loop.py
It starts the three, talks to the echo server with asyncio streams and
fetches the web page with aiohttp's client, prints what happened and exits
0 (1 if anything went wrong).
"""
import asyncio
import os
import socket
import sys

from aiohttp import ClientSession, web

import evloop
from evloop import (BEV_EVENT_EOF, BEV_EVENT_ERROR, BEV_OPT_CLOSE_ON_FREE,
                    EV_PERSIST, EV_READ, EV_WRITE, Bufferevent, Event,
                    LEV_OPT_REUSEABLE, Listener)


async def main():
    loop = asyncio.get_running_loop()
    base = loop.event_base                     # the loop's libevent face
    print(f"loop: {type(loop).__name__} on {base.get_method()}")

    # 1. a libevent persistent timer
    ticks = []
    timer = Event(base, -1, EV_PERSIST, lambda fd, what, arg: ticks.append(what))
    timer.add(0.01)

    # 2. a libevent bufferevent echo server (listener + bufferevents)
    def echo_read(bev, arg):
        bev.write(bev.read(len(bev.get_input())))

    def echo_event(bev, what, arg):
        if what & (BEV_EVENT_EOF | BEV_EVENT_ERROR):
            bev.free()

    def accept(listener, fd, address, arg):
        bev = Bufferevent(base, fd, BEV_OPT_CLOSE_ON_FREE)
        bev.setcb(echo_read, None, echo_event, None)
        bev.enable(EV_READ | EV_WRITE)

    listener = Listener.bind(base, accept, None, LEV_OPT_REUSEABLE, -1, ("127.0.0.1", 0))
    with socket.socket(fileno=os.dup(listener.get_fd())) as s:
        echo_port = s.getsockname()[1]

    # 3. an aiohttp app
    async def hello(request):
        return web.Response(text=f"hello from evloop after {len(ticks)} libevent ticks")

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    http_port = runner.addresses[0][1]
    print(f"aiohttp on 127.0.0.1:{http_port}, bufferevent echo on 127.0.0.1:{echo_port}")

    ok = True
    try:
        await asyncio.sleep(0.05)              # let the timer tick
        reader, writer = await asyncio.open_connection("127.0.0.1", echo_port)
        writer.write(b"ping from asyncio streams\n")
        line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
        await writer.wait_closed()
        print(f"echo server answered: {line!r}")
        ok &= line == b"ping from asyncio streams\n"

        async with ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{http_port}/") as resp:
                body = await resp.text()
        print(f"aiohttp answered: {resp.status} {body!r}")
        ok &= resp.status == 200 and body.startswith("hello from evloop")
        print(f"libevent timer ticked {len(ticks)} times meanwhile")
        ok &= len(ticks) > 0
    finally:
        timer.delete()
        listener.free()
        await runner.cleanup()
    return ok


if __name__ == "__main__":
    sys.exit(0 if evloop.run(main()) else 1)
