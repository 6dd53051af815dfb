"""The ASGI application the uvicorn tests serve (``test_uvicorn.py``).

A plain ASGI 3 callable, no framework, so that what runs between uvicorn
and the loop is uvicorn alone.  Every request, websocket and lifespan
event records ``type(asyncio.get_running_loop())``, so a test can check
which loop uvicorn really ran the application on.

Routes:

* ``GET /loop``: ``{"loop": "<module>.<qualname>", "client": [host, port],
  "scheme": "http" | "https"}`` as JSON (the client address tells
  keep-alive connections apart; it is null on a Unix socket);
* ``POST /echo``: streams the request body back as it arrives, one
  response chunk per ``http.request`` message (a streamed request body
  and a streamed response, chunked encoding);
* ``POST /upload``: reads the whole streamed body, answers its size and
  SHA-256 in a response sent in several parts;
* ``GET /stream``: 50 lines sent one by one, with a few yields between;
* ``GET /slow``: sets ``app.slow_entered`` and waits for
  ``app.slow_release`` before answering (graceful-shutdown tests);
* ``GET /big?mib=N``: N MiB (default 16) with a Content-Length, sent in
  64 KiB parts, each awaited (uvicorn's write flow control); sets
  ``app.big_done`` when the last part is sent;
* ``GET /wait-disconnect``: sets ``app.wait_entered``, answers nothing,
  waits for the ``http.disconnect`` message and sets ``app.disconnected``;
* websocket ``/ws``: text ``t`` → ``"echo: t"``, bytes ``b`` → ``b[::-1]``,
  text ``"close"`` → the server closes with code 1000.

Lifespan: startup and shutdown are recorded in ``app.events`` (and, with
``UVICORN_APP_PRINT=1``, written to stdout, for the subprocess tests).

The module-level ``app`` is what ``python -m uvicorn uvicorn_app:app``
serves.
"""
import asyncio
import hashlib
import json
import os


def loop_name():
    """``module.qualname`` of the running loop's class."""
    cls = type(asyncio.get_running_loop())
    return f"{cls.__module__}.{cls.__qualname__}"


class App:
    def __init__(self, printing=False):
        self.printing = printing
        self.events = []          # ("startup" | "shutdown", loop name)
        self.loops = set()        # loop names seen by any request
        # asyncio.Events, made at lifespan startup on the serving loop
        self.slow_entered = self.slow_release = self.big_done = None
        self.wait_entered = self.disconnected = None

    def _record(self, event):
        self.events.append((event, loop_name()))
        if self.printing:
            # One write(2) of less than PIPE_BUF bytes: atomic, so the lines
            # of several workers sharing the pipe do not interleave (print()
            # may write the text and its newline separately).
            os.write(1, f"lifespan {event} on {loop_name()}\n".encode())

    async def __call__(self, scope, receive, send):
        self.loops.add(loop_name())
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(receive, send)
        else:  # pragma: no cover
            raise RuntimeError(f"unexpected scope type {kind!r}")

    async def _lifespan(self, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.slow_entered = asyncio.Event()
                self.slow_release = asyncio.Event()
                self.big_done = asyncio.Event()
                self.wait_entered = asyncio.Event()
                self.disconnected = asyncio.Event()
                self._record("startup")
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._record("shutdown")
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope, receive, send):
        method, path = scope["method"], scope["path"]
        if method == "GET" and path == "/loop":
            client = scope.get("client")
            body = json.dumps({"loop": loop_name(), "scheme": scope["scheme"],
                               "client": list(client) if client else None})
            await _respond(send, 200, body.encode(), b"application/json")
        elif method == "POST" and path == "/echo":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/octet-stream")]})
            more = True
            while more:
                message = await receive()
                more = message.get("more_body", False)
                if message["body"]:
                    await send({"type": "http.response.body", "body": message["body"],
                                "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        elif method == "POST" and path == "/upload":
            h = hashlib.sha256()
            size = 0
            more = True
            while more:
                message = await receive()
                more = message.get("more_body", False)
                h.update(message["body"])
                size += len(message["body"])
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/plain")]})
            for part in (f"size={size}\n", f"sha256={h.hexdigest()}\n",
                         f"loop={loop_name()}\n"):
                await send({"type": "http.response.body", "body": part.encode(),
                            "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        elif method == "GET" and path == "/stream":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/plain")]})
            for i in range(50):
                await send({"type": "http.response.body", "body": f"line {i}\n".encode(),
                            "more_body": True})
                if i % 10 == 0:
                    await asyncio.sleep(0.001)
            await send({"type": "http.response.body", "body": b""})
        elif method == "GET" and path == "/slow":
            self.slow_entered.set()
            await self.slow_release.wait()
            await _respond(send, 200, b"slow done", b"text/plain")
        elif method == "GET" and path == "/big":
            query = dict(p.split("=", 1) for p in scope["query_string"].decode().split("&") if p)
            total = int(query.get("mib", "16")) * 1024 * 1024
            part = 64 * 1024
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/octet-stream"),
                                    (b"content-length", str(total).encode())]})
            for i in range(total // part):
                await send({"type": "http.response.body", "body": big_part(i, part),
                            "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            self.big_done.set()
        elif method == "GET" and path == "/wait-disconnect":
            self.wait_entered.set()
            while (await receive())["type"] != "http.disconnect":
                pass
            self.disconnected.set()
        else:
            await _respond(send, 404, b"not found", b"text/plain")

    async def _websocket(self, receive, send):
        message = await receive()
        assert message["type"] == "websocket.connect", message
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text == "close":
                await send({"type": "websocket.close", "code": 1000})
                return
            if text == "loop":
                await send({"type": "websocket.send", "text": loop_name()})
            elif text is not None:
                await send({"type": "websocket.send", "text": "echo: " + text})
            else:
                await send({"type": "websocket.send", "bytes": message["bytes"][::-1]})


def big_part(i, size):
    """Part ``i`` of ``/big``: deterministic, non-repeating."""
    return hashlib.sha256(str(i).encode()).digest() * (size // 32)


async def _respond(send, status, body, content_type):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


app = App(printing=os.environ.get("UVICORN_APP_PRINT") == "1")
