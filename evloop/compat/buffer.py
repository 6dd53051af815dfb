"""libevent's ``event2/buffer.h`` (and ``buffer_compat.h``'s evbuffer_readline):
the evbuffer API under libevent's C names.

A thin layer of ``evloop.compat`` over :class:`evloop.Evbuffer` (compiled in
``evloop/core/buffer.pyx``).  Each function checks its arguments, calls the
method and maps the object API's exceptions (TypeError, ValueError,
RuntimeError, OSError) to libevent's return value, logging why on the
``'evloop.compat'`` logger; see ``util.py`` for the conventions of the whole
compat layer.

An evbuffer callback or a reference's cleanup function runs synchronously
inside the call that changed the buffer.  An exception it raises is the
application's own: it is tagged like an event callback's and propagates
from the compat call instead of becoming -1.

Differences from libevent
-------------------------
* Data is any bytes-like object; the C length arguments (``datlen``,
  ``size``, ``len``) are optional and, when given, take that many bytes
  from the front of the data (more than there is: -1).
* Out-parameters become return values: ``evbuffer_remove(buf, n)`` and
  ``evbuffer_copyout(buf, n)`` return ``bytes`` (``b''`` when empty) or None
  on error; ``evbuffer_readln(buf, eol_style)`` returns the line (its
  length is ``len(line)``) or None; ``evbuffer_search_eol(buf, start,
  eol_style)`` returns ``(ptr, eol_len)``; ``evbuffer_peek(buf, len,
  start_at, n_vec)`` and ``evbuffer_reserve_space(buf, size, n_vecs)``
  return ``(n, [memoryview, ...])`` or ``(-1, None)``.
* ``evbuffer_commit_space(buf, vec, n_vecs)`` takes the views that
  evbuffer_reserve_space returned, each replaced by (or sliced to) the
  number of bytes written into it: the C code's shortening of
  ``vec[i].iov_len``.
* ``evbuffer_pullup`` returns a read-only memoryview (None for NULL).
* ``evbuffer_add_printf(buf, fmt, *args)`` uses Python %-formatting.
* ``evbuffer_add_reference(outbuf, data, datlen, cleanupfn, arg)`` calls
  ``cleanupfn(data, datlen, arg)`` as in C.
* ``struct evbuffer_ptr`` is :class:`evloop.EvbufferPtr` (``evbuffer_ptr()``
  makes one, as a C declaration does); search functions return one with ``pos == -1``
  when nothing is found or the arguments are bad.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .._evloop import (
    Evbuffer,
    EvbufferCbEntry,
    EvbufferPtr,
    EventBase,
    EVBUFFER_EOL_ANY, EVBUFFER_EOL_CRLF, EVBUFFER_EOL_CRLF_STRICT,
    EVBUFFER_EOL_LF, EVBUFFER_EOL_NUL,
    EVBUFFER_PTR_SET, EVBUFFER_PTR_ADD, EVBUFFER_CB_ENABLED,
)
from .util import _ERRORS, _fail

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike, ReadableBuffer

    from .._evloop import EvbufferCb

_T = TypeVar("_T")
_E = TypeVar("_E")

__all__ = [
    # constants and the struct
    "EVBUFFER_EOL_ANY", "EVBUFFER_EOL_CRLF", "EVBUFFER_EOL_CRLF_STRICT",
    "EVBUFFER_EOL_LF", "EVBUFFER_EOL_NUL",
    "EVBUFFER_PTR_SET", "EVBUFFER_PTR_ADD", "EVBUFFER_CB_ENABLED",
    "evbuffer_ptr",
    # lifecycle and size
    "evbuffer_new", "evbuffer_free", "evbuffer_get_length", "evbuffer_expand",
    # adding
    "evbuffer_add", "evbuffer_add_buffer", "evbuffer_add_reference",
    "evbuffer_add_printf", "evbuffer_add_iovec", "evbuffer_prepend",
    "evbuffer_prepend_buffer",
    # taking out
    "evbuffer_remove", "evbuffer_remove_buffer", "evbuffer_copyout",
    "evbuffer_drain", "evbuffer_pullup", "evbuffer_readln", "evbuffer_readline",
    # searching
    "evbuffer_search", "evbuffer_search_range", "evbuffer_search_eol",
    "evbuffer_ptr_set",
    # zero-copy access
    "evbuffer_peek", "evbuffer_reserve_space", "evbuffer_commit_space",
    # I/O
    "evbuffer_read", "evbuffer_write", "evbuffer_write_atmost",
    # callbacks and freezing
    "evbuffer_add_cb", "evbuffer_remove_cb_entry", "evbuffer_remove_cb",
    "evbuffer_cb_set_flags", "evbuffer_cb_clear_flags", "evbuffer_freeze",
    "evbuffer_unfreeze", "evbuffer_defer_callbacks",
]


def evbuffer_ptr() -> EvbufferPtr:
    """evbuffer_ptr(): a new ``struct evbuffer_ptr`` (an EvbufferPtr), unset: pos == -1."""
    return EvbufferPtr()


# Some functions keep libevent's parameter name ``len``.
_len = len


# -- helpers shared with bufferevent.py and listener.py --------------------------

class _UserCallback:
    """A user callback handed to the core: exceptions it raises are tagged as
    the application's own (``_evloop_from_callback``), so compat re-raises
    them even when the core calls it synchronously from inside a compat call
    (an evbuffer callback run by evbuffer_add, a readcb run by
    bufferevent_trigger).  It compares equal to the function it wraps, so
    the core's lookups by callback (evbuffer_remove_cb) still find it."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, *args: Any) -> Any:
        try:
            return self.fn(*args)
        except BaseException as exc:
            try:
                # The tag util._raised_by_user reads: a dynamic attribute.
                exc._evloop_from_callback = True  # type: ignore[attr-defined]
            except AttributeError:  # pragma: no cover - exotic exceptions
                pass
            raise

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _UserCallback):
            other = other.fn
        return self.fn is other or self.fn == other

    def __hash__(self) -> int:
        return hash(self.fn)

    def __repr__(self) -> str:
        return f"<compat callback {self.fn!r}>"


