"""aiohttp's server and client, unchanged, on both loops.

One ``web.Application`` served by ``web.AppRunner`` + ``web.TCPSite`` on
127.0.0.1 port 0 and talked to by ``aiohttp.ClientSession`` on the same
loop: a GET, a 20 MiB streamed upload echoed as a hash, a
``web.FileResponse`` (aiohttp's ``loop.sendfile`` path) with and without a
Range, a streaming chunked response, websocket echo.  Then evloop's entry
points: ``evloop.run(main())`` and ``asyncio.run()`` under
``evloop.EventLoopPolicy``.
"""
import asyncio
import contextlib
import hashlib
import random

import aiohttp
import pytest
from aiohttp import web

import evloop
from aio_harness import run

UPLOAD_SIZE = 20 * 1024 * 1024
UPLOAD_CHUNK = 64 * 1024
FILE_PATH = web.AppKey("file_path", object)


def _chunk(i):
    """Deterministic, non-repeating upload content."""
    return hashlib.sha256(str(i).encode()).digest() * (UPLOAD_CHUNK // 32)


async def hello(request):
    return web.Response(text="Hello, world")


async def upload_hash(request):
    h = hashlib.sha256()
    size = 0
    async for chunk in request.content.iter_chunked(256 * 1024):
        h.update(chunk)
        size += len(chunk)
    return web.json_response({"sha256": h.hexdigest(), "size": size})


async def serve_file(request):
    return web.FileResponse(request.app[FILE_PATH])


async def stream(request):
    resp = web.StreamResponse()
    resp.content_type = "text/plain"
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for i in range(50):
        await resp.write(f"line {i}\n".encode())
        if i % 10 == 0:
            await asyncio.sleep(0.001)
    await resp.write_eof()
    return resp


async def ws_echo(request):
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.TEXT:
            if msg.data == "close":
                await ws.close()
            else:
                await ws.send_str("echo: " + msg.data)
        elif msg.type == aiohttp.WSMsgType.BINARY:
            await ws.send_bytes(msg.data[::-1])
    return ws


async def loop_type(request):
    return web.Response(text=type(asyncio.get_running_loop()).__name__)


def make_app(file_path=None):
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[FILE_PATH] = file_path
    app.router.add_get("/", hello)
    app.router.add_post("/upload", upload_hash)
    app.router.add_get("/file", serve_file)
    app.router.add_get("/stream", stream)
    app.router.add_get("/ws", ws_echo)
    app.router.add_get("/loop", loop_type)
    return app


@contextlib.asynccontextmanager
async def serving(app):
    """Serve ``app`` on 127.0.0.1 port 0; yield its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def server_and_client(app):
    async with serving(app) as url:
        async with aiohttp.ClientSession() as session:
            yield url, session


def test_get_hello(loop):
    async def main():
        async with server_and_client(make_app()) as (url, session):
            async with session.get(url + "/") as resp:
                return resp.status, await resp.text(), resp.headers["Content-Type"]

    status, text, ctype = run(loop, main())
    assert status == 200
    assert text == "Hello, world"
    assert ctype.startswith("text/plain")


def test_many_requests_keepalive(loop):
    async def main():
        async with server_and_client(make_app()) as (url, session):
            async def one():
                async with session.get(url + "/") as resp:
                    return await resp.text()

            return await asyncio.gather(*(one() for _ in range(200)))

    assert run(loop, main()) == ["Hello, world"] * 200


def test_server_sees_the_loop(loop, loop_name):
    async def main():
        async with server_and_client(make_app()) as (url, session):
            async with session.get(url + "/loop") as resp:
                return await resp.text()

    expected = {"asyncio": "_UnixSelectorEventLoop", "evloop": "EventLoop"}[loop_name]
    assert run(loop, main()) == expected


def test_large_streamed_upload(loop):
    async def body():
        for i in range(UPLOAD_SIZE // UPLOAD_CHUNK):
            yield _chunk(i)

    expected = hashlib.sha256()
    for i in range(UPLOAD_SIZE // UPLOAD_CHUNK):
        expected.update(_chunk(i))

    async def main():
        async with server_and_client(make_app()) as (url, session):
            async with session.post(url + "/upload", data=body()) as resp:
                assert resp.status == 200
                return await resp.json()

    result = run(loop, main(), timeout=60)
    assert result == {"sha256": expected.hexdigest(), "size": UPLOAD_SIZE}


def test_file_response(loop, tmp_path):
    content = random.Random(20240607).randbytes(3 * 1024 * 1024 + 17)
    path = tmp_path / "payload.bin"
    path.write_bytes(content)

    async def main():
        async with server_and_client(make_app(path)) as (url, session):
            async with session.get(url + "/file") as resp:
                full = (resp.status, int(resp.headers["Content-Length"]), await resp.read())
            async with session.get(url + "/file", headers={"Range": "bytes=1000-2999"}) as resp:
                ranged = (resp.status, await resp.read())
            return full, ranged

    (status, length, data), (rstatus, rdata) = run(loop, main())
    assert status == 200
    assert length == len(content)
    assert data == content
    assert rstatus == 206
    assert rdata == content[1000:3000]


def test_streaming_response(loop):
    async def main():
        async with server_and_client(make_app()) as (url, session):
            async with session.get(url + "/stream") as resp:
                assert resp.status == 200
                assert resp.headers.get("Transfer-Encoding") == "chunked"
                chunks = [c async for c in resp.content.iter_any()]
                return b"".join(chunks)

    assert run(loop, main()) == b"".join(f"line {i}\n".encode() for i in range(50))


def test_websocket_echo(loop):
    async def main():
        async with server_and_client(make_app()) as (url, session):
            async with session.ws_connect(url + "/ws") as ws:
                replies = []
                for text in ("hello", "évloop ✓", "x" * 100_000):
                    await ws.send_str(text)
                    msg = await ws.receive()
                    assert msg.type == aiohttp.WSMsgType.TEXT
                    replies.append(msg.data)
                await ws.send_bytes(b"\x00\x01binary")
                msg = await ws.receive()
                assert msg.type == aiohttp.WSMsgType.BINARY
                replies.append(msg.data)
                await ws.send_str("close")
                msg = await ws.receive()
                assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                return replies

    replies = run(loop, main())
    assert replies == ["echo: hello", "echo: évloop ✓", "echo: " + "x" * 100_000,
                       b"yranib\x01\x00"]


def test_client_connection_refused(loop):
    import socket
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()

    async def main():
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientConnectorError):
                await session.get(f"http://127.0.0.1:{port}/")

    run(loop, main())


# -- evloop's entry points ------------------------------------------------------


async def _serve_and_fetch_once():
    assert type(asyncio.get_running_loop()) is evloop.EventLoop
    async with server_and_client(make_app()) as (url, session):
        async with session.get(url + "/loop") as resp:
            return await resp.text()


def test_evloop_run_serves_and_fetches():
    assert evloop.run(_serve_and_fetch_once()) == "EventLoop"


def test_asyncio_run_under_evloop_policy():
    old = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(evloop.EventLoopPolicy())
    try:
        assert asyncio.run(_serve_and_fetch_once()) == "EventLoop"
    finally:
        asyncio.set_event_loop_policy(old)
    assert not isinstance(asyncio.get_event_loop_policy(), evloop.EventLoopPolicy)
