"""ctypes bindings to the real libevent 2.1's evbuffer, bufferevent and
evconnlistener (tests only).

The buffer differential tests (``tests/core/test_differential_buffer.py``)
run the same operations on libevent and on evloop and compare the results.
This module is the libevent side.  It builds on ``libevent_ctypes``: the
library is the one :func:`libevent_ctypes.load` opens
(``libevent_core-2.1.so.7``, which in 2.1 holds buffer.c, bufferevent*.c
and listener.c as well as the event core), and :class:`BufferBase` is a
``libevent_ctypes.Base`` that also owns bufferevents and listeners.

It is not part of evloop and must never be imported by it.

Lifetime rules (on top of libevent_ctypes'):

* every CFUNCTYPE trampoline stays referenced until its owner is freed
  (evbuffer callbacks by their :class:`Evbuffer`, bufferevent and listener
  callbacks by the :class:`BufferBase`);
* bufferevents and listeners are freed before ``event_base_free``
  (``BufferBase.free`` does that): bufferevent_free only schedules the
  destruction as a finalizer, which event_base_free then runs;
* an exception escaping a callback is trapped: for bufferevents and
  listeners ``event_base_loopbreak`` is called and ``loop()`` re-raises it
  (as for plain events); for an evbuffer callback the operation that ran
  the callback re-raises it.

If the library cannot be loaded or lacks a symbol, :func:`load` raises
``LibeventUnavailable`` with the reason; the tests turn that into a skip.
"""
import ctypes
import ctypes.util
import socket
import struct

try:  # tests/core may or may not be a package
    from . import libevent_ctypes as lev
except ImportError:
    import libevent_ctypes as lev

LibeventUnavailable = lev.LibeventUnavailable
Timeval = lev.Timeval
timeval = lev.timeval
EV_READ = lev.EV_READ
EV_WRITE = lev.EV_WRITE
EVLOOP_ONCE = lev.EVLOOP_ONCE
EVLOOP_NONBLOCK = lev.EVLOOP_NONBLOCK

__all__ = [
    "LibeventUnavailable", "load", "Evbuffer", "EvbufferPtr", "CbInfo",
    "BufferBase", "Bufferevent", "Listener", "sockaddr",
    "EVBUFFER_EOL_ANY", "EVBUFFER_EOL_CRLF", "EVBUFFER_EOL_CRLF_STRICT",
    "EVBUFFER_EOL_LF", "EVBUFFER_EOL_NUL", "EVBUFFER_PTR_SET", "EVBUFFER_PTR_ADD",
    "BEV_EVENT_READING", "BEV_EVENT_WRITING", "BEV_EVENT_EOF", "BEV_EVENT_ERROR",
    "BEV_EVENT_TIMEOUT", "BEV_EVENT_CONNECTED", "BEV_OPT_CLOSE_ON_FREE",
    "BEV_OPT_THREADSAFE", "BEV_OPT_DEFER_CALLBACKS", "BEV_OPT_UNLOCK_CALLBACKS",
    "BEV_NORMAL", "BEV_FLUSH", "BEV_FINISHED", "BEV_TRIG_IGNORE_WATERMARKS",
    "BEV_TRIG_DEFER_CALLBACKS", "LEV_OPT_CLOSE_ON_FREE", "LEV_OPT_REUSEABLE",
]

# include/event2/buffer.h
EVBUFFER_EOL_ANY = 0
EVBUFFER_EOL_CRLF = 1
EVBUFFER_EOL_CRLF_STRICT = 2
EVBUFFER_EOL_LF = 3
EVBUFFER_EOL_NUL = 4
EVBUFFER_PTR_SET = 0
EVBUFFER_PTR_ADD = 1
EVBUFFER_CB_ENABLED = 1

