"""libevent's ``event2/util.h``: portable socket and time helpers (evutil_*).

This is the bottom of ``evloop.compat``, the flat layer that gives libevent's C
names verbatim so that a C libevent program can be transliterated line by
line.  ``event.py`` and ``event_compat.py`` build on the private helpers here,
as libevent's ``event.h`` includes ``util.h``.

Conventions of the whole compat layer (they follow from the C signatures):

* ``evutil_socket_t`` arguments accept an ``int`` or an object with
  ``fileno()``; sockets handed back are plain ``int`` descriptors, which the
  caller closes with :func:`evutil_closesocket`.
* A ``struct timeval`` is a ``(sec, usec)`` tuple; ``NULL`` is ``None``.
* Out-parameters become part of the return value:
  ``evutil_socketpair(...) -> (0, (fd0, fd1))`` or ``(-1, None)``.
* Functions that return ``int`` in C return libevent's 0/-1; those that
  return a pointer return ``None`` for ``NULL``; predicates return 0 on bad
  input.  Nothing raises for bad input.  The reason for a failure is
  logged on the ``logging`` logger ``'evloop.compat'`` (libevent writes it
  with ``event_warn``) and the errno of a failed system call is kept for
  :func:`evutil_socket_geterror`.

Differences from libevent
-------------------------
* Python has no readable C ``errno``: ``evutil_socket_geterror(sock)``
  returns the socket's pending ``SO_ERROR`` (and clears it), or else the
  errno of the last compat call that failed with an OSError.
* ``evutil_closesocket`` closes a socket object through its ``close()``,
  so that the object forgets its fd.
* ``evutil_inet_pton`` returns ``(1, packed)``, ``(0, None)`` for text
  that is not an address of the family, ``(-1, None)`` for an unsupported
  family; ``evutil_inet_ntop`` returns a ``str`` or None.
* ``evutil_parse_sockaddr_port`` accepts libevent's forms ("ip",
  "ip:port", "[ipv6]", "[ipv6]:port", bare IPv6, port parsed with
  ``atoi`` and checked to be 1..65535) and returns the address as the
  socket module spells it: ``(0, (host, port))`` for AF_INET,
  ``(0, (host, port, 0, 0))`` for AF_INET6, or ``(-1, None)``.
* ``evutil_timer*`` macros return new tuples instead of writing through a
  pointer (``evutil_timeradd(a, b)`` is ``vvp``); ``evutil_timercmp`` takes
  the C operator as a string; bad timevals give None (add/sub) or 0.
* ``evutil_gettime_monotonic`` ignores its ``timer`` argument and
  ``evutil_gettimeofday`` its ``tz``, as libevent does.
"""

from __future__ import annotations

import errno as _errno
import logging
import operator
import os
import re
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

# Names for annotations only (they exist while type checking, not at run time).
if TYPE_CHECKING:
    from typing import TypeAlias

    from _typeshed import FileDescriptorLike, ReadableBuffer

    #: A ``struct timeval``: (sec, usec).
    Timeval: TypeAlias = tuple[int, int]
    #: An address as the socket module spells it: (host, port) for
    #: AF_INET, (host, port, flowinfo, scope_id) for AF_INET6.
    SockAddr: TypeAlias = tuple[str, int] | tuple[str, int, int, int]

_R = TypeVar("_R")

__all__ = [
    "evutil_make_socket_nonblocking",
    "evutil_make_listen_socket_reuseable",
    "evutil_make_listen_socket_reuseable_port",
    "evutil_make_socket_closeonexec",
    "evutil_closesocket",
    "evutil_socketpair",
    "evutil_gettimeofday",
    "evutil_gettime_monotonic",
    "evutil_socket_geterror",
    "evutil_socket_error_to_string",
    "evutil_inet_ntop",
    "evutil_inet_pton",
    "evutil_parse_sockaddr_port",
    "evutil_timeradd",
    "evutil_timersub",
    "evutil_timerclear",
    "evutil_timerisset",
    "evutil_timercmp",
]

#: Where every compat function says why it returned -1 or None.
logger = logging.getLogger("evloop.compat")