@overload
def _wrap(fn: None, name: str) -> None: ...
@overload
def _wrap(fn: Callable[..., Any], name: str) -> _UserCallback: ...
@overload
def _wrap(fn: Callable[..., Any] | None, name: str) -> _UserCallback | None: ...
def _wrap(fn: object, name: str) -> _UserCallback | None:
    """None, or ``fn`` wrapped in a _UserCallback (TypeError if not callable)."""
    if fn is None:
        return None
    if not callable(fn):
        raise TypeError(f"{name} must be callable or None, not {type(fn).__name__}")
    return fn if isinstance(fn, _UserCallback) else _UserCallback(fn)


def _unwrap(fn: Callable[..., Any] | None) -> Callable[..., Any] | None:
    return fn.fn if isinstance(fn, _UserCallback) else fn


@overload
def _call(func: str, fn: Callable[..., _T], *args: Any) -> _T | int: ...
@overload
def _call(func: str, fn: Callable[..., _T], *args: Any, error: _E) -> _T | _E: ...
def _call(func: str, fn: Callable[..., Any], *args: Any, error: Any = -1) -> Any:
    """Run ``fn(*args)``; map the object API's exceptions to ``error``."""
    try:
        return fn(*args)
    except _ERRORS as exc:
        return _fail(func, exc, error)


def _buf(buf: object, name: str = "buf") -> Evbuffer:
    if not isinstance(buf, Evbuffer):
        raise TypeError(f"{name} must be an Evbuffer, not {type(buf).__name__}")
    return buf


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return int(value)


def _data(data: ReadableBuffer, datlen: int | None, name: str = "data") -> ReadableBuffer:
    """The first ``datlen`` bytes of a bytes-like ``data`` (all if None)."""
    if isinstance(data, str):
        raise TypeError(f"{name} must be a bytes-like object, not str")
    view = memoryview(data)  # TypeError for anything else
    if datlen is None:
        return data
    n = _int(datlen, "datlen")
    if n < 0 or n > view.nbytes:
        raise ValueError(f"datlen must be in 0..{view.nbytes}, got {n}")
    if n == view.nbytes:
        return data
    return view.cast("B")[:n]