# include/event2/bufferevent.h
BEV_EVENT_READING = 0x01
BEV_EVENT_WRITING = 0x02
BEV_EVENT_EOF = 0x10
BEV_EVENT_ERROR = 0x20
BEV_EVENT_TIMEOUT = 0x40
BEV_EVENT_CONNECTED = 0x80
BEV_OPT_CLOSE_ON_FREE = 0x01
BEV_OPT_THREADSAFE = 0x02
BEV_OPT_DEFER_CALLBACKS = 0x04
BEV_OPT_UNLOCK_CALLBACKS = 0x08
BEV_NORMAL = 0
BEV_FLUSH = 1
BEV_FINISHED = 2
BEV_TRIG_IGNORE_WATERMARKS = 0x10000
BEV_TRIG_DEFER_CALLBACKS = BEV_OPT_DEFER_CALLBACKS

# include/event2/listener.h
LEV_OPT_LEAVE_SOCKETS_BLOCKING = 1 << 0
LEV_OPT_CLOSE_ON_FREE = 1 << 1
LEV_OPT_CLOSE_ON_EXEC = 1 << 2
LEV_OPT_REUSEABLE = 1 << 3


class EvbufferPtr(ctypes.Structure):
    """struct evbuffer_ptr: ev_ssize_t pos, then libevent-internal fields."""

    class _Internal(ctypes.Structure):
        _fields_ = [("chain", ctypes.c_void_p), ("pos_in_chain", ctypes.c_size_t)]

    _fields_ = [("pos", ctypes.c_ssize_t), ("internal_", _Internal)]

    def __repr__(self):
        return f"EvbufferPtr(pos={self.pos})"


class CbInfo(ctypes.Structure):
    """struct evbuffer_cb_info."""
    _fields_ = [("orig_size", ctypes.c_size_t), ("n_added", ctypes.c_size_t),
                ("n_deleted", ctypes.c_size_t)]


# void (*evbuffer_cb_func)(struct evbuffer *, const struct evbuffer_cb_info *, void *)
evbuffer_cb_func = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(CbInfo), ctypes.c_void_p)
# void (*bufferevent_data_cb)(struct bufferevent *, void *)
bufferevent_data_cb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
# void (*bufferevent_event_cb)(struct bufferevent *, short what, void *)
bufferevent_event_cb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_short, ctypes.c_void_p)
# void (*evconnlistener_cb)(struct evconnlistener *, evutil_socket_t,
#                           struct sockaddr *, int socklen, void *)
evconnlistener_cb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
                                     ctypes.c_int, ctypes.c_void_p)

_vp = ctypes.c_void_p
_int = ctypes.c_int
_short = ctypes.c_short
_size = ctypes.c_size_t
_ssize = ctypes.c_ssize_t
_ptrp = ctypes.POINTER(EvbufferPtr)
_tvp = ctypes.POINTER(Timeval)