#: The exceptions of the object API that compat turns into -1 (stub contract).
# OverflowError: an int argument too large for its C type, wherever it is
# converted (libevent would get a truncated value and fail with -1).
_ERRORS = (TypeError, ValueError, OverflowError, RuntimeError, OSError)

# errno of the last failed compat call (libevent leaves it in errno).
_last_errno = 0

# -- private helpers shared with event.py and event_compat.py -----------------

def _raised_by_user(exc: BaseException) -> bool:
    """True if ``exc`` was raised by user code that evloop called (an event
    callback, a finalizer, a foreach_event function): the core tags those.

    Such an exception is the application's own bug, not bad input, so compat
    lets it propagate instead of turning it into -1 (a callback's exception
    leaves event_base_loop() as it leaves EventBase.loop()).
    """
    return bool(getattr(exc, "_evloop_from_callback", False))


@overload
def _fail(func: str, exc: BaseException) -> int: ...
@overload
def _fail(func: str, exc: BaseException, result: _R) -> _R: ...
def _fail(func: str, exc: BaseException, result: Any = -1) -> Any:
    """Log why ``func`` failed (as libevent's event_warn does) and return
    ``result``; re-raise if the exception came from user code."""
    global _last_errno
    if _raised_by_user(exc):
        raise exc
    if isinstance(exc, OSError) and exc.errno:
        _last_errno = exc.errno
    logger.warning("%s: %s: %s", func, type(exc).__name__, exc)
    return result


def _fileno(fd: Any, name: str = "fd") -> int:
    """An evutil_socket_t: an int >= 0 or an object with fileno()."""
    if isinstance(fd, bool) or not isinstance(fd, int):
        fileno = getattr(fd, "fileno", None)
        if fileno is None:
            raise TypeError(f"{name} must be an int or have fileno(), not {type(fd).__name__}")
        fd = fileno()
    if fd < 0:
        raise ValueError(f"{name} must be >= 0, got {fd}")
    return int(fd)


def _timeval(tv: object, name: str = "tv") -> Timeval:
    """Check a struct timeval given as a (sec, usec) tuple of ints."""
    if not isinstance(tv, tuple) or len(tv) != 2:
        raise TypeError(f"{name} must be a (sec, usec) tuple, not {tv!r}")
    sec, usec = tv
    for v in (sec, usec):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{name} must hold two ints, not {tv!r}")
    return sec, usec


