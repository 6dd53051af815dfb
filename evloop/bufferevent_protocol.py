"""evloop.BuffereventProtocol: a libevent-style Bufferevent over any asyncio
transport.

Code written against libevent's bufferevent API (setcb, enable, write,
readcb/writecb/eventcb, watermarks) can run over a transport it did not
create: TLS from ``start_tls``, a pipe, a transport of another library.
The protocol owns a bufferevent pair (``bufferevent_pair_new``):

* ``protocol.bufferevent`` is the user's end;
* bytes the transport delivers are written into the other end, so they
  arrive in the user's input and run its readcb (with the pair's deferred
  callbacks, as libevent pairs always have);
* bytes the user writes arrive in the other end, which writes them to the
  transport; while the transport asks us to pause writing, that end stops
  reading, so the bytes wait in the user's output (back-pressure);
* EOF from the transport is BEV_EVENT_EOF|BEV_EVENT_READING for the user,
  a lost connection BEV_EVENT_EOF (or BEV_EVENT_ERROR with last_error set)
  and the user's end stops.

Sits above the compiled core and the asyncio face; plain Python.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

from ._evloop import (
    BEV_EVENT_EOF,
    BEV_EVENT_ERROR,
    BEV_EVENT_READING,
    BEV_FLUSH,
    EV_READ,
    EV_WRITE,
    Bufferevent,
    EventBase,
)

__all__ = ["BuffereventProtocol"]


class BuffereventProtocol(asyncio.Protocol):
    """An asyncio Protocol whose data is exposed as a Bufferevent.

    ``BuffereventProtocol(base)`` with ``base`` the loop's EventBase
    (``loop.event_base``); use it as the protocol factory of
    ``loop.create_connection``/``create_server``/``connect_*_pipe``, then
    drive ``protocol.bufferevent`` with the libevent-style API.
    ``on_connect(protocol)``, if given, runs from connection_made (set the
    callbacks and enable reading there).
    """

    def __init__(self, base: EventBase,
                 on_connect: Callable[[BuffereventProtocol], object] | None = None) -> None:
        self.bufferevent, self._inner = Bufferevent.pair(base)
        self.transport: asyncio.Transport | None = None
        self._on_connect = on_connect
        self._inner.setcb(self._inner_read, None, None, None)
        self._inner.enable(EV_READ | EV_WRITE)

    # -- the transport side ----------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Written to only when the user writes (a read pipe's transport
        # has no write(), as in asyncio).
        self.transport = cast(asyncio.Transport, transport)
        if self._on_connect is not None:
            self._on_connect(self)

    def data_received(self, data: bytes) -> None:
        if not self._inner.freed:
            self._inner.write(data)

    def eof_received(self) -> bool:
        self._signal(BEV_EVENT_EOF | BEV_EVENT_READING, None)
        return True     # the user's eventcb decides when to close

    def connection_lost(self, exc: Exception | None) -> None:
        self._signal(BEV_EVENT_ERROR if exc is not None else BEV_EVENT_EOF, exc)
        self.transport = None
        if not self._inner.freed:
            self._inner.free()

    def pause_writing(self) -> None:
        if not self._inner.freed:
            self._inner.disable(EV_READ)

    def resume_writing(self) -> None:
        if not self._inner.freed:
            self._inner.enable(EV_READ)

    # -- the user's side -------------------------------------------------

    def _inner_read(self, bev: Bufferevent, arg: object) -> None:
        # The user wrote: hand it to the transport.
        data = bev.read(len(bev.get_input()))
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _signal(self, what: int, exc: BaseException | None) -> None:
        user = self.bufferevent
        if user.freed:
            return
        if exc is not None and isinstance(exc, OSError) and exc.errno:
            # Let the user's eventcb see the errno, as a socket bufferevent
            # would report it.
            self._last_error = exc.errno
        user.trigger_event(what)

    @property
    def last_error(self) -> int:
        """errno of the error that ended the connection, or 0."""
        return getattr(self, "_last_error", 0)

    def close(self) -> None:
        """Hand what the user wrote to the transport, free the user's end and
        close the transport (which still sends what it holds)."""
        user = self.bufferevent
        if not user.freed:
            user.flush(EV_WRITE, BEV_FLUSH)   # past any watermark
            user.free()
        if not self._inner.freed:
            self._inner_read(self._inner, None)
        if self.transport is not None:
            self.transport.close()