_SIGNATURES = {
    "evbuffer_new": (_vp, []),
    "evbuffer_free": (None, [_vp]),
    "evbuffer_get_length": (_size, [_vp]),
    "evbuffer_add": (_int, [_vp, ctypes.c_char_p, _size]),
    "evbuffer_add_buffer": (_int, [_vp, _vp]),
    "evbuffer_prepend": (_int, [_vp, ctypes.c_char_p, _size]),
    "evbuffer_remove": (_int, [_vp, _vp, _size]),
    "evbuffer_remove_buffer": (_int, [_vp, _vp, _size]),
    "evbuffer_copyout": (_ssize, [_vp, _vp, _size]),
    "evbuffer_drain": (_int, [_vp, _size]),
    "evbuffer_pullup": (_vp, [_vp, _ssize]),
    "evbuffer_readln": (_vp, [_vp, ctypes.POINTER(_size), _int]),
    "evbuffer_search": (EvbufferPtr, [_vp, ctypes.c_char_p, _size, _ptrp]),
    "evbuffer_search_range": (EvbufferPtr, [_vp, ctypes.c_char_p, _size, _ptrp, _ptrp]),
    "evbuffer_search_eol": (EvbufferPtr, [_vp, _ptrp, ctypes.POINTER(_size), _int]),
    "evbuffer_ptr_set": (_int, [_vp, _ptrp, _size, _int]),
    "evbuffer_add_cb": (_vp, [_vp, evbuffer_cb_func, _vp]),
    "evbuffer_remove_cb_entry": (_int, [_vp, _vp]),
    "evbuffer_freeze": (_int, [_vp, _int]),
    "evbuffer_unfreeze": (_int, [_vp, _int]),
    "bufferevent_socket_new": (_vp, [_vp, _int, _int]),
    "bufferevent_free": (None, [_vp]),
    "bufferevent_setcb": (None, [_vp, bufferevent_data_cb, bufferevent_data_cb,
                                 bufferevent_event_cb, _vp]),
    "bufferevent_enable": (_int, [_vp, _short]),
    "bufferevent_disable": (_int, [_vp, _short]),
    "bufferevent_get_enabled": (_short, [_vp]),
    "bufferevent_write": (_int, [_vp, ctypes.c_char_p, _size]),
    "bufferevent_read": (_size, [_vp, _vp, _size]),
    "bufferevent_get_input": (_vp, [_vp]),
    "bufferevent_get_output": (_vp, [_vp]),
    "bufferevent_setwatermark": (None, [_vp, _short, _size, _size]),
    "bufferevent_set_timeouts": (_int, [_vp, _tvp, _tvp]),
    "bufferevent_socket_connect": (_int, [_vp, _vp, _int]),
    "bufferevent_flush": (_int, [_vp, _short, _int]),
    "bufferevent_trigger": (None, [_vp, _short, _int]),
    "bufferevent_trigger_event": (None, [_vp, _short, _int]),
    "bufferevent_pair_new": (_int, [_vp, _int, ctypes.POINTER(_vp)]),
    "bufferevent_pair_get_partner": (_vp, [_vp]),
    "evconnlistener_new_bind": (_vp, [_vp, evconnlistener_cb, _vp, ctypes.c_uint, _int,
                                      _vp, _int]),
    "evconnlistener_free": (None, [_vp]),
    "evconnlistener_get_fd": (_int, [_vp]),
}

_lib = None
_libc_free = None
_error = None


def load():
    """The libevent library with the buffer symbols typed (cached), or
    raise LibeventUnavailable."""
    global _lib, _libc_free, _error
    if _lib is not None:
        return _lib
    if _error is not None:
        raise LibeventUnavailable(_error)
    lib = lev.load()   # raises LibeventUnavailable itself
    try:
        for sym, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(lib, sym)
            fn.restype = restype
            fn.argtypes = argtypes
    except AttributeError as exc:
        _error = f"libevent lacks a buffer/bufferevent/listener symbol: {exc}"
        raise LibeventUnavailable(_error) from None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _libc_free = libc.free
    _libc_free.restype = None
    _libc_free.argtypes = [_vp]
    _lib = lib
    return lib


def sockaddr(address):
    """(host, port) for IPv4 -> (a ctypes buffer holding a struct
    sockaddr_in, its length)."""
    host, port = address
    raw = (struct.pack("=H", socket.AF_INET) + struct.pack("!H", port)
           + socket.inet_aton(host) + bytes(8))
    return ctypes.create_string_buffer(raw, len(raw)), len(raw)


def _ptr_arg(p):
    """None -> NULL; an EvbufferPtr -> a pointer to it."""
    return None if p is None else ctypes.byref(p)


