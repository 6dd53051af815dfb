"""libevent's ``event2/listener.h``: evconnlistener under libevent's C names.

A thin layer of ``evloop.compat`` over :class:`evloop.Listener` (compiled in
``evloop/core/listener.pyx``), with libevent's 0/-1 (None for NULL) instead
of the object API's exceptions, logged on the ``'evloop.compat'`` logger;
see ``util.py`` for the conventions.

Differences from libevent
-------------------------
* The accept callback is ``cb(listener, fd, address, arg)``: the address as
  the socket module gives it (``(host, port)``, an IPv6 4-tuple, or a
  path) stands for C's ``sockaddr *`` and ``socklen``.  The new ``fd`` is
  the callback's to close (or to hand to bufferevent_socket_new with
  BEV_OPT_CLOSE_ON_FREE), as in C.
* ``evconnlistener_new_bind(base, cb, ptr, flags, backlog, sa, socklen)``
  takes ``sa`` as a socket-module address; ``socklen`` is optional and
  ignored.  The listener owns the socket it made (closed on free).
* The error callback is ``errorcb(listener, arg)``; the errno is
  ``listener.last_error`` (C: EVUTIL_SOCKET_ERROR()).  After EMFILE-like
  accept errors the listener backs off for a moment instead of spinning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._evloop import (
    EventBase,
    Listener,
    LEV_OPT_LEAVE_SOCKETS_BLOCKING, LEV_OPT_CLOSE_ON_FREE, LEV_OPT_CLOSE_ON_EXEC,
    LEV_OPT_REUSEABLE, LEV_OPT_THREADSAFE, LEV_OPT_DISABLED, LEV_OPT_DEFERRED_ACCEPT,
    LEV_OPT_REUSEABLE_PORT, LEV_OPT_BIND_IPV6ONLY,
)
from .buffer import _call, _int, _wrap

if TYPE_CHECKING:
    from socket import _Address

    from _typeshed import FileDescriptorLike

    from .._evloop import AcceptCb

__all__ = [
    "LEV_OPT_LEAVE_SOCKETS_BLOCKING", "LEV_OPT_CLOSE_ON_FREE", "LEV_OPT_CLOSE_ON_EXEC",
    "LEV_OPT_REUSEABLE", "LEV_OPT_THREADSAFE", "LEV_OPT_DISABLED",
    "LEV_OPT_DEFERRED_ACCEPT", "LEV_OPT_REUSEABLE_PORT", "LEV_OPT_BIND_IPV6ONLY",
    "evconnlistener_new", "evconnlistener_new_bind", "evconnlistener_free",
    "evconnlistener_enable", "evconnlistener_disable", "evconnlistener_get_base",
    "evconnlistener_get_fd", "evconnlistener_set_cb", "evconnlistener_set_error_cb",
]


def _lev(lev: object) -> Listener:
    if not isinstance(lev, Listener):
        raise TypeError(f"lev must be an evconnlistener (Listener), not {type(lev).__name__}")
    return lev


def _base(base: object) -> EventBase:
    if not isinstance(base, EventBase):
        raise TypeError(f"base must be an EventBase, not {type(base).__name__}")
    return base


def evconnlistener_new(base: EventBase, cb: AcceptCb | None, ptr: Any, flags: int, backlog: int,
                       fd: FileDescriptorLike) -> Listener | None:
    """evconnlistener_new(): accept on the socket fd (backlog 0: it already listens), or None."""
    return _call("evconnlistener_new",
                 lambda: Listener(_base(base), _wrap(cb, "cb"), ptr, _int(flags, "flags"),
                                  _int(backlog, "backlog"), fd),
                 error=None)


def evconnlistener_new_bind(base: EventBase, cb: AcceptCb | None, ptr: Any, flags: int,
                            backlog: int, sa: _Address,
                            socklen: int | None = None) -> Listener | None:
    """evconnlistener_new_bind(): make, bind (to socket-module address sa) and listen, or None."""
    return _call("evconnlistener_new_bind",
                 lambda: Listener.bind(_base(base), _wrap(cb, "cb"), ptr, _int(flags, "flags"),
                                       _int(backlog, "backlog"), sa),
                 error=None)


def evconnlistener_free(lev: Listener) -> None:
    """evconnlistener_free(): stop; close the socket with LEV_OPT_CLOSE_ON_FREE (void)."""
    _call("evconnlistener_free", lambda: _lev(lev).free(), error=None)


def evconnlistener_enable(lev: Listener) -> int:
    """evconnlistener_enable(): resume accepting; 0 or -1."""
    return _call("evconnlistener_enable", lambda: _lev(lev).enable() or 0)


def evconnlistener_disable(lev: Listener) -> int:
    """evconnlistener_disable(): stop accepting (connections queue in the kernel); 0 or -1."""
    return _call("evconnlistener_disable", lambda: _lev(lev).disable() or 0)


def evconnlistener_get_base(lev: Listener) -> EventBase | None:
    """evconnlistener_get_base(): the EventBase of lev, or None."""
    return _call("evconnlistener_get_base", lambda: _lev(lev).get_base(), error=None)


def evconnlistener_get_fd(lev: Listener) -> int:
    """evconnlistener_get_fd(): the listening socket of lev, or -1."""
    return _call("evconnlistener_get_fd", lambda: _lev(lev).get_fd())


def evconnlistener_set_cb(lev: Listener, cb: AcceptCb | None, arg: Any) -> None:
    """evconnlistener_set_cb(): cb(listener, fd, address, arg); None closes accepted fds (void)."""
    _call("evconnlistener_set_cb", lambda: _lev(lev).set_cb(_wrap(cb, "cb"), arg), error=None)


def evconnlistener_set_error_cb(lev: Listener,
                                errorcb: Callable[[Listener, Any], object] | None) -> None:
    """evconnlistener_set_error_cb(): errorcb(listener, arg) on accept errors (void)."""
    _call("evconnlistener_set_error_cb",
          lambda: _lev(lev).set_error_cb(_wrap(errorcb, "errorcb")), error=None)