# -- lifecycle and size -------------------------------------------------------------

def evbuffer_new() -> Evbuffer | None:
    """evbuffer_new(): a new, empty Evbuffer."""
    return _call("evbuffer_new", Evbuffer, error=None)


def evbuffer_free(buf: Evbuffer) -> None:
    """evbuffer_free(): drop the data and the callbacks (void: a failure is only logged)."""
    _call("evbuffer_free", lambda: _buf(buf).free(), error=None)


def evbuffer_get_length(buf: Evbuffer) -> int:
    """evbuffer_get_length(): the number of bytes in buf; -1 for a bad buf."""
    return _call("evbuffer_get_length", lambda: _buf(buf).get_length())


def evbuffer_expand(buf: Evbuffer, datlen: int) -> int:
    """evbuffer_expand(): room for datlen more bytes in one extent; 0 or -1."""
    return _call("evbuffer_expand", lambda: _buf(buf).expand(_int(datlen, "datlen")) or 0)


# -- adding ---------------------------------------------------------------------------

def evbuffer_add(buf: Evbuffer, data: ReadableBuffer, datlen: int | None = None) -> int:
    """evbuffer_add(): append a copy of data (datlen bytes of it if given); 0 or -1."""
    return _call("evbuffer_add", lambda: _buf(buf).add(_data(data, datlen)) or 0)


def evbuffer_add_buffer(outbuf: Evbuffer, inbuf: Evbuffer) -> int:
    """evbuffer_add_buffer(): move all of inbuf to the end of outbuf; 0 or -1."""
    return _call("evbuffer_add_buffer",
                 lambda: _buf(outbuf, "outbuf").add_buffer(_buf(inbuf, "inbuf")) or 0)


def evbuffer_add_reference(outbuf: Evbuffer, data: ReadableBuffer, datlen: int | None = None,
                           cleanupfn: Callable[[ReadableBuffer, int, Any], object] | None = None,
                           cleanupfn_arg: Any = None) -> int:
    """evbuffer_add_reference(): append data without copying; cleanupfn(data, datlen, arg)."""
    def add() -> int:
        b = _buf(outbuf, "outbuf")
        ref = _data(data, datlen)
        n = memoryview(ref).nbytes
        if cleanupfn is not None and not callable(cleanupfn):
            raise TypeError(f"cleanupfn must be callable or None, not {type(cleanupfn).__name__}")
        cleanup = None
        if cleanupfn is not None:
            cleanup = _UserCallback(lambda _d, arg: cleanupfn(data, n, arg))
        b.add_reference(ref, cleanup, cleanupfn_arg)
        return 0
    return _call("evbuffer_add_reference", add)


def evbuffer_add_printf(buf: Evbuffer, fmt: str | bytes, *args: Any) -> int:
    """evbuffer_add_printf(): append fmt % args (Python formatting); bytes added or -1."""
    return _call("evbuffer_add_printf", lambda: _buf(buf).add_printf(fmt, *args))


def evbuffer_add_iovec(buf: Evbuffer, vec: Iterable[ReadableBuffer],
                       n_vec: int | None = None) -> int:
    """evbuffer_add_iovec(): append the first n_vec (None: all) bytes-likes of vec; bytes or -1."""
    def add() -> int:
        b = _buf(buf)
        items = list(vec)
        if n_vec is not None:
            n = _int(n_vec, "n_vec")
            if n < 0 or n > len(items):
                raise ValueError(f"n_vec must be in 0..{len(items)}, got {n}")
            items = items[:n]
        return b.add_iovec(items)
    return _call("evbuffer_add_iovec", add)


def evbuffer_prepend(buf: Evbuffer, data: ReadableBuffer, size: int | None = None) -> int:
    """evbuffer_prepend(): insert a copy of data (size bytes if given) at the front; 0 or -1."""
    return _call("evbuffer_prepend", lambda: _buf(buf).prepend(_data(data, size)) or 0)