class Evbuffer:
    """One libevent ``struct evbuffer``, with Python-level results:
    functions that return 0/-1 in C return 0/-1 here too; data comes back
    as bytes (None where C returns NULL)."""

    def __init__(self):
        self.lib = load()
        self.ptr = self.lib.evbuffer_new()
        if not self.ptr:
            raise MemoryError("evbuffer_new")
        self._trampolines = []
        self._error = None

    # -- callbacks ----------------------------------------------------------
    def add_cb(self, fn):
        """evbuffer_add_cb; ``fn(orig_size, n_added, n_deleted)``.  Returns
        the entry (a void *)."""
        def tramp(_buf, info, _arg):
            if self._error is not None:
                return
            try:
                i = info.contents
                fn(i.orig_size, i.n_added, i.n_deleted)
            except BaseException as exc:  # noqa: BLE001 - re-raised by _check()
                self._error = exc
        cb = evbuffer_cb_func(tramp)
        self._trampolines.append(cb)
        entry = self.lib.evbuffer_add_cb(self.ptr, cb, None)
        if not entry:
            raise MemoryError("evbuffer_add_cb")
        return entry

    def remove_cb_entry(self, entry):
        return self.lib.evbuffer_remove_cb_entry(self.ptr, entry)

    def _check(self, result):
        if self._error is not None:
            err, self._error = self._error, None
            raise err
        return result

    # -- operations ---------------------------------------------------------
    def get_length(self):
        return self.lib.evbuffer_get_length(self.ptr)

    __len__ = get_length

    def add(self, data):
        return self._check(self.lib.evbuffer_add(self.ptr, data, len(data)))

    def prepend(self, data):
        return self._check(self.lib.evbuffer_prepend(self.ptr, data, len(data)))

    def add_buffer(self, other):
        """evbuffer_add_buffer(self, other): move all of other to our end."""
        rv = self.lib.evbuffer_add_buffer(self.ptr, other.ptr)
        other._check(None)
        return self._check(rv)

    def remove(self, n):
        """evbuffer_remove: (return value, the bytes copied out)."""
        out = ctypes.create_string_buffer(max(n, 1))
        rv = self.lib.evbuffer_remove(self.ptr, out, n)
        return self._check((rv, out.raw[:max(rv, 0)]))

    def remove_buffer(self, dst, n):
        rv = self.lib.evbuffer_remove_buffer(self.ptr, dst.ptr, n)
        dst._check(None)
        return self._check(rv)

    def copyout(self, n):
        """evbuffer_copyout: (return value, the bytes)."""
        out = ctypes.create_string_buffer(max(n, 1))
        rv = self.lib.evbuffer_copyout(self.ptr, out, n)
        return self._check((rv, out.raw[:max(rv, 0)]))

    def drain(self, n):
        return self._check(self.lib.evbuffer_drain(self.ptr, n))

    def pullup(self, n):
        """evbuffer_pullup: the bytes at the pointer (n of them, or all for
        -1), or None for NULL."""
        want = self.get_length() if n < 0 else n
        p = self.lib.evbuffer_pullup(self.ptr, n)
        self._check(None)
        if not p:
            return None
        return ctypes.string_at(p, want)

    def readln(self, style):
        """evbuffer_readln: the line (bytes, read with n_read_out so NULs
        inside it survive), or None; the C string is freed here."""
        n = ctypes.c_size_t(0)
        p = self.lib.evbuffer_readln(self.ptr, ctypes.byref(n), style)
        try:
            self._check(None)
        finally:
            if p:
                line = ctypes.string_at(p, n.value)
                _libc_free(p)
        return line if p else None

    def search(self, what, start=None):
        return self.lib.evbuffer_search(self.ptr, what, len(what), _ptr_arg(start))

    def search_range(self, what, start=None, end=None):
        return self.lib.evbuffer_search_range(self.ptr, what, len(what),
                                              _ptr_arg(start), _ptr_arg(end))

    def search_eol(self, start=None, style=EVBUFFER_EOL_ANY):
        """evbuffer_search_eol: (EvbufferPtr, eol_len)."""
        n = ctypes.c_size_t(0)
        p = self.lib.evbuffer_search_eol(self.ptr, _ptr_arg(start), ctypes.byref(n), style)
        return p, n.value

    def ptr_set(self, ptr, position, how):
        return self.lib.evbuffer_ptr_set(self.ptr, ctypes.byref(ptr), position, how)

    def freeze(self, at_front):
        return self.lib.evbuffer_freeze(self.ptr, int(bool(at_front)))

    def unfreeze(self, at_front):
        return self.lib.evbuffer_unfreeze(self.ptr, int(bool(at_front)))

    def contents(self):
        n = self.get_length()
        return self.copyout(n)[1] if n else b""

    def free(self):
        """evbuffer_free (idempotent); callbacks are dropped without
        running."""
        if self.ptr:
            self.lib.evbuffer_free(self.ptr)
            self.ptr = None
        self._trampolines.clear()