def _timeval_from_seconds(t: float) -> Timeval:
    """Seconds as a float -> a normalized (sec, usec) tuple."""
    sec = int(t // 1)
    usec = int(round((t - sec) * 1_000_000))
    if usec >= 1_000_000:
        sec, usec = sec + 1, usec - 1_000_000
    return sec, usec


class _Socket:
    """A socket.socket borrowing ``fd`` for setsockopt/getsockopt; the fd is
    detached, never closed, on exit."""

    def __init__(self, fd: FileDescriptorLike) -> None:
        self.fd = _fileno(fd)
        self.sock: socket.socket | None = None

    def __enter__(self) -> socket.socket:
        self.sock = socket.socket(fileno=self.fd)
        return self.sock

    def __exit__(self, *exc: object) -> None:
        if self.sock is not None:
            self.sock.detach()


# -- sockets -----------------------------------------------------------------

def evutil_make_socket_nonblocking(fd: FileDescriptorLike) -> int:
    """evutil_make_socket_nonblocking(): set O_NONBLOCK on ``fd``; 0 or -1."""
    try:
        os.set_blocking(_fileno(fd), False)
    except _ERRORS as exc:
        return _fail("evutil_make_socket_nonblocking", exc)
    return 0


def evutil_make_listen_socket_reuseable(sock: FileDescriptorLike) -> int:
    """evutil_make_listen_socket_reuseable(): SO_REUSEADDR on; 0 or -1."""
    try:
        with _Socket(sock) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    except _ERRORS as exc:
        return _fail("evutil_make_listen_socket_reuseable", exc)
    return 0


def evutil_make_listen_socket_reuseable_port(sock: FileDescriptorLike) -> int:
    """evutil_make_listen_socket_reuseable_port(): SO_REUSEPORT on; 0 or -1."""
    try:
        with _Socket(sock) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    except _ERRORS as exc:
        return _fail("evutil_make_listen_socket_reuseable_port", exc)
    return 0


def evutil_make_socket_closeonexec(fd: FileDescriptorLike) -> int:
    """evutil_make_socket_closeonexec(): set FD_CLOEXEC; 0 or -1."""
    try:
        os.set_inheritable(_fileno(fd), False)
    except _ERRORS as exc:
        return _fail("evutil_make_socket_closeonexec", exc)
    return 0


def evutil_closesocket(sock: FileDescriptorLike) -> int:
    """evutil_closesocket(): close an fd, or a socket object through its close()."""
    try:
        if hasattr(sock, "close") and hasattr(sock, "fileno"):
            if sock.fileno() < 0:
                raise OSError(_errno.EBADF, os.strerror(_errno.EBADF))
            sock.close()
        else:
            os.close(_fileno(sock, "sock"))
    except _ERRORS as exc:
        return _fail("evutil_closesocket", exc)
    return 0


def evutil_socketpair(family: int, type: int,
                      protocol: int) -> tuple[int, tuple[int, int] | None]:
    """evutil_socketpair(): (0, (fd0, fd1)) that the caller closes, or (-1, None)."""
    try:
        a, b = socket.socketpair(family, type, protocol)
    except _ERRORS as exc:
        return _fail("evutil_socketpair", exc), None
    return 0, (a.detach(), b.detach())


def evutil_socket_geterror(sock: FileDescriptorLike) -> int:
    """evutil_socket_geterror(): SO_ERROR of sock, else the errno of the last compat failure."""
    try:
        with _Socket(sock) as s:
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    except _ERRORS:
        err = 0
    return err or _last_errno


def evutil_socket_error_to_string(errcode: int) -> str | None:
    """evutil_socket_error_to_string(): strerror(errcode)."""
    try:
        return os.strerror(errcode)
    except _ERRORS as exc:
        return _fail("evutil_socket_error_to_string", exc, None)


# -- time ----------------------------------------------------------------------

def evutil_gettimeofday(tz: object = None) -> tuple[int, Timeval]:
    """evutil_gettimeofday(): (0, (sec, usec)) of the wall clock; tz is ignored, as in C."""
    ns = time.time_ns()
    return 0, (ns // 1_000_000_000, (ns // 1000) % 1_000_000)


def evutil_gettime_monotonic(timer: object = None) -> tuple[int, Timeval]:
    """evutil_gettime_monotonic(): (0, (sec, usec)) of CLOCK_MONOTONIC; timer is ignored."""
    ns = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    return 0, (ns // 1_000_000_000, (ns // 1000) % 1_000_000)


def evutil_timeradd(tvp: Timeval, uvp: Timeval) -> Timeval | None:
    """evutil_timeradd(tvp, uvp, vvp): returns vvp = tvp + uvp, normalized."""
    try:
        (ts, tu), (us, uu) = _timeval(tvp, "tvp"), _timeval(uvp, "uvp")
    except _ERRORS as exc:
        return _fail("evutil_timeradd", exc, None)
    sec, usec = ts + us, tu + uu
    if usec >= 1_000_000:
        sec, usec = sec + 1, usec - 1_000_000
    return sec, usec


def evutil_timersub(tvp: Timeval, uvp: Timeval) -> Timeval | None:
    """evutil_timersub(tvp, uvp, vvp): returns vvp = tvp - uvp, normalized."""
    try:
        (ts, tu), (us, uu) = _timeval(tvp, "tvp"), _timeval(uvp, "uvp")
    except _ERRORS as exc:
        return _fail("evutil_timersub", exc, None)
    sec, usec = ts - us, tu - uu
    if usec < 0:
        sec, usec = sec - 1, usec + 1_000_000
    return sec, usec


def evutil_timerclear(tvp: Timeval | None = None) -> Timeval:
    """evutil_timerclear(tvp): returns the cleared timeval (0, 0)."""
    return 0, 0


def evutil_timerisset(tvp: Timeval) -> int:
    """evutil_timerisset(tvp): 1 if either field is non-zero, else 0."""
    try:
        sec, usec = _timeval(tvp, "tvp")
    except _ERRORS as exc:
        return _fail("evutil_timerisset", exc, 0)
    return 1 if (sec or usec) else 0


_CMP = {"<": operator.lt, "<=": operator.le, "==": operator.eq,
        "!=": operator.ne, ">": operator.gt, ">=": operator.ge}


def evutil_timercmp(tvp: Timeval, uvp: Timeval,
                    cmp: str | Callable[[Timeval, Timeval], object]) -> int:
    """evutil_timercmp(tvp, uvp, cmp): 1 or 0; cmp is the C operator as a str, or a function."""
    try:
        op = _CMP.get(cmp) if isinstance(cmp, str) else cmp
        if not callable(op):
            raise ValueError(f"cmp must be one of {sorted(_CMP)}, not {cmp!r}")
        return 1 if op(_timeval(tvp, "tvp"), _timeval(uvp, "uvp")) else 0
    except _ERRORS as exc:
        return _fail("evutil_timercmp", exc, 0)


# -- addresses -------------------------------------------------------------------

def evutil_inet_ntop(af: int, src: ReadableBuffer) -> str | None:
    """evutil_inet_ntop(): the packed address src (bytes) as text, or None."""
    try:
        return socket.inet_ntop(af, bytes(src))
    except _ERRORS as exc:
        return _fail("evutil_inet_ntop", exc, None)


def evutil_inet_pton(af: int, src: str) -> tuple[int, bytes | None]:
    """evutil_inet_pton(): (1, packed bytes), (0, None) if not an address, (-1, None) bad af."""
    if af not in (socket.AF_INET, socket.AF_INET6):
        _fail("evutil_inet_pton",
              OSError(_errno.EAFNOSUPPORT, f"address family {af!r} not supported"))
        return -1, None
    if not isinstance(src, str):
        _fail("evutil_inet_pton", TypeError(f"src must be str, not {type(src).__name__}"))
        return -1, None
    try:
        return 1, socket.inet_pton(af, src)
    except (OSError, ValueError):
        return 0, None


_ATOI = re.compile(r"\s*([+-]?\d+)")


def evutil_parse_sockaddr_port(ip_as_string: str) -> tuple[int, SockAddr | None]:
    """evutil_parse_sockaddr_port(): (0, socket-module address tuple) or (-1, None)."""
    try:
        if not isinstance(ip_as_string, str):
            raise TypeError(f"ip_as_string must be str, not {type(ip_as_string).__name__}")
        s = ip_as_string
        cp = s.find(":")
        if s.startswith("["):
            end = s.find("]")
            if end < 0:
                raise ValueError("missing ']'")
            addr_part = s[1:end]
            port_part = s[end + 2:] if s[end + 1:end + 2] == ":" else None
            is_ipv6 = True
        elif cp >= 0 and s.find(":", cp + 1) >= 0:
            addr_part, port_part, is_ipv6 = s, None, True
        elif cp >= 0:
            addr_part, port_part, is_ipv6 = s[:cp], s[cp + 1:], False
        else:
            addr_part, port_part, is_ipv6 = s, None, False
        if port_part is None:
            port = 0
        else:
            m = _ATOI.match(port_part)  # libevent uses atoi()
            port = int(m.group(1)) if m else 0
            if port <= 0 or port > 65535:
                raise ValueError(f"bad port {port_part!r}")
        family = socket.AF_INET6 if is_ipv6 else socket.AF_INET
        rc, _ = evutil_inet_pton(family, addr_part)
        if rc != 1:
            raise ValueError(f"bad address {addr_part!r}")
    except _ERRORS as exc:
        return _fail("evutil_parse_sockaddr_port", exc), None
    if is_ipv6:
        return 0, (addr_part, port, 0, 0)
    return 0, (addr_part, port)

