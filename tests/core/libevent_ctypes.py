"""A minimal ctypes binding to the real libevent 2.1 (tests only).

The differential tests (``tests/core/test_differential.py``) run one
scenario on the real libevent and on evloop and compare what happened.  This
module is the real-libevent side: ``libevent_core-2.1.so.7`` (Debian's
``libevent-2.1-7``, installed by ``make test``) loaded with ctypes, plus a
thin ``Base`` object that owns an ``event_base`` and every ctypes callback
trampoline handed to it.

It is not part of evloop and must never be imported by it.

Lifetime rules, all of which matter for not crashing the interpreter:

* a ``CFUNCTYPE`` object must stay referenced for as long as libevent may
  call it, so ``Base`` keeps every trampoline it created until ``free()``;
* ``event_free`` dereferences the event's base, so every event is freed
  before ``event_base_free`` (``Base.free`` does that in the right order);
* an exception escaping a ctypes callback is only printed ("Exception
  ignored on calling ctypes callback function") and would vanish, so
  ``Base`` traps it, calls ``event_base_loopbreak`` and re-raises it from
  ``loop()``.

If the library cannot be found or lacks a symbol, :func:`load` raises
:class:`LibeventUnavailable` with the reason; the tests turn that into a
skip.
"""
import ctypes
import ctypes.util

__all__ = [
    "LibeventUnavailable", "load", "Base", "Timeval", "event_callback_fn",
    "EV_TIMEOUT", "EV_READ", "EV_WRITE", "EV_SIGNAL", "EV_PERSIST", "EV_ET",
    "EV_FINALIZE", "EV_CLOSED", "EVLOOP_ONCE", "EVLOOP_NONBLOCK",
    "EVLOOP_NO_EXIT_ON_EMPTY", "EVENT_BASE_FLAG_IGNORE_ENV",
    "EVENT_BASE_FLAG_PRECISE_TIMER",
]

# event.h values (libevent 2.1.12).
EV_TIMEOUT = 0x01
EV_READ = 0x02
EV_WRITE = 0x04
EV_SIGNAL = 0x08
EV_PERSIST = 0x10
EV_ET = 0x20
EV_FINALIZE = 0x40
EV_CLOSED = 0x80
EVLOOP_ONCE = 0x01
EVLOOP_NONBLOCK = 0x02
EVLOOP_NO_EXIT_ON_EMPTY = 0x04
EVENT_BASE_FLAG_IGNORE_ENV = 0x02
EVENT_BASE_FLAG_PRECISE_TIMER = 0x20

SONAMES = ("libevent_core-2.1.so.7", "libevent-2.1.so.7")


class LibeventUnavailable(Exception):
    """The real libevent 2.1 could not be loaded (the message says why)."""


class Timeval(ctypes.Structure):
    """struct timeval on Linux: two C longs (time_t, suseconds_t)."""
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


# void (*event_callback_fn)(evutil_socket_t fd, short what, void *arg)
event_callback_fn = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_short, ctypes.c_void_p)

_vp = ctypes.c_void_p
_int = ctypes.c_int
_short = ctypes.c_short
_tvp = ctypes.POINTER(Timeval)