def evbuffer_prepend_buffer(dst: Evbuffer, src: Evbuffer) -> int:
    """evbuffer_prepend_buffer(): move all of src to the front of dst; 0 or -1."""
    return _call("evbuffer_prepend_buffer",
                 lambda: _buf(dst, "dst").prepend_buffer(_buf(src, "src")) or 0)


# -- taking out -----------------------------------------------------------------------

def evbuffer_remove(buf: Evbuffer, datlen: int) -> bytes | None:
    """evbuffer_remove(): up to datlen bytes taken from the front (b'' if empty), or None."""
    return _call("evbuffer_remove", lambda: _buf(buf).remove(_int(datlen, "datlen")),
                 error=None)


def evbuffer_remove_buffer(src: Evbuffer, dst: Evbuffer, datlen: int) -> int:
    """evbuffer_remove_buffer(): move up to datlen bytes from src to dst; the count or -1."""
    return _call("evbuffer_remove_buffer",
                 lambda: _buf(src, "src").remove_buffer(_buf(dst, "dst"),
                                                       _int(datlen, "datlen")))


def evbuffer_copyout(buf: Evbuffer, datlen: int) -> bytes | None:
    """evbuffer_copyout(): up to datlen bytes from the front, not drained (bytes), or None."""
    return _call("evbuffer_copyout", lambda: _buf(buf).copyout(_int(datlen, "datlen")),
                 error=None)


def evbuffer_drain(buf: Evbuffer, len: int) -> int:
    """evbuffer_drain(): discard up to len bytes from the front; 0 or -1."""
    return _call("evbuffer_drain", lambda: _buf(buf).drain(_int(len, "len")) or 0)


def evbuffer_pullup(buf: Evbuffer, size: int) -> memoryview | None:
    """evbuffer_pullup(): the first size bytes (-1: all) made contiguous (a memoryview), or None."""
    return _call("evbuffer_pullup", lambda: _buf(buf).pullup(_int(size, "size")), error=None)


def evbuffer_readln(buffer: Evbuffer, eol_style: int) -> bytes | None:
    """evbuffer_readln(): the next line without its end of line, or None (n_read_out is len())."""
    return _call("evbuffer_readln",
                 lambda: _buf(buffer, "buffer").readln(_int(eol_style, "eol_style")),
                 error=None)


def evbuffer_readline(buffer: Evbuffer) -> bytes | None:
    """evbuffer_readline() (buffer_compat.h): evbuffer_readln(buffer, EVBUFFER_EOL_ANY)."""
    return _call("evbuffer_readline",
                 lambda: _buf(buffer, "buffer").readln(EVBUFFER_EOL_ANY), error=None)


# -- searching --------------------------------------------------------------------------

def _pos(p: object, name: str) -> EvbufferPtr | None:
    """A ``const struct evbuffer_ptr *`` argument: None or an EvbufferPtr."""
    if p is not None and not isinstance(p, EvbufferPtr):
        raise TypeError(f"{name} must be an evbuffer_ptr or None, not {type(p).__name__}")
    return p


def evbuffer_search(buffer: Evbuffer, what: ReadableBuffer, len: int | None = None,
                    start: EvbufferPtr | None = None) -> EvbufferPtr:
    """evbuffer_search(): an evbuffer_ptr to the first match at or after start; pos -1 if none."""
    return _call("evbuffer_search",
                 lambda: _buf(buffer, "buffer").search(_data(what, len, "what"),
                                                      _pos(start, "start")),
                 error=EvbufferPtr())


def evbuffer_search_range(buffer: Evbuffer, what: ReadableBuffer, len: int | None = None,
                          start: EvbufferPtr | None = None,
                          end: EvbufferPtr | None = None) -> EvbufferPtr:
    """evbuffer_search_range(): as evbuffer_search, the match ending at or before end."""
    return _call("evbuffer_search_range",
                 lambda: _buf(buffer, "buffer").search_range(_data(what, len, "what"),
                                                            _pos(start, "start"),
                                                            _pos(end, "end")),
                 error=EvbufferPtr())


