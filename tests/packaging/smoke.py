"""Smoke program for an installed evloop: run by tests/packaging and by
``make dist`` with the interpreter of a fresh venv, from a directory
outside the source tree, so only the installed package can be imported.

It exercises both faces and an aiohttp round trip, and checks the shape
of the installed package (stubs and py.typed present, no Cython sources or
generated C).  Prints ``smoke ok <version> <path>`` on success; any failure
is an exception and a non-zero exit status.
"""
import asyncio
import os
import sys

import evloop
from evloop import compat


def check_installed_files():
    pkg = os.path.dirname(evloop.__file__)
    names = set(os.listdir(pkg))
    assert "py.typed" in names, names
    assert "_evloop.pyi" in names, names
    leaked = [n for n in names if n.endswith((".c", ".pyx", ".pxd", ".pxi"))]
    assert not leaked, f"the wheel ships build sources: {leaked}"
    assert any(n.startswith("_evloop.") and n.endswith(".so") for n in names), names
    return pkg


def libevent_face():
    base = evloop.EventBase()
    fired = []
    ev = evloop.Event(base, -1, evloop.EV_PERSIST, lambda fd, what, arg: fired.append(what))
    ev.add(0.001)
    base.loopexit(0.05)
    base.dispatch()
    ev.delete()
    base.free()
    assert fired and all(w == evloop.EV_TIMEOUT for w in fired), fired

    # The same through libevent's C names.
    b = compat.event_base_new()
    assert compat.event_base_get_method(b) in evloop.supported_methods()
    assert compat.event_base_dispatch(b) == 1  # no events: returns 1 at once
    compat.event_base_free(b)


async def asyncio_face():
    loop = asyncio.get_running_loop()
    assert isinstance(loop, evloop.EventLoop), type(loop)

    async def handle(reader, writer):
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping\n")
    assert await reader.readline() == b"ping\n"
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()


async def aiohttp_round_trip():
    from aiohttp import ClientSession, web

    async def hello(request):
        return web.Response(text="hello " + request.match_info["name"])

    app = web.Application()
    app.router.add_get("/{name}", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/evloop") as resp:
                assert resp.status == 200
                assert await resp.text() == "hello evloop"
    finally:
        await runner.cleanup()


async def main():
    await asyncio_face()
    await aiohttp_round_trip()


if __name__ == "__main__":
    pkg = check_installed_files()
    libevent_face()
    evloop.run(main())
    print("smoke ok", evloop.__version__, pkg, sys.version.split()[0])