# name: (restype, argtypes)
_SIGNATURES = {
    "event_get_version": (ctypes.c_char_p, []),
    "event_get_version_number": (ctypes.c_uint32, []),
    "event_get_supported_methods": (ctypes.POINTER(ctypes.c_char_p), []),
    "event_config_new": (_vp, []),
    "event_config_free": (None, [_vp]),
    "event_config_avoid_method": (_int, [_vp, ctypes.c_char_p]),
    "event_config_set_flag": (_int, [_vp, _int]),
    "event_config_set_max_dispatch_interval": (_int, [_vp, _tvp, _int, _int]),
    "event_base_new_with_config": (_vp, [_vp]),
    "event_base_free": (None, [_vp]),
    "event_base_get_method": (ctypes.c_char_p, [_vp]),
    "event_base_get_features": (_int, [_vp]),
    "event_base_priority_init": (_int, [_vp, _int]),
    "event_base_init_common_timeout": (_tvp, [_vp, _tvp]),
    "event_base_get_num_events": (_int, [_vp, ctypes.c_uint]),
    "event_base_loop": (_int, [_vp, _int]),
    "event_base_loopexit": (_int, [_vp, _tvp]),
    "event_base_loopbreak": (_int, [_vp]),
    "event_base_loopcontinue": (_int, [_vp]),
    "event_base_got_exit": (_int, [_vp]),
    "event_base_got_break": (_int, [_vp]),
    "event_base_once": (_int, [_vp, _int, _short, event_callback_fn, _vp, _tvp]),
    "event_new": (_vp, [_vp, _int, _short, event_callback_fn, _vp]),
    "event_free": (None, [_vp]),
    "event_add": (_int, [_vp, _tvp]),
    "event_del": (_int, [_vp]),
    "event_remove_timer": (_int, [_vp]),
    "event_active": (None, [_vp, _int, _short]),
    "event_pending": (_int, [_vp, _short, _tvp]),
    "event_priority_set": (_int, [_vp, _int]),
    "event_get_priority": (_int, [_vp]),
    "event_self_cbarg": (_vp, []),
}

_lib = None
_error = None


def load():
    """Return the loaded library (cached), or raise LibeventUnavailable."""
    global _lib, _error
    if _lib is not None:
        return _lib
    if _error is not None:
        raise LibeventUnavailable(_error)
    candidates = []
    found = ctypes.util.find_library("event_core-2.1")
    if found:
        candidates.append(found)
    candidates.extend(s for s in SONAMES if s not in candidates)
    errors = []
    lib = None
    for name in candidates:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError as exc:
            errors.append(f"{name}: {exc}")
    if lib is None:
        _error = "; ".join(errors) or "no candidate library name"
        raise LibeventUnavailable(_error)
    try:
        for sym, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(lib, sym)
            fn.restype = restype
            fn.argtypes = argtypes
        version = lib.event_get_version_number()
    except AttributeError as exc:
        _error = f"{name} lacks a libevent 2.1 symbol: {exc}"
        raise LibeventUnavailable(_error) from None
    if (version >> 16) != 0x0201:
        _error = f"{name} is libevent {lib.event_get_version().decode()}, not 2.1"
        raise LibeventUnavailable(_error)
    _lib = lib
    return lib


def supported_methods():
    """event_get_supported_methods() as a list of str."""
    lib = load()
    arr = lib.event_get_supported_methods()
    out = []
    i = 0
    while arr[i] is not None:
        out.append(arr[i].decode())
        i += 1
    return out


def timeval(timeout):
    """None -> NULL; seconds (int/float) or (sec, usec) -> a Timeval; a
    pointer (from event_base_init_common_timeout) is passed through."""
    if timeout is None or isinstance(timeout, ctypes._Pointer):
        return timeout
    if isinstance(timeout, tuple):
        sec, usec = timeout
    else:
        sec = int(timeout)
        usec = int(round((timeout - sec) * 1_000_000))
        if usec >= 1_000_000:
            sec, usec = sec + 1, usec - 1_000_000
    return Timeval(sec, usec)