def evbuffer_search_eol(buffer: Evbuffer, start: EvbufferPtr | None = None,
                        eol_style: int = EVBUFFER_EOL_ANY) -> tuple[EvbufferPtr, int]:
    """evbuffer_search_eol(): (evbuffer_ptr to the next end of line, its length eol_len_out)."""
    return _call("evbuffer_search_eol",
                 lambda: _buf(buffer, "buffer").search_eol(
                     _pos(start, "start"), _int(eol_style, "eol_style")),
                 error=(EvbufferPtr(), 0))


def evbuffer_ptr_set(buffer: Evbuffer, ptr: EvbufferPtr, position: int, how: int) -> int:
    """evbuffer_ptr_set(): move ptr to position (EVBUFFER_PTR_SET) or by it (_ADD); 0 or -1."""
    return _call("evbuffer_ptr_set",
                 lambda: _buf(buffer, "buffer").ptr_set(ptr, _int(position, "position"),
                                                       _int(how, "how")) or 0)


# -- zero-copy access ---------------------------------------------------------------------

def evbuffer_peek(buffer: Evbuffer, len: int = -1, start_at: EvbufferPtr | None = None,
                  n_vec: int | None = None) -> tuple[int, list[memoryview] | None]:
    """evbuffer_peek(): (extents needed, read-only memoryviews, at most n_vec) or (-1, None)."""
    def peek() -> tuple[int, list[memoryview]]:
        views = _buf(buffer, "buffer").peek(_int(len, "len"), _pos(start_at, "start_at"))
        if n_vec is None:
            return _len(views), views
        n = _int(n_vec, "n_vec")
        if n < 0:
            raise ValueError(f"n_vec must be >= 0, got {n}")
        return _len(views), views[:n]
    return _call("evbuffer_peek", peek, error=(-1, None))


def evbuffer_reserve_space(buf: Evbuffer, size: int,
                           n_vecs: int = 1) -> tuple[int, list[memoryview] | None]:
    """evbuffer_reserve_space(): (vectors used, writable memoryviews) or (-1, None)."""
    def reserve() -> tuple[int, list[memoryview]]:
        views = _buf(buf).reserve_space(_int(size, "size"), _int(n_vecs, "n_vecs"))
        return _len(views), views
    return _call("evbuffer_reserve_space", reserve, error=(-1, None))


def evbuffer_commit_space(buf: Evbuffer, vec: Iterable[memoryview | int],
                          n_vecs: int | None = None) -> int:
    """evbuffer_commit_space(): vec holds the reserved views (sliced) or byte counts; 0 or -1."""
    def commit() -> int:
        b = _buf(buf)
        if isinstance(vec, (bytes, bytearray, memoryview, str)) or not hasattr(vec, "__iter__"):
            raise TypeError(f"vec must be a list of memoryviews or ints, not {type(vec).__name__}")
        items = list(vec)
        if n_vecs is not None:
            n = _int(n_vecs, "n_vecs")
            if n < 0 or n > _len(items):
                raise ValueError(f"n_vecs must be in 0..{_len(items)}, got {n}")
            items = items[:n]
        total = 0
        for item in items:
            total += item.nbytes if isinstance(item, memoryview) else _int(item, "vec[i]")
        b.commit_space(total)
        return 0
    return _call("evbuffer_commit_space", commit)


# -- I/O --------------------------------------------------------------------------------------

def evbuffer_read(buffer: Evbuffer, fd: FileDescriptorLike, howmuch: int) -> int:
    """evbuffer_read(): one read of at most howmuch (-1: what is there) bytes; count, 0 EOF, -1."""
    return _call("evbuffer_read",
                 lambda: _buf(buffer, "buffer").read(fd, _int(howmuch, "howmuch")))


def evbuffer_write(buffer: Evbuffer, fd: FileDescriptorLike) -> int:
    """evbuffer_write(): write as much as one writev() takes, draining it; count or -1."""
    return _call("evbuffer_write", lambda: _buf(buffer, "buffer").write(fd))


