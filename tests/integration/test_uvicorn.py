"""uvicorn, unchanged, on evloop (and on asyncio, for comparison).

The application is ``uvicorn_app.App``, a plain ASGI callable that records
the class of the loop it runs on; every test asserts which loop served it.
Real requests over 127.0.0.1:

* in-process, on both loops of the harness: ``uvicorn.Server(config)
  .serve()`` as a task of the test's loop, port 0, talked to by aiohttp's
  client and by raw streams on the same loop.  With ``http="h11"`` and
  ``http="httptools"``: GET, a chunked response, a streamed request body
  echoed as a streamed response, a large upload (read flow control),
  ``Expect: 100-continue``, keep-alive (several requests, sequential and
  pipelined, on one connection), a slow reader (write flow control), a
  client disconnect seen by the app, TLS, graceful shutdown
  (``should_exit``: the idle connection is closed, the in-flight request
  finished, the listener gone, the lifespan shutdown run, nothing leaks).
  Websocket echo with ``websockets-sansio``, ``websockets`` (legacy) and
  ``wsproto``; the keep-alive timeout; a Unix socket (``uds=``); a
  pre-bound socket (``serve(sockets=[...])``, the gunicorn-worker path);
* uvicorn choosing the loop itself, in this process: ``Config(loop=
  "evloop:new_event_loop")`` + ``Server.run()`` (uvicorn 0.36+ takes an
  import string of a loop factory), ``evloop.run(server.serve())``, and
  evloop's policy with ``loop="none"``;
* ``python -m uvicorn uvicorn_app:app --loop evloop:new_event_loop --fd N``
  as a real subprocess (and ``--loop asyncio`` beside it): one request,
  then SIGINT or SIGTERM; and with ``--workers 2`` (uvicorn's
  multiprocess supervisor, each worker on evloop).
"""
import asyncio
import contextlib
import hashlib
import http.client
import io
import json
import os
import pathlib
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

import aiohttp
import pytest
import trustme
import uvicorn

import evloop
import uvicorn_app
from aio_harness import run
from uvicorn_app import App

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent

EVLOOP = f"{evloop.EventLoop.__module__}.{evloop.EventLoop.__qualname__}"
ASYNCIO = f"{asyncio.SelectorEventLoop.__module__}.{asyncio.SelectorEventLoop.__qualname__}"
LOOP_CLASS = {"asyncio": ASYNCIO, "evloop": EVLOOP}

HTTP_IMPLS = ["h11", "httptools"]
TIMEOUT = 30  # seconds; generous, for a loaded 2-core machine


def make_config(app, **kwargs):
    """A uvicorn Config for the tests: 127.0.0.1 port 0, lifespan on,
    uvicorn's logging config left alone (``log_config=None``)."""
    kwargs.setdefault("host", "127.0.0.1")
    kwargs.setdefault("port", 0)
    return uvicorn.Config(app, lifespan="on", log_config=None, log_level="warning",
                          access_log=False, **kwargs)