class _BorrowedEvbuffer(Evbuffer):
    """A bufferevent's input or output: not ours to free."""

    def __init__(self, ptr):
        self.lib = load()
        self.ptr = ptr
        self._trampolines = []
        self._error = None

    def free(self):  # pragma: no cover - defensive
        raise RuntimeError("a bufferevent's evbuffer is freed with the bufferevent")


class Bufferevent:
    """One libevent ``struct bufferevent`` (socket or pair end).  Callbacks
    given to setcb() get this object: readcb(bev), writecb(bev),
    eventcb(bev, what)."""

    def __init__(self, base, ptr):
        self.base = base
        self.lib = base.lib
        self.ptr = ptr

    @property
    def freed(self):
        return self.ptr is None

    def setcb(self, readcb, writecb, eventcb):
        base = self.base

        def guard(fn, *args):
            if base._error is not None:
                return
            try:
                fn(self, *args)
            except BaseException as exc:  # noqa: BLE001 - re-raised by loop()
                base._error = exc
                base.lib.event_base_loopbreak(base.ptr)

        r = bufferevent_data_cb(lambda _b, _a: guard(readcb)) if readcb else bufferevent_data_cb()
        w = bufferevent_data_cb(lambda _b, _a: guard(writecb)) if writecb else bufferevent_data_cb()
        e = (bufferevent_event_cb(lambda _b, what, _a: guard(eventcb, what & 0xFFFF))
             if eventcb else bufferevent_event_cb())
        base._trampolines += [r, w, e]
        self.lib.bufferevent_setcb(self.ptr, r, w, e, None)

    def enable(self, what):
        return self.lib.bufferevent_enable(self.ptr, what)

    def disable(self, what):
        return self.lib.bufferevent_disable(self.ptr, what)

    def get_enabled(self):
        return self.lib.bufferevent_get_enabled(self.ptr) & 0xFFFF

    def write(self, data):
        return self.lib.bufferevent_write(self.ptr, data, len(data))

    def read(self, n):
        out = ctypes.create_string_buffer(max(n, 1))
        got = self.lib.bufferevent_read(self.ptr, out, n)
        return out.raw[:got]

    def get_input(self):
        return _BorrowedEvbuffer(self.lib.bufferevent_get_input(self.ptr))

    def get_output(self):
        return _BorrowedEvbuffer(self.lib.bufferevent_get_output(self.ptr))

    def input_length(self):
        return self.lib.evbuffer_get_length(self.lib.bufferevent_get_input(self.ptr))

    def output_length(self):
        return self.lib.evbuffer_get_length(self.lib.bufferevent_get_output(self.ptr))

    def setwatermark(self, events, low, high):
        self.lib.bufferevent_setwatermark(self.ptr, events, low, high)

    def set_timeouts(self, timeout_read=None, timeout_write=None):
        r = timeval(timeout_read)
        w = timeval(timeout_write)
        return self.lib.bufferevent_set_timeouts(
            self.ptr, None if r is None else ctypes.byref(r),
            None if w is None else ctypes.byref(w))

    def socket_connect(self, address):
        sa, salen = sockaddr(address)
        return self.lib.bufferevent_socket_connect(self.ptr, sa, salen)

    def flush(self, iotype, mode):
        return self.lib.bufferevent_flush(self.ptr, iotype, mode)

    def trigger(self, iotype, options=0):
        self.lib.bufferevent_trigger(self.ptr, iotype, options)

    def trigger_event(self, what, options=0):
        self.lib.bufferevent_trigger_event(self.ptr, what, options)

    def get_partner(self):
        """bufferevent_pair_get_partner: the partner's Bufferevent object
        (found among the base's), or None."""
        p = self.lib.bufferevent_pair_get_partner(self.ptr)
        if not p:
            return None
        for b in self.base._bevs:
            if b.ptr == p:
                return b
        raise AssertionError(f"partner {p:#x} is not a bufferevent of this base")

    def free(self):
        """bufferevent_free (idempotent)."""
        if self.ptr is not None:
            self.lib.bufferevent_free(self.ptr)
            self.ptr = None