def evbuffer_write_atmost(buffer: Evbuffer, fd: FileDescriptorLike, howmuch: int) -> int:
    """evbuffer_write_atmost(): write at most howmuch (-1: all) bytes; count or -1."""
    return _call("evbuffer_write_atmost",
                 lambda: _buf(buffer, "buffer").write_atmost(fd, _int(howmuch, "howmuch")))


# -- callbacks and freezing -------------------------------------------------------------------

def evbuffer_add_cb(buffer: Evbuffer, cb: EvbufferCb, cbarg: Any) -> EvbufferCbEntry | None:
    """evbuffer_add_cb(): call cb(buffer, info, cbarg) after changes; the entry, or None."""
    def add() -> EvbufferCbEntry:
        if cb is None:
            raise TypeError("cb must be callable, not None")
        return _buf(buffer, "buffer").add_cb(_wrap(cb, "cb"), cbarg)
    return _call("evbuffer_add_cb", add, error=None)


def _entry(ent: object) -> EvbufferCbEntry:
    if not isinstance(ent, EvbufferCbEntry):
        raise TypeError(f"ent must be an evbuffer_cb_entry, not {type(ent).__name__}")
    return ent


def evbuffer_remove_cb_entry(buffer: Evbuffer, ent: EvbufferCbEntry) -> int:
    """evbuffer_remove_cb_entry(): remove a callback by the entry add_cb returned; 0 or -1."""
    return _call("evbuffer_remove_cb_entry",
                 lambda: _buf(buffer, "buffer").remove_cb_entry(_entry(ent)) or 0)


def evbuffer_remove_cb(buffer: Evbuffer, cb: EvbufferCb, cbarg: Any) -> int:
    """evbuffer_remove_cb(): remove the callback added with cb and cbarg; 0 or -1."""
    return _call("evbuffer_remove_cb",
                 lambda: _buf(buffer, "buffer").remove_cb(_UserCallback(cb), cbarg) or 0)


def evbuffer_cb_set_flags(buffer: Evbuffer, cb: EvbufferCbEntry, flags: int) -> int:
    """evbuffer_cb_set_flags(): set EVBUFFER_CB_ENABLED on the entry cb; 0 or -1."""
    return _call("evbuffer_cb_set_flags",
                 lambda: _buf(buffer, "buffer").cb_set_flags(_entry(cb), _int(flags, "flags"))
                 or 0)


def evbuffer_cb_clear_flags(buffer: Evbuffer, cb: EvbufferCbEntry, flags: int) -> int:
    """evbuffer_cb_clear_flags(): clear EVBUFFER_CB_ENABLED on the entry cb; 0 or -1."""
    return _call("evbuffer_cb_clear_flags",
                 lambda: _buf(buffer, "buffer").cb_clear_flags(_entry(cb), _int(flags, "flags"))
                 or 0)


def evbuffer_freeze(buf: Evbuffer, at_front: int) -> int:
    """evbuffer_freeze(): refuse changes at the front (at_front) or the back; 0 or -1."""
    return _call("evbuffer_freeze",
                 lambda: _buf(buf).freeze(bool(_int(at_front, "at_front"))) or 0)


def evbuffer_unfreeze(buf: Evbuffer, at_front: int) -> int:
    """evbuffer_unfreeze(): undo evbuffer_freeze(buf, at_front); 0 or -1."""
    return _call("evbuffer_unfreeze",
                 lambda: _buf(buf).unfreeze(bool(_int(at_front, "at_front"))) or 0)


def evbuffer_defer_callbacks(buffer: Evbuffer, base: EventBase) -> int:
    """evbuffer_defer_callbacks(): run buffer's callbacks from base's loop; 0 or -1."""
    def defer() -> int:
        if not isinstance(base, EventBase):
            raise TypeError(f"base must be an EventBase, not {type(base).__name__}")
        _buf(buffer, "buffer").defer_callbacks(base)
        return 0
    return _call("evbuffer_defer_callbacks", defer)