@contextlib.asynccontextmanager
async def serving(app, **kwargs):
    """Run ``uvicorn.Server.serve()`` as a task of the running loop; yield
    ``(server, base_url, (host, port))`` once it listens (``(server, None,
    path)`` with ``uds=path``); at exit set ``should_exit`` and wait for
    ``serve()`` to return."""
    server = uvicorn.Server(make_config(app, **kwargs))
    task = asyncio.ensure_future(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise AssertionError("uvicorn returned before it started")
            await asyncio.sleep(0.01)
        addr = server.servers[0].sockets[0].getsockname()
        if isinstance(addr, tuple):
            addr = addr[:2]
            scheme = "https" if kwargs.get("ssl_certfile") else "http"
            yield server, f"{scheme}://{addr[0]}:{addr[1]}", addr
        else:  # a Unix socket's path
            yield server, None, addr
    finally:
        server.should_exit = True
        await task
    assert not server.server_state.connections


async def read_response(reader):
    """One HTTP/1.1 response with a Content-Length: (status, headers, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers["content-length"]))
    return status, headers, body


def _chunk(i, size=64 * 1024):
    """Deterministic, non-repeating body content."""
    return hashlib.sha256(str(i).encode()).digest() * (size // 32)


def check_lifespan(app, expected):
    assert app.events == [("startup", expected), ("shutdown", expected)]
    assert app.loops == {expected}


# -- HTTP, both implementations, both loops -------------------------------------


@pytest.mark.parametrize("http", HTTP_IMPLS)
def test_get_and_streamed_response(loop, loop_name, http):
    """GET with a Content-Length, then a chunked response sent in 50
    parts; lifespan startup ran before serving and shutdown only after."""
    app = App()
    expected = LOOP_CLASS[loop_name]

    async def main():
        async with serving(app, http=http) as (server, url, _):
            assert app.events == [("startup", expected)]
            async with aiohttp.ClientSession() as session:
                async with session.get(url + "/loop") as resp:
                    got = resp.status, resp.headers["Content-Type"], await resp.json()
                async with session.get(url + "/stream") as resp:
                    assert resp.status == 200
                    assert resp.headers.get("Transfer-Encoding") == "chunked"
                    stream = b"".join([c async for c in resp.content.iter_any()])
            assert app.events == [("startup", expected)]
            return got, stream

    (status, ctype, body), stream = run(loop, main(), TIMEOUT)
    assert status == 200
    assert ctype == "application/json"
    assert body["loop"] == expected
    assert body["scheme"] == "http"
    assert stream == b"".join(f"line {i}\n".encode() for i in range(50))
    check_lifespan(app, expected)


@pytest.mark.parametrize("http", HTTP_IMPLS)
def test_post_streamed_bodies(loop, loop_name, http):
    """* a chunked request body of 4 MiB, echoed part by part as a
      chunked response while it is still being uploaded;
    * 8 MiB with a Content-Length, read by the app message by message
      (uvicorn pauses reading past 64 KiB: ``pause_reading``), answered
      in several body parts;
    * ``Expect: 100-continue``: uvicorn sends ``100 Continue`` when the
      app first calls ``receive()``, and only then does the client send."""
    app = App()
    upload = b"".join(_chunk(i) for i in range(128))

    async def echo_body():
        for i in range(64):
            yield _chunk(i)

    async def main():
        async with serving(app, http=http) as (server, url, addr):
            async with aiohttp.ClientSession() as session:
                async with session.post(url + "/echo", data=echo_body()) as resp:
                    assert resp.status == 200
                    assert resp.headers.get("Transfer-Encoding") == "chunked"
                    h = hashlib.sha256()
                    size = 0
                    async for data in resp.content.iter_any():
                        h.update(data)
                        size += len(data)
                    echoed = size, h.hexdigest()
                async with session.post(url + "/upload", data=io.BytesIO(upload)) as resp:
                    assert resp.status == 200
                    uploaded = await resp.text()

            reader, writer = await asyncio.open_connection(*addr)
            try:
                writer.write(b"POST /upload HTTP/1.1\r\nHost: test\r\n"
                             b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\n")
                interim = await reader.readuntil(b"\r\n\r\n")
                writer.write(b"hello")
                head = await reader.readuntil(b"\r\n\r\n")
                # the answer is chunked: read to the final zero-size chunk
                tail = await reader.readuntil(b"\r\n0\r\n\r\n")
            finally:
                writer.close()
                await writer.wait_closed()
            return echoed, uploaded, (interim, head, tail)

    echoed, uploaded, (interim, head, tail) = run(loop, main(), TIMEOUT)
    expected = hashlib.sha256(b"".join(_chunk(i) for i in range(64)))
    assert echoed == (64 * 64 * 1024, expected.hexdigest())
    assert uploaded == (f"size={len(upload)}\n"
                        f"sha256={hashlib.sha256(upload).hexdigest()}\n"
                        f"loop={LOOP_CLASS[loop_name]}\n")
    assert interim.startswith(b"HTTP/1.1 100 ")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert f"sha256={hashlib.sha256(b'hello').hexdigest()}".encode() in tail
    check_lifespan(app, LOOP_CLASS[loop_name])


@pytest.mark.parametrize("http", HTTP_IMPLS)
def test_keepalive_one_connection(loop, loop_name, http):
    """Five requests one after the other, then three pipelined in one
    write, all on one TCP connection: uvicorn sees one client address."""
    app = App()

    async def main():
        async with serving(app, http=http) as (server, url, addr):
            reader, writer = await asyncio.open_connection(*addr)
            try:
                local = writer.get_extra_info("sockname")[:2]
                request = b"GET /loop HTTP/1.1\r\nHost: test\r\n\r\n"
                answers = []
                for _ in range(5):
                    writer.write(request)
                    answers.append(await read_response(reader))
                writer.write(request * 3)
                for _ in range(3):
                    answers.append(await read_response(reader))
                # and the server keeps it open: one more after a pause
                await asyncio.sleep(0.05)
                writer.write(request)
                answers.append(await read_response(reader))
            finally:
                writer.close()
                await writer.wait_closed()
            return local, answers

    local, answers = run(loop, main(), TIMEOUT)
    assert len(answers) == 9
    for status, headers, body in answers:
        assert status == 200
        assert headers.get("connection", "keep-alive").lower() != "close"
        data = json.loads(body)
        assert data["loop"] == LOOP_CLASS[loop_name]
        assert tuple(data["client"]) == tuple(local)
    check_lifespan(app, LOOP_CLASS[loop_name])


def test_keepalive_timeout_closes_idle_connection(loop, loop_name):
    """``timeout_keep_alive``: uvicorn's ``call_later`` timer closes a
    connection left idle after a response.  (0.2 s to keep the test short:
    the CLI takes whole seconds, the Config any number.)"""
    app = App()

    async def main():
        async with serving(app, timeout_keep_alive=0.2) as (server, url, addr):
            reader, writer = await asyncio.open_connection(*addr)
            try:
                writer.write(b"GET /loop HTTP/1.1\r\nHost: test\r\n\r\n")
                status, headers, body = await read_response(reader)
                assert status == 200
                assert json.loads(body)["loop"] == LOOP_CLASS[loop_name]
                assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
            finally:
                writer.close()
                await writer.wait_closed()
            assert not server.server_state.connections

    run(loop, main(), TIMEOUT)
    check_lifespan(app, LOOP_CLASS[loop_name])

@pytest.mark.parametrize("http", HTTP_IMPLS)
def test_slow_reader_write_flow_control(loop, loop_name, http):
    """A 32 MiB response to a client that does not read at first: the
    transport's buffer passes its high-water mark, evloop calls
    ``pause_writing`` and uvicorn's ``send`` waits; once the client reads,
    ``resume_writing`` lets it finish, every byte in order."""
    mib = 32
    part = 64 * 1024
    app = App()
    expected = hashlib.sha256()
    for i in range(mib * 1024 * 1024 // part):
        expected.update(uvicorn_app.big_part(i, part))

    async def main():
        async with serving(app, http=http) as (server, url, addr):
            reader, writer = await asyncio.open_connection(*addr)
            try:
                writer.write(f"GET /big?mib={mib} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
                # Not reading: the server's protocol must get paused.
                for _ in range(TIMEOUT * 100):
                    protocols = list(server.server_state.connections)
                    if protocols and protocols[0].flow.write_paused:
                        break
                    await asyncio.sleep(0.01)
                else:
                    raise AssertionError("uvicorn's protocol was never paused")
                assert not app.big_done.is_set()
                protocol = protocols[0]
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200 ")
                assert f"content-length: {mib * 1024 * 1024}".encode() in head.lower()
                h = hashlib.sha256()
                left = mib * 1024 * 1024
                while left:
                    data = await reader.read(min(left, 1024 * 1024))
                    assert data, "EOF before the end of the body"
                    h.update(data)
                    left -= len(data)
                await asyncio.wait_for(app.big_done.wait(), TIMEOUT)
                assert not protocol.flow.write_paused
            finally:
                writer.close()
                await writer.wait_closed()
            return h.hexdigest()

    assert run(loop, main(), TIMEOUT) == expected.hexdigest()
    check_lifespan(app, LOOP_CLASS[loop_name])


@pytest.mark.parametrize("http", HTTP_IMPLS)
def test_client_disconnect_reaches_the_app(loop, loop_name, http):
    """The client closes while the app waits in ``receive()``: the app
    gets ``http.disconnect`` (connection_lost reached uvicorn)."""
    app = App()

    async def main():
        async with serving(app, http=http) as (server, url, addr):
            reader, writer = await asyncio.open_connection(*addr)
            writer.write(b"GET /wait-disconnect HTTP/1.1\r\nHost: test\r\n\r\n")
            await asyncio.wait_for(app.wait_entered.wait(), TIMEOUT)
            assert not app.disconnected.is_set()
            writer.close()
            await writer.wait_closed()
            await asyncio.wait_for(app.disconnected.wait(), TIMEOUT)
            for _ in range(TIMEOUT * 100):
                if not server.server_state.connections:
                    break
                await asyncio.sleep(0.01)
            assert not server.server_state.connections

    run(loop, main(), TIMEOUT)
    check_lifespan(app, LOOP_CLASS[loop_name])


def test_unix_socket(loop, loop_name, tmp_path):
    """``uds=path`` (``uvicorn --uds``): ``loop.create_unix_server``."""
    app = App()
    path = str(tmp_path / "uvicorn.sock")

    async def main():
        async with serving(app, uds=path) as (server, url, addr):
            assert addr == path
            reader, writer = await asyncio.open_unix_connection(path)
            try:
                answers = []
                for _ in range(3):
                    writer.write(b"GET /loop HTTP/1.1\r\nHost: test\r\n\r\n")
                    answers.append(await read_response(reader))
            finally:
                writer.close()
                await writer.wait_closed()
            return answers

    answers = run(loop, main(), TIMEOUT)
    assert [(status, json.loads(body)) for status, _, body in answers] == [
        (200, {"loop": LOOP_CLASS[loop_name], "scheme": "http", "client": None})] * 3
    check_lifespan(app, LOOP_CLASS[loop_name])


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A throwaway CA (trustme) and a certificate for 127.0.0.1 it signed:
    (certfile, keyfile, client SSLContext trusting the CA)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    d = tmp_path_factory.mktemp("tls")
    certfile, keyfile = d / "cert.pem", d / "key.pem"
    cert.cert_chain_pems[0].write_to_path(certfile)
    cert.private_key_pem.write_to_path(keyfile)
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(ctx)
    return str(certfile), str(keyfile), ctx


@pytest.mark.parametrize("http", HTTP_IMPLS)
def test_tls(loop, loop_name, http, tls_files):
    """``ssl_certfile``/``ssl_keyfile`` (``uvicorn --ssl-certfile``):
    https GET, a streamed upload echoed back, and a websocket over TLS."""
    certfile, keyfile, client_ctx = tls_files
    app = App()
    n = 16

    async def body():
        for i in range(n):
            yield _chunk(i)

    async def main():
        async with serving(app, http=http, ssl_certfile=certfile,
                           ssl_keyfile=keyfile) as (server, url, _):
            assert url.startswith("https://")
            async with aiohttp.ClientSession() as session:
                async with session.get(url + "/loop", ssl=client_ctx) as resp:
                    info = (resp.status, await resp.json())
                async with session.post(url + "/echo", data=body(), ssl=client_ctx) as resp:
                    echoed = (resp.status, await resp.read())
                async with session.ws_connect(url + "/ws", ssl=client_ctx) as conn:
                    await conn.send_str("loop")
                    ws_loop = (await conn.receive()).data
                    await conn.send_str("close")
                    assert (await conn.receive()).type == aiohttp.WSMsgType.CLOSE
            return info, echoed, ws_loop

    (status, info), (estatus, data), ws_loop = run(loop, main(), TIMEOUT)
    assert status == 200
    assert info["loop"] == LOOP_CLASS[loop_name]
    assert info["scheme"] == "https"
    assert (estatus, data) == (200, b"".join(_chunk(i) for i in range(n)))
    assert ws_loop == LOOP_CLASS[loop_name]
    check_lifespan(app, LOOP_CLASS[loop_name])


# -- websockets ------------------------------------------------------------------

WS_IMPLS = [
    pytest.param("websockets-sansio", "httptools", id="websockets-sansio-httptools"),
    pytest.param("wsproto", "h11", id="wsproto-h11"),
    # uvicorn's legacy implementation on websockets.legacy: uvicorn and
    # websockets warn that it is deprecated (at import, and per connection
    # about its ws_handler signature); it still works.
    pytest.param("websockets", "h11", id="websockets-legacy-h11", marks=[
        pytest.mark.filterwarnings("ignore:The `websockets` implementation is deprecated"),
        pytest.mark.filterwarnings("ignore:websockets.legacy is deprecated"),
        pytest.mark.filterwarnings("ignore:remove second argument of ws_handler"),
    ]),
]


@pytest.mark.parametrize("ws, http", WS_IMPLS)
def test_websocket_echo(loop, loop_name, ws, http):
    """Text, unicode, 100 kB text, binary, a 2 MiB binary message (past
    the transports' write high-water marks both ways), then a close from
    the server with code 1000."""
    app = App()
    big = b"".join(_chunk(i) for i in range(32))

    async def main():
        async with serving(app, http=http, ws=ws) as (server, url, _):
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(url + "/ws") as conn:
                    replies = []
                    for text in ("hello", "évloop ✓", "x" * 100_000, "loop"):
                        await conn.send_str(text)
                        msg = await conn.receive()
                        assert msg.type == aiohttp.WSMsgType.TEXT, msg
                        replies.append(msg.data)
                    for data in (b"\x00\x01binary", big):
                        await conn.send_bytes(data)
                        msg = await conn.receive()
                        assert msg.type == aiohttp.WSMsgType.BINARY, msg
                        replies.append(msg.data)
                    await conn.send_str("close")
                    msg = await conn.receive()
                    assert msg.type == aiohttp.WSMsgType.CLOSE, msg
                    assert msg.data == 1000
                    return replies

    replies = run(loop, main(), TIMEOUT)
    assert replies[:5] == ["echo: hello", "echo: évloop ✓", "echo: " + "x" * 100_000,
                           LOOP_CLASS[loop_name], b"yranib\x01\x00"]
    assert replies[5] == big[::-1]
    assert len(replies) == 6
    check_lifespan(app, LOOP_CLASS[loop_name])


# -- lifespan and shutdown ---------------------------------------------------------


@pytest.mark.parametrize("http", HTTP_IMPLS)
def test_graceful_shutdown(loop, loop_name, http):
    """``should_exit``: uvicorn closes the listener, closes the idle
    keep-alive connection at once, lets the in-flight request finish (and
    then closes its connection), runs the lifespan shutdown and returns
    from serve(); the port then refuses connections.  The fd-leak check of
    tests/conftest.py runs after it."""
    app = App()

    async def main():
        async with serving(app, http=http) as (server, url, addr):
            idle_r, idle_w = await asyncio.open_connection(*addr)
            busy_r, busy_w = await asyncio.open_connection(*addr)
            try:
                idle_w.write(b"GET /loop HTTP/1.1\r\nHost: test\r\n\r\n")
                status, _, _ = await read_response(idle_r)
                assert status == 200
                busy_w.write(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
                await app.slow_entered.wait()

                server.should_exit = True
                # The idle connection is closed by the server...
                assert await asyncio.wait_for(idle_r.read(), TIMEOUT) == b""
                # ...the busy one is not, and its request still gets answered.
                assert not busy_r.at_eof()
                assert app.events == [("startup", LOOP_CLASS[loop_name])]
                app.slow_release.set()
                status, headers, body = await read_response(busy_r)
                assert (status, body) == (200, b"slow done")
                assert await asyncio.wait_for(busy_r.read(), TIMEOUT) == b""
            finally:
                app.slow_release.set()  # on failure too: let serve() finish
                for w in (idle_w, busy_w):
                    w.close()
                    await w.wait_closed()
        # serving() has waited for serve() to return.
        assert all(not s.is_serving() for s in server.servers)
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(*addr)

    run(loop, main(), TIMEOUT)
    check_lifespan(app, LOOP_CLASS[loop_name])


def test_serve_prebound_socket(loop, loop_name):
    """``Server.serve(sockets=[sock])``, what uvicorn's gunicorn worker and
    its multiprocess supervisor do; uvicorn closes the socket at shutdown."""
    app = App()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    addr = sock.getsockname()

    async def main():
        server = uvicorn.Server(make_config(app))
        task = asyncio.ensure_future(server.serve(sockets=[sock]))
        try:
            while not server.started:
                assert not task.done()
                await asyncio.sleep(0.01)
            reader, writer = await asyncio.open_connection(*addr)
            writer.write(b"GET /loop HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            status, headers, body = await read_response(reader)
            writer.close()
            await writer.wait_closed()
            return status, json.loads(body)
        finally:
            server.should_exit = True
            await task

    try:
        status, body = run(loop, main(), TIMEOUT)
    finally:
        sock.close()
    assert status == 200
    assert body["loop"] == LOOP_CLASS[loop_name]
    check_lifespan(app, LOOP_CLASS[loop_name])


# -- uvicorn choosing the loop ------------------------------------------------------


def _client_then_exit(server, results):
    """From a thread: wait for ``server`` to listen, make three requests
    with http.client (two on one keep-alive connection), then ask it to
    exit.  Whatever happens, the server is told to exit."""
    try:
        for _ in range(TIMEOUT * 100):
            if server.started:
                break
            time.sleep(0.01)
        else:
            raise AssertionError("uvicorn did not start")
        host, port = server.servers[0].sockets[0].getsockname()[:2]
        conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
        try:
            for _ in range(2):
                conn.request("GET", "/loop")
                resp = conn.getresponse()
                results.append((resp.status, json.loads(resp.read())))
        finally:
            conn.close()
        conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
        try:
            conn.request("POST", "/upload", body=b"abc" * 1000)
            resp = conn.getresponse()
            results.append((resp.status, resp.read().decode()))
        finally:
            conn.close()
    except BaseException as exc:  # noqa: BLE001 - handed to the test
        results.append(exc)
    finally:
        server.should_exit = True


def _run_with_client(server, runner):
    results = []
    client = threading.Thread(target=_client_then_exit, args=(server, results))
    client.start()
    try:
        runner()
    finally:
        server.should_exit = True
        client.join(TIMEOUT)
    assert not client.is_alive()
    for r in results:
        if isinstance(r, BaseException):
            raise r
    assert len(results) == 3
    (s1, b1), (s2, b2), (s3, text) = results
    assert (s1, s2, s3) == (200, 200, 200)
    assert b1["loop"] == b2["loop"] == EVLOOP
    assert b1["client"] == b2["client"]  # keep-alive
    assert text.endswith(f"loop={EVLOOP}\n")
    assert server.started


def test_config_loop_import_string_server_run():
    """What ``uvicorn --loop evloop:new_event_loop`` does: uvicorn imports
    the factory and runs ``serve()`` with ``asyncio.run(...,
    loop_factory=...)`` (its own backport on 3.10)."""
    app = App()
    config = make_config(app, loop="evloop:new_event_loop")
    assert config.get_loop_factory() is evloop.new_event_loop
    server = uvicorn.Server(config)
    _run_with_client(server, server.run)
    check_lifespan(app, EVLOOP)


def test_evloop_run_server_serve():
    app = App()
    server = uvicorn.Server(make_config(app))
    _run_with_client(server, lambda: evloop.run(server.serve()))
    check_lifespan(app, EVLOOP)


def test_policy_and_loop_none():
    """The pre-0.36 way: evloop's policy installed, ``loop="none"`` so that
    uvicorn asks asyncio (hence the policy) for the loop."""
    app = App()
    server = uvicorn.Server(make_config(app, loop="none"))
    old = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(evloop.EventLoopPolicy())
    try:
        _run_with_client(server, server.run)
    finally:
        asyncio.set_event_loop_policy(old)
    check_lifespan(app, EVLOOP)


# -- python -m uvicorn as a subprocess -----------------------------------------------

# uvicorn's reaction to the signals (the same on asyncio): SIGINT -> graceful
# shutdown, then the signal is re-raised, KeyboardInterrupt is caught by
# uvicorn.main.run: exit code 0.  SIGTERM -> graceful shutdown, then the
# signal is re-raised with its default action restored: the process ends
# killed by SIGTERM (returncode -15), which is what a supervisor expects.
EXPECTED_RC = {signal.SIGINT: 0, signal.SIGTERM: -signal.SIGTERM}


def _read_startups(proc, count):
    """Read the child's stdout until ``count`` lifespan-startup lines have
    come (each worker prints one); return what was read."""
    fd = proc.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + TIMEOUT
    while seen.count(b"lifespan startup") < count:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"{count} workers did not start: {seen!r}")
        data = os.read(fd, 4096)
        if not data:
            raise AssertionError(f"uvicorn exited during startup: {seen!r}")
        seen += data
    return seen.decode()


def run_uvicorn_cli(args, sig, requests=1, workers=1):
    """``python -m uvicorn uvicorn_app:app ARGS --fd N`` on a socket bound
    here; wait for ``workers`` lifespan startups, make ``requests`` GET
    /loop requests (one connection each), then send ``sig`` and wait.
    Returns (answers, returncode, stdout, stderr, listening port)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    host, port = listener.getsockname()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["UVICORN_APP_PRINT"] = "1"
    env.pop("PYTHONWARNINGS", None)
    # Development mode (asyncio debug mode among others) with ResourceWarning
    # as an error: an unclosed transport or socket at exit shows in stderr.
    cmd = [sys.executable, "-X", "dev", "-W", "error::ResourceWarning",
           "-m", "uvicorn", "uvicorn_app:app", "--app-dir", str(HERE),
           "--fd", str(listener.fileno()), "--lifespan", "on", "--no-access-log", *args]
    try:
        proc = subprocess.Popen(cmd, cwd=HERE, env=env, pass_fds=[listener.fileno()],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finally:
        listener.close()  # the child has its copy; the backlog keeps connects waiting
    answers = []
    try:
        started = _read_startups(proc, workers)
        for _ in range(requests):
            conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
            try:
                conn.request("GET", "/loop")
                resp = conn.getresponse()
                answers.append((resp.status, json.loads(resp.read())))
            finally:
                conn.close()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return answers, proc.returncode, started + out, err, port


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("loop_opt, expected", [
    ("evloop:new_event_loop", EVLOOP),
    ("asyncio", ASYNCIO),
], ids=["evloop", "asyncio"])
def test_python_m_uvicorn_subprocess(loop_opt, expected, sig):
    """``python -m uvicorn uvicorn_app:app --loop ... --fd N``: serves a
    request, then shuts down gracefully on ``sig``."""
    answers, rc, out, err, _ = run_uvicorn_cli(["--loop", loop_opt], sig)
    assert [(status, body["loop"]) for status, body in answers] == [(200, expected)], err
    assert rc == EXPECTED_RC[sig], err
    assert out.splitlines() == [f"lifespan startup on {expected}",
                                f"lifespan shutdown on {expected}"], (out, err)
    assert "Shutting down" in err
    assert "Application shutdown complete." in err
    assert "Finished server process" in err
    assert "Traceback" not in err
    assert "Warning" not in err


@pytest.mark.slow
def test_python_m_uvicorn_workers():
    """``--workers 2``: uvicorn's supervisor spawns two processes, each
    running the server on an evloop loop from ``--loop``; SIGTERM to the
    supervisor stops both gracefully and it exits 0."""
    answers, rc, out, err, port = run_uvicorn_cli(
        ["--loop", "evloop:new_event_loop", "--workers", "2"], signal.SIGTERM,
        requests=4, workers=2)
    assert [(status, body["loop"]) for status, body in answers] == [(200, EVLOOP)] * 4, err
    assert rc == 0, err
    assert sorted(out.splitlines()) == [f"lifespan shutdown on {EVLOOP}"] * 2 + [
        f"lifespan startup on {EVLOOP}"] * 2, (out, err)
    assert err.count("Finished server process") == 2, err
    assert "Stopping parent process" in err
    assert "Traceback" not in err
    # uvicorn's supervisor never closes the socket it made from --fd (the
    # same with --loop asyncio): that ResourceWarning is uvicorn's, and the
    # only one allowed.
    warnings = [line for line in err.splitlines()
                if "Warning" in line and f"laddr=('127.0.0.1', {port})" not in line]
    assert not warnings, err