class Base:
    """One ``event_base`` forced onto ``method`` (by avoiding every other
    method, as libevent's test.sh does), with its events and trampolines.

    Events are identified by their ``struct event *`` (an int).  Python
    callbacks get ``(fd, what, arg)`` where ``arg`` is the raw ``void *``
    (an int or None).
    """

    def __init__(self, method, flags=EVENT_BASE_FLAG_IGNORE_ENV, max_dispatch=None):
        """``max_dispatch``: None or (max_interval, max_callbacks,
        min_priority) for event_config_set_max_dispatch_interval."""
        self.lib = lib = load()
        if method not in supported_methods():
            raise LibeventUnavailable(f"libevent here lacks the {method!r} backend")
        cfg = lib.event_config_new()
        if not cfg:
            raise MemoryError("event_config_new")
        try:
            for m in supported_methods():
                if m != method:
                    lib.event_config_avoid_method(cfg, m.encode())
            if flags:
                lib.event_config_set_flag(cfg, flags)
            if max_dispatch is not None:
                interval, callbacks, min_priority = max_dispatch
                lib.event_config_set_max_dispatch_interval(
                    cfg, timeval(interval), callbacks, min_priority)
            base = lib.event_base_new_with_config(cfg)
        finally:
            lib.event_config_free(cfg)
        if not base:
            raise OSError(f"event_base_new_with_config failed for {method!r}")
        self.ptr = base
        got = self.method()
        if got != method:  # pragma: no cover - defensive
            self.free()
            raise RuntimeError(f"asked libevent for {method!r}, got {got!r}")
        self._events = []     # struct event * we own (freed before the base)
        self._trampolines = []  # every CFUNCTYPE handed to libevent
        self._error = None    # first exception raised by a Python callback

    # -- callbacks ------------------------------------------------------------
    def _trampoline(self, fn):
        def tramp(fd, what, arg):
            if self._error is not None:
                return
            try:
                fn(fd, what & 0xFFFF, arg)
            except BaseException as exc:  # noqa: BLE001 - re-raised by loop()
                self._error = exc
                self.lib.event_base_loopbreak(self.ptr)
        cb = event_callback_fn(tramp)
        self._trampolines.append(cb)
        return cb

    # -- base -----------------------------------------------------------------
    def method(self):
        return self.lib.event_base_get_method(self.ptr).decode()

    def features(self):
        return self.lib.event_base_get_features(self.ptr)

    def priority_init(self, n):
        return self.lib.event_base_priority_init(self.ptr, n)

    def init_common_timeout(self, duration):
        """A ``struct timeval *`` token owned by the base; pass it to add()."""
        token = self.lib.event_base_init_common_timeout(self.ptr, timeval(duration))
        if not token:
            raise OSError("event_base_init_common_timeout failed")
        return token

    def get_num_events(self, flags):
        return self.lib.event_base_get_num_events(self.ptr, flags)

    def loop(self, flags=0):
        rv = self.lib.event_base_loop(self.ptr, flags)
        if self._error is not None:
            err, self._error = self._error, None
            raise err
        return rv

    def loopexit(self, timeout=None):
        return self.lib.event_base_loopexit(self.ptr, timeval(timeout))

    def loopbreak(self):
        return self.lib.event_base_loopbreak(self.ptr)

    def loopcontinue(self):
        return self.lib.event_base_loopcontinue(self.ptr)

    def got_exit(self):
        return bool(self.lib.event_base_got_exit(self.ptr))

    def got_break(self):
        return bool(self.lib.event_base_got_break(self.ptr))

    def once(self, fd, what, fn, timeout=None):
        """event_base_once; ``fn(fd, what, arg)``.  Returns 0 or -1."""
        return self.lib.event_base_once(
            self.ptr, fd, what, self._trampoline(fn), None, timeval(timeout))

    # -- events ---------------------------------------------------------------
    def event_new(self, fd, what, fn, self_arg=False):
        arg = self.lib.event_self_cbarg() if self_arg else None
        ev = self.lib.event_new(self.ptr, fd, what, self._trampoline(fn), arg)
        if not ev:
            raise OSError(f"event_new(fd={fd}, what={what:#x}) failed")
        self._events.append(ev)
        return ev

    def event_free(self, ev):
        self._events.remove(ev)
        self.lib.event_free(ev)

    def add(self, ev, timeout=None):
        return self.lib.event_add(ev, timeval(timeout))

    def delete(self, ev):
        return self.lib.event_del(ev)

    def remove_timer(self, ev):
        return self.lib.event_remove_timer(ev)

    def active(self, ev, res, ncalls=1):
        self.lib.event_active(ev, res, ncalls)

    def pending(self, ev, what):
        return self.lib.event_pending(ev, what, None)

    def priority_set(self, ev, pri):
        return self.lib.event_priority_set(ev, pri)

    def get_priority(self, ev):
        return self.lib.event_get_priority(ev)

    # -- teardown -------------------------------------------------------------
    def free(self):
        """event_free every event, then event_base_free (which also releases
        the storage of event_base_once callbacks that never ran)."""
        if self.ptr is None:
            return
        for ev in self._events:
            self.lib.event_free(ev)
        self._events.clear()
        self.lib.event_base_free(self.ptr)
        self.ptr = None
        self._trampolines.clear()