class Listener:
    """One ``struct evconnlistener``."""

    def __init__(self, base, ptr):
        self.base = base
        self.ptr = ptr

    def get_fd(self):
        return self.base.lib.evconnlistener_get_fd(self.ptr)

    def address(self):
        """getsockname() of the listening socket."""
        s = socket.socket(fileno=self.get_fd())
        try:
            return s.getsockname()
        finally:
            s.detach()

    def free(self):
        if self.ptr is not None:
            self.base.lib.evconnlistener_free(self.ptr)
            self.ptr = None


class BufferBase(lev.Base):
    """A ``libevent_ctypes.Base`` that also makes bufferevents and
    listeners, and frees them before the base."""

    def __init__(self, method, flags=lev.EVENT_BASE_FLAG_IGNORE_ENV, max_dispatch=None):
        load()
        super().__init__(method, flags, max_dispatch)
        self._bevs = []
        self._listeners = []

    def bufferevent_socket_new(self, fd, options=0):
        if hasattr(fd, "fileno"):
            fd = fd.fileno()
        p = self.lib.bufferevent_socket_new(self.ptr, fd, options)
        if not p:
            raise OSError(f"bufferevent_socket_new(fd={fd}, options={options:#x}) failed")
        bev = Bufferevent(self, p)
        self._bevs.append(bev)
        return bev

    def bufferevent_pair_new(self, options=0):
        pair = (ctypes.c_void_p * 2)()
        if self.lib.bufferevent_pair_new(self.ptr, options, pair) != 0:
            raise OSError(f"bufferevent_pair_new(options={options:#x}) failed")
        a, b = Bufferevent(self, pair[0]), Bufferevent(self, pair[1])
        self._bevs += [a, b]
        return a, b

    def listener_new_bind(self, fn, flags, backlog, address):
        """evconnlistener_new_bind on an IPv4 (host, port); ``fn(fd)`` for
        each accepted connection (the fd is the callback's to close)."""
        def tramp(_lst, fd, _sa, _salen, _arg):
            if self._error is not None:
                return
            try:
                fn(fd)
            except BaseException as exc:  # noqa: BLE001 - re-raised by loop()
                self._error = exc
                self.lib.event_base_loopbreak(self.ptr)
        cb = evconnlistener_cb(tramp)
        self._trampolines.append(cb)
        sa, salen = sockaddr(address)
        p = self.lib.evconnlistener_new_bind(self.ptr, cb, None, flags, backlog, sa, salen)
        if not p:
            raise OSError(f"evconnlistener_new_bind({address!r}) failed")
        lst = Listener(self, p)
        self._listeners.append(lst)
        return lst

    def free(self):
        if self.ptr is None:
            return
        for lst in self._listeners:
            lst.free()
        for bev in self._bevs:
            bev.free()
        self._listeners.clear()
        self._bevs.clear()
        super().free()
