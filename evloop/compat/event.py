"""libevent's ``event2/event.h``: the event_base, event_config and event API
under libevent's C names.

Each function here is a thin wrapper over the object API of the compiled core
(``EventBase``, ``EventConfig``, ``Event`` from ``evloop._evloop``): it
checks the argument types, calls the method, and turns the exceptions of the
object API (TypeError, ValueError, RuntimeError, OSError) into libevent's
return values, logging why on the ``'evloop.compat'`` logger.  See
``util.py`` for the conventions (timevals as ``(sec, usec)`` tuples, ``None``
for ``NULL``, out-parameters folded into the return value).

An exception raised by *user* code that the core calls (an event callback
running inside :func:`event_base_loop`, a finalizer, the function given to
:func:`event_base_foreach_event`) is not bad input: it propagates, as the
object API documents.

Differences from libevent
-------------------------
* ``event_assign`` re-assigns an existing :class:`Event` object; Python code
  cannot reserve storage for an event without creating one.
* ``event_pending(ev, events, want_tv=False)``: the ``struct timeval *``
  out-parameter becomes ``want_tv``; with it the result is
  ``(flags, (sec, usec) or None)``, the deadline in wall-clock time and, as
  in libevent, only when EV_TIMEOUT is in ``flags``.
* ``event_base_gettimeofday_cached`` returns ``(sec, usec)`` (``None`` on
  error); ``event_gettime_monotonic`` returns ``(0, (sec, usec))``;
  ``event_get_assignment`` returns ``(base, fd, events, callback, arg)``,
  with the event itself as ``arg`` if it was given event_self_cbarg().
* ``event_get_supported_methods`` returns a list; ``event_base_dump_events``
  writes to a Python file object (None: sys.stdout); ``event_config_free``
  does nothing.
* ``event_del_block``/``event_del_noblock`` equal ``event_del``: a base is
  used from one thread, so there is no other thread's callback to wait for.
* Where libevent aborts (``event_enable_debug_mode`` called late or twice,
  ``event_debug_unassign`` on a pending event) the error is logged.  A
  function that is void in C (``event_active``, ``event_free``,
  ``event_base_active_by_fd``, ...) logs a failure and returns None.
* ``event_set_log_callback(cb)`` installs a ``logging`` handler on the
  logger ``'evloop'`` that calls ``cb(severity, msg)`` with EVENT_LOG_*
  severities and stops propagation (libevent's callback replaces its
  stderr output); ``None`` restores the default.
* Getters return a neutral value for a bad argument: -1 for fds,
  priorities and counts, 0 for flag masks and predicates, None for objects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TextIO, TypeVar, overload

from .. import _evloop as _core
from .._evloop import (
    CommonTimeout,
    Event,
    EventBase,
    EventConfig,
    EV_TIMEOUT, EV_READ, EV_WRITE, EV_SIGNAL, EV_PERSIST, EV_ET,
    EV_FINALIZE, EV_CLOSED,
    EVLOOP_ONCE, EVLOOP_NONBLOCK, EVLOOP_NO_EXIT_ON_EMPTY,
    EV_FEATURE_ET, EV_FEATURE_O1, EV_FEATURE_FDS, EV_FEATURE_EARLY_CLOSE,
    EVENT_BASE_FLAG_NOLOCK, EVENT_BASE_FLAG_IGNORE_ENV,
    EVENT_BASE_FLAG_STARTUP_IOCP, EVENT_BASE_FLAG_NO_CACHE_TIME,
    EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST, EVENT_BASE_FLAG_PRECISE_TIMER,
    EVENT_BASE_COUNT_ACTIVE, EVENT_BASE_COUNT_VIRTUAL, EVENT_BASE_COUNT_ADDED,
    EVENT_MAX_PRIORITIES,
    LIBEVENT_VERSION, LIBEVENT_VERSION_NUMBER,
)
from .util import _ERRORS, _fail, _timeval, _timeval_from_seconds

if TYPE_CHECKING:
    from typing import TypeAlias

    from _typeshed import FileDescriptorLike

    from .._evloop import EventCallback
    from .util import Timeval

    #: A ``const struct timeval *``: (sec, usec), a common-timeout token, or NULL.
    _Tv: TypeAlias = Timeval | CommonTimeout | None
    #: event_finalize_callback_fn: cb(ev, arg).
    _Finalizer: TypeAlias = Callable[[Event, Any], object]

_T = TypeVar("_T")
_E = TypeVar("_E")

__all__ = [
    # constants
    "EV_TIMEOUT", "EV_READ", "EV_WRITE", "EV_SIGNAL", "EV_PERSIST", "EV_ET",
    "EV_FINALIZE", "EV_CLOSED",
    "EVLOOP_ONCE", "EVLOOP_NONBLOCK", "EVLOOP_NO_EXIT_ON_EMPTY",
    "EV_FEATURE_ET", "EV_FEATURE_O1", "EV_FEATURE_FDS", "EV_FEATURE_EARLY_CLOSE",
    "EVENT_BASE_FLAG_NOLOCK", "EVENT_BASE_FLAG_IGNORE_ENV",
    "EVENT_BASE_FLAG_STARTUP_IOCP", "EVENT_BASE_FLAG_NO_CACHE_TIME",
    "EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST", "EVENT_BASE_FLAG_PRECISE_TIMER",
    "EVENT_BASE_COUNT_ACTIVE", "EVENT_BASE_COUNT_VIRTUAL", "EVENT_BASE_COUNT_ADDED",
    "EVENT_MAX_PRIORITIES",
    "EVENT_LOG_DEBUG", "EVENT_LOG_MSG", "EVENT_LOG_WARN", "EVENT_LOG_ERR",
    "LIBEVENT_VERSION", "LIBEVENT_VERSION_NUMBER",
    # base lifecycle
    "event_base_new", "event_base_new_with_config", "event_base_free",
    "event_base_free_nofinalize", "event_reinit", "event_base_get_method",
    "event_get_supported_methods", "event_base_get_features",
    "event_base_get_num_events", "event_base_get_max_events",
    "event_get_version", "event_get_version_number",
    # config
    "event_config_new", "event_config_free", "event_config_avoid_method",
    "event_config_require_features", "event_config_set_flag",
    "event_config_set_max_dispatch_interval",
    # loop
    "event_base_dispatch", "event_base_loop", "event_base_loopexit",
    "event_base_loopbreak", "event_base_loopcontinue", "event_base_got_exit",
    "event_base_got_break", "event_base_once",
    # events
    "event_new", "event_assign", "event_base_set", "event_free",
    "event_finalize", "event_free_finalize", "event_self_cbarg", "event_add",
    "event_remove_timer", "event_del", "event_del_noblock", "event_del_block",
    "event_active", "event_pending", "event_initialized", "event_get_fd",
    "event_get_base", "event_get_events", "event_get_callback",
    "event_get_callback_arg", "event_get_priority", "event_get_assignment",
    "event_base_get_running_event", "event_base_active_by_fd",
    "event_base_active_by_signal",
    # priorities and time
    "event_base_priority_init", "event_base_get_npriorities",
    "event_priority_set", "event_base_init_common_timeout",
    "event_base_gettimeofday_cached", "event_base_update_cache_time",
    "event_gettime_monotonic",
    # introspection and debugging
    "event_base_foreach_event", "event_base_dump_events",
    "event_enable_debug_mode", "event_debug_unassign", "event_set_log_callback",
    # macros
    "evtimer_new", "evtimer_assign", "evtimer_add", "evtimer_del",
    "evtimer_pending", "evtimer_initialized",
    "evsignal_new", "evsignal_assign", "evsignal_add", "evsignal_del",
    "evsignal_pending", "evsignal_initialized",
    "evuser_new", "evuser_del", "evuser_pending", "evuser_initialized",
    "evuser_trigger", "event_get_signal",
]

# event_log_cb severities (event.h).
EVENT_LOG_DEBUG = 0
EVENT_LOG_MSG = 1
EVENT_LOG_WARN = 2
EVENT_LOG_ERR = 3

# event_compat.h's hidden global: the base made by event_init().  It lives
# here, as it lives in libevent's event.c, because event_base_free(None) and
# event_base_gettimeofday_cached(None) fall back to it.
_current_base: EventBase | None = None


# -- argument checks ---------------------------------------------------------------

def _base(base: object, name: str = "base") -> EventBase:
    if not isinstance(base, EventBase):
        raise TypeError(f"{name} must be an EventBase, not {type(base).__name__}")
    return base


def _event(ev: object, name: str = "ev") -> Event:
    if not isinstance(ev, Event):
        raise TypeError(f"{name} must be an Event, not {type(ev).__name__}")
    return ev


def _config(cfg: object, name: str = "cfg") -> EventConfig:
    if not isinstance(cfg, EventConfig):
        raise TypeError(f"{name} must be an EventConfig, not {type(cfg).__name__}")
    return cfg


def _timeout(tv: object, name: str = "tv") -> _Tv:
    """A ``const struct timeval *``: None, a (sec, usec) tuple, or a token of
    event_base_init_common_timeout()."""
    if tv is None or isinstance(tv, CommonTimeout):
        return tv
    return _timeval(tv, name)


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


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


# -- base lifecycle ------------------------------------------------------------------

def event_base_new() -> EventBase | None:
    """event_base_new(): a new EventBase on the best backend, or None."""
    return _call("event_base_new", EventBase, error=None)


def event_base_new_with_config(cfg: EventConfig | None) -> EventBase | None:
    """event_base_new_with_config(): a base honouring cfg (None: defaults), or None."""
    def new() -> EventBase:
        return EventBase(None if cfg is None else _config(cfg))
    return _call("event_base_new_with_config", new, error=None)


def _free_base(func: str, base: EventBase | None, nofinalize: bool) -> None:
    """event_base_free[_nofinalize](base): None means the event_init() base."""
    global _current_base

    def free() -> EventBase:
        b = _base(_current_base if base is None else base)
        # free_nofinalize() is missing from the stub (_evloop.pyi); without
        # it the pending finalizers run, as in event_base_free.
        getattr(b, "free_nofinalize", b.free)() if nofinalize else b.free()
        return b
    b = _call(func, free, error=None)
    if b is not None and b is _current_base:
        _current_base = None


def event_base_free(base: EventBase | None) -> None:
    """event_base_free(): delete every event, close the backend; None: the event_init() base."""
    _free_base("event_base_free", base, False)


def event_base_free_nofinalize(base: EventBase | None) -> None:
    """event_base_free_nofinalize(): event_base_free() without running pending finalizers."""
    _free_base("event_base_free_nofinalize", base, True)


def event_reinit(base: EventBase) -> int:
    """event_reinit(): after fork(), rebuild the backend; 0 or -1."""
    return _call("event_reinit", lambda: _base(base).reinit() or 0)


def event_base_get_method(base: EventBase) -> str | None:
    """event_base_get_method(): the backend's name as a str, or None."""
    return _call("event_base_get_method", lambda: _base(base).get_method(), error=None)


def event_get_supported_methods() -> list[str]:
    """event_get_supported_methods(): a list of backend names, fastest first (C: NULL-ended)."""
    return list(_core.supported_methods())


def event_base_get_features(base: EventBase) -> int:
    """event_base_get_features(): the backend's EV_FEATURE_* bits (0 for a bad base)."""
    return _call("event_base_get_features", lambda: _base(base).get_features(), error=0)


def event_base_get_num_events(base: EventBase, flags: int) -> int:
    """event_base_get_num_events(): the events counted by EVENT_BASE_COUNT_* flags."""
    return _call("event_base_get_num_events",
                 lambda: _base(base).get_num_events(_int(flags, "flags")))


def event_base_get_max_events(base: EventBase, flags: int, clear: int) -> int:
    """event_base_get_max_events(): the most events counted by flags so far; reset if clear."""
    return _call("event_base_get_max_events",
                 lambda: _base(base).get_max_events(_int(flags, "flags"), bool(clear)))


def event_get_version() -> str:
    """event_get_version(): the libevent version evloop follows, "2.1.12-stable"."""
    return LIBEVENT_VERSION


def event_get_version_number() -> int:
    """event_get_version_number(): that version as 0xMMmmpp00."""
    return LIBEVENT_VERSION_NUMBER


# -- config ------------------------------------------------------------------------

def event_config_new() -> EventConfig | None:
    """event_config_new(): a new EventConfig."""
    return _call("event_config_new", EventConfig, error=None)


def event_config_free(cfg: EventConfig | None) -> None:
    """event_config_free(): a no-op (Python frees the config), kept for line-by-line ports."""


def event_config_avoid_method(cfg: EventConfig, method: str) -> int:
    """event_config_avoid_method(): never use backend ``method``; 0 or -1."""
    return _call("event_config_avoid_method",
                 lambda: _config(cfg).avoid_method(method) or 0)


def event_config_require_features(cfg: EventConfig, feature: int) -> int:
    """event_config_require_features(): require EV_FEATURE_* bits; 0 or -1."""
    return _call("event_config_require_features",
                 lambda: _config(cfg).require_features(_int(feature, "feature")) or 0)


def event_config_set_flag(cfg: EventConfig, flag: int) -> int:
    """event_config_set_flag(): OR in EVENT_BASE_FLAG_* bits; 0 or -1."""
    return _call("event_config_set_flag",
                 lambda: _config(cfg).set_flag(_int(flag, "flag")) or 0)


def event_config_set_max_dispatch_interval(cfg: EventConfig, max_interval: Timeval | None,
                                           max_callbacks: int, min_priority: int) -> int:
    """event_config_set_max_dispatch_interval(): max_interval is (sec, usec) or None."""
    return _call("event_config_set_max_dispatch_interval",
                 lambda: _config(cfg).set_max_dispatch_interval(
                     _timeout(max_interval, "max_interval"),
                     _int(max_callbacks, "max_callbacks"),
                     _int(min_priority, "min_priority")) or 0)


# -- the loop ----------------------------------------------------------------------

def event_base_dispatch(base: EventBase) -> int:
    """event_base_dispatch(): event_base_loop(base, 0); a callback's exception propagates."""
    return _call("event_base_dispatch", lambda: _base(base).dispatch())


def event_base_loop(base: EventBase, flags: int) -> int:
    """event_base_loop(): run with EVLOOP_* flags; 0, 1 (no events) or -1 (re-entry, freed base)."""
    return _call("event_base_loop", lambda: _base(base).loop(_int(flags, "flags")))


def event_base_loopexit(base: EventBase, tv: _Tv) -> int:
    """event_base_loopexit(): stop after tv ((sec, usec)), or after this pass if tv is None."""
    return _call("event_base_loopexit",
                 lambda: _base(base).loopexit(_timeout(tv)) or 0)


def event_base_loopbreak(base: EventBase) -> int:
    """event_base_loopbreak(): stop after the running callback; 0 or -1."""
    return _call("event_base_loopbreak", lambda: _base(base).loopbreak() or 0)


def event_base_loopcontinue(base: EventBase) -> int:
    """event_base_loopcontinue(): end this pass and re-poll; 0 or -1."""
    return _call("event_base_loopcontinue", lambda: _base(base).loopcontinue() or 0)


def event_base_got_exit(base: EventBase) -> int:
    """event_base_got_exit(): 1 if loopexit stopped the loop, else 0."""
    return _call("event_base_got_exit", lambda: int(bool(_base(base).got_exit())), error=0)


def event_base_got_break(base: EventBase) -> int:
    """event_base_got_break(): 1 if loopbreak stopped the loop, else 0."""
    return _call("event_base_got_break", lambda: int(bool(_base(base).got_break())), error=0)


def event_base_once(base: EventBase, fd: FileDescriptorLike, events: int,
                    callback: EventCallback, arg: Any, tv: _Tv) -> int:
    """event_base_once(): call callback(fd, what, arg) once, when fd is ready or tv has passed."""
    return _call("event_base_once",
                 lambda: _base(base).once(fd, _int(events, "events"), callback,
                                          arg, _timeout(tv)) or 0)


# -- events ------------------------------------------------------------------------

def event_new(base: EventBase, fd: FileDescriptorLike, events: int, callback: EventCallback,
              callback_arg: Any) -> Event | None:
    """event_new(): a new Event calling callback(fd, what, callback_arg), or None."""
    return _call("event_new",
                 lambda: Event(_base(base), fd, _int(events, "events"), callback, callback_arg),
                 error=None)


def event_assign(ev: Event, base: EventBase, fd: FileDescriptorLike, events: int,
                 callback: EventCallback, callback_arg: Any) -> int:
    """event_assign(): re-assign the existing, non-pending Event ev (Python cannot reserve one)."""
    return _call("event_assign",
                 lambda: _event(ev).assign(_base(base), fd, _int(events, "events"),
                                           callback, callback_arg) or 0)


def event_base_set(base: EventBase, ev: Event) -> int:
    """event_base_set(): move a non-pending ev to base, keeping fd, events, callback, arg."""
    def move() -> int:
        e = _event(ev)
        e.assign(_base(base), e.fd, e.events, e.callback, e.arg)
        return 0
    return _call("event_base_set", move)


def event_free(ev: Event) -> None:
    """event_free(): delete ``ev`` and release it."""
    _call("event_free", lambda: _event(ev).free(), error=None)


def event_finalize(flags: int, ev: Event, cb: _Finalizer) -> int:
    """event_finalize(): delete ev, then call cb(ev, arg) from the loop; flags is unused."""
    return _call("event_finalize", lambda: _event(ev).finalize(cb) or 0)


def event_free_finalize(flags: int, ev: Event, cb: _Finalizer) -> int:
    """event_free_finalize(): as event_finalize, then free ``ev``; 0 or -1."""
    return _call("event_free_finalize", lambda: _event(ev).free_finalize(cb) or 0)


def event_self_cbarg() -> object:
    """event_self_cbarg(): the ``arg`` that makes an event receive itself."""
    return _core.event_self_cbarg()


def event_add(ev: Event, tv: _Tv = None) -> int:
    """event_add(): make ev pending; tv is (sec, usec), a common-timeout token, or None."""
    return _call("event_add", lambda: _event(ev).add(_timeout(tv)) or 0)


def event_remove_timer(ev: Event) -> int:
    """event_remove_timer(): drop only the deadline of ``ev``; 0 or -1."""
    return _call("event_remove_timer", lambda: _event(ev).remove_timer() or 0)


def event_del(ev: Event) -> int:
    """event_del(): make ``ev`` neither pending nor active; 0 or -1."""
    return _call("event_del", lambda: _event(ev).delete() or 0)


def event_del_noblock(ev: Event) -> int:
    """event_del_noblock(): event_del (single-threaded: nothing to wait for)."""
    return _call("event_del_noblock", lambda: _event(ev).delete() or 0)


def event_del_block(ev: Event) -> int:
    """event_del_block(): event_del (single-threaded: nothing to wait for)."""
    return _call("event_del_block", lambda: _event(ev).delete() or 0)


def event_active(ev: Event, res: int, ncalls: int) -> None:
    """event_active(): make ev active with the flags res (void: a failure is only logged)."""
    _call("event_active",
          lambda: _event(ev).active(_int(res, "res"), _int(ncalls, "ncalls")), error=None)


@overload
def event_pending(ev: Event, events: int, want_tv: Literal[False] = False) -> int: ...
@overload
def event_pending(ev: Event, events: int, want_tv: Literal[True]) -> tuple[int, Timeval | None]: ...
@overload
def event_pending(ev: Event, events: int, want_tv: bool) -> int | tuple[int, Timeval | None]: ...
def event_pending(ev: Event, events: int,
                  want_tv: bool = False) -> int | tuple[int, Timeval | None]:
    """event_pending(): flags ev is pending on; want_tv: (flags, (sec, usec) deadline or None)."""
    def pending() -> int | tuple[int, Timeval | None]:
        e, what = _event(ev), _int(events, "events")
        if not want_tv:
            return e.pending(what)
        flags, deadline = e.pending(what, True)
        if deadline is None or not flags & EV_TIMEOUT:
            return flags, None
        return flags, _timeval_from_seconds(deadline)
    return _call("event_pending", pending, error=(0, None) if want_tv else 0)


def event_initialized(ev: Event) -> int:
    """event_initialized(): 1 if ``ev`` is an initialized Event, else 0."""
    if not isinstance(ev, Event):
        return 0
    return _call("event_initialized", lambda: int(bool(ev.initialized())), error=0)


def event_get_fd(ev: Event) -> int:
    """event_get_fd(): the fd (signal number, or -1) of ``ev``; -1 on error."""
    return _call("event_get_fd", lambda: _event(ev).fd)


def event_get_base(ev: Event) -> EventBase | None:
    """event_get_base(): the EventBase of ``ev``, or None."""
    return _call("event_get_base", lambda: _event(ev).base, error=None)


def event_get_events(ev: Event) -> int:
    """event_get_events(): the EV_* flags ``ev`` was assigned (0 on error)."""
    return _call("event_get_events", lambda: _event(ev).events, error=0)


def event_get_callback(ev: Event) -> EventCallback | None:
    """event_get_callback(): the callback of ``ev``, or None."""
    return _call("event_get_callback", lambda: _event(ev).callback, error=None)


def event_get_callback_arg(ev: Event) -> Any:
    """event_get_callback_arg(): the callback argument of ``ev``, or None."""
    return _call("event_get_callback_arg", lambda: _event(ev).arg, error=None)


def event_get_priority(ev: Event) -> int:
    """event_get_priority(): the priority of ``ev``; -1 on error."""
    return _call("event_get_priority", lambda: _event(ev).priority)


def event_get_assignment(ev: Event) -> tuple[EventBase, int, int, EventCallback, Any] | None:
    """event_get_assignment(): (base, fd, events, callback, arg), the C out-parameters."""
    return _call("event_get_assignment", lambda: tuple(_event(ev).get_assignment()),
                 error=None)


def event_base_get_running_event(base: EventBase) -> Event | None:
    """event_base_get_running_event(): the Event whose callback runs, or None."""
    return _call("event_base_get_running_event",
                 lambda: _base(base).get_running_event(), error=None)


def event_base_active_by_fd(base: EventBase, fd: FileDescriptorLike, events: int) -> None:
    """event_base_active_by_fd(): activate the pending events on fd (void: failures logged)."""
    _call("event_base_active_by_fd",
          lambda: _base(base).active_by_fd(fd, _int(events, "events")), error=None)


def event_base_active_by_signal(base: EventBase, sig: int) -> None:
    """event_base_active_by_signal(): activate the pending events on sig (void)."""
    _call("event_base_active_by_signal",
          lambda: _base(base).active_by_signal(_int(sig, "sig")), error=None)


# -- priorities and time ---------------------------------------------------------------

def event_base_priority_init(base: EventBase, npriorities: int) -> int:
    """event_base_priority_init(): use ``npriorities`` queues (1..255); 0 or -1."""
    return _call("event_base_priority_init",
                 lambda: _base(base).priority_init(_int(npriorities, "npriorities")) or 0)


def event_base_get_npriorities(base: EventBase) -> int:
    """event_base_get_npriorities(): the number of priority queues of base."""
    return _call("event_base_get_npriorities", lambda: _base(base).get_npriorities())


def event_priority_set(ev: Event, priority: int) -> int:
    """event_priority_set(): set the priority of a non-active ``ev``; 0 or -1."""
    return _call("event_priority_set",
                 lambda: _event(ev).priority_set(_int(priority, "priority")) or 0)


def event_base_init_common_timeout(base: EventBase, duration: Timeval) -> CommonTimeout | None:
    """event_base_init_common_timeout(): a token for duration ((sec, usec)), for event_add."""
    return _call("event_base_init_common_timeout",
                 lambda: _base(base).init_common_timeout(_timeval(duration, "duration")),
                 error=None)


def event_base_gettimeofday_cached(base: EventBase | None) -> Timeval | None:
    """event_base_gettimeofday_cached(): (sec, usec), cached while the loop runs."""
    def cached() -> Timeval:
        b = _current_base if base is None else base
        if b is None:
            from .util import evutil_gettimeofday
            return evutil_gettimeofday()[1]
        return _timeval_from_seconds(_base(b).gettimeofday_cached())
    return _call("event_base_gettimeofday_cached", cached, error=None)


def event_base_update_cache_time(base: EventBase) -> int:
    """event_base_update_cache_time(): refresh the cached time; 0 or -1."""
    return _call("event_base_update_cache_time",
                 lambda: _base(base).update_cache_time() or 0)


def event_gettime_monotonic(base: EventBase) -> tuple[int, Timeval | None]:
    """event_gettime_monotonic(): (0, (sec, usec)) of the monotonic clock, or (-1, None)."""
    def now() -> tuple[int, Timeval]:
        if _base(base).closed:
            raise RuntimeError("the base is freed")
        return 0, _timeval_from_seconds(_core.gettime_monotonic())
    return _call("event_gettime_monotonic", now, error=(-1, None))


# -- introspection and debugging ----------------------------------------------------------

def event_base_foreach_event(base: EventBase, fn: Callable[[EventBase, Event, Any], int],
                             arg: Any) -> int:
    """event_base_foreach_event(): fn(base, ev, arg) per event until non-zero; returns that."""
    return _call("event_base_foreach_event", lambda: _base(base).foreach_event(fn, arg))


def event_base_dump_events(base: EventBase, output: TextIO | None) -> None:
    """event_base_dump_events(): write the listing to the file object output (None: stdout)."""
    _call("event_base_dump_events", lambda: _base(base).dump_events(output), error=None)


def event_enable_debug_mode() -> None:
    """event_enable_debug_mode(): extra checks; once, before any base (else logged, not abort)."""
    _call("event_enable_debug_mode", _core.enable_debug_mode, error=None)


def event_debug_unassign(ev: Event) -> None:
    """event_debug_unassign(): only checks that ev is not pending (logged if it is)."""
    def unassign() -> None:
        e = _event(ev)
        if e.initialized() and e.pending(EV_TIMEOUT | EV_READ | EV_WRITE | EV_SIGNAL | EV_CLOSED):
            raise RuntimeError("event_debug_unassign called on a pending event")
    _call("event_debug_unassign", unassign, error=None)


_LEVELS = ((logging.ERROR, EVENT_LOG_ERR), (logging.WARNING, EVENT_LOG_WARN),
           (logging.INFO, EVENT_LOG_MSG))


class _LogCallbackHandler(logging.Handler):
    """Sends evloop's log records to an event_log_cb(severity, msg)."""

    def __init__(self, cb: Callable[[int, str], object]) -> None:
        super().__init__()
        self.cb = cb

    def emit(self, record: logging.LogRecord) -> None:
        severity = next((sev for lvl, sev in _LEVELS if record.levelno >= lvl), EVENT_LOG_DEBUG)
        try:
            self.cb(severity, record.getMessage())
        except Exception:
            self.handleError(record)


_log_handler: _LogCallbackHandler | None = None


def event_set_log_callback(cb: Callable[[int, str], object] | None) -> None:
    """event_set_log_callback(): send the 'evloop' logs to cb(severity, msg); None: default."""
    global _log_handler
    root = logging.getLogger("evloop")
    if _log_handler is not None:
        root.removeHandler(_log_handler)
        _log_handler = None
    if cb is None:
        root.propagate = True
        return
    _log_handler = _LogCallbackHandler(cb)
    root.addHandler(_log_handler)
    root.propagate = False  # libevent's callback replaces its stderr output


# -- macros -----------------------------------------------------------------------------

def evtimer_new(base: EventBase, callback: EventCallback, arg: Any) -> Event | None:
    """evtimer_new(): event_new(base, -1, 0, callback, arg)."""
    return event_new(base, -1, 0, callback, arg)


def evtimer_assign(ev: Event, base: EventBase, callback: EventCallback, arg: Any) -> int:
    """evtimer_assign(): event_assign(ev, base, -1, 0, callback, arg)."""
    return event_assign(ev, base, -1, 0, callback, arg)


def evtimer_add(ev: Event, tv: _Tv) -> int:
    """evtimer_add(): event_add(ev, tv)."""
    return event_add(ev, tv)


def evtimer_del(ev: Event) -> int:
    """evtimer_del(): event_del(ev)."""
    return event_del(ev)


@overload
def evtimer_pending(ev: Event, want_tv: Literal[False] = False) -> int: ...
@overload
def evtimer_pending(ev: Event, want_tv: Literal[True]) -> tuple[int, Timeval | None]: ...
@overload
def evtimer_pending(ev: Event, want_tv: bool) -> int | tuple[int, Timeval | None]: ...
def evtimer_pending(ev: Event, want_tv: bool = False) -> int | tuple[int, Timeval | None]:
    """evtimer_pending(): event_pending(ev, EV_TIMEOUT, want_tv)."""
    return event_pending(ev, EV_TIMEOUT, want_tv)


def evtimer_initialized(ev: Event) -> int:
    """evtimer_initialized(): event_initialized(ev)."""
    return event_initialized(ev)


def evsignal_new(base: EventBase, signum: int, callback: EventCallback, arg: Any) -> Event | None:
    """evsignal_new(): event_new(base, signum, EV_SIGNAL|EV_PERSIST, ...)."""
    return event_new(base, signum, EV_SIGNAL | EV_PERSIST, callback, arg)


def evsignal_assign(ev: Event, base: EventBase, signum: int, callback: EventCallback,
                    arg: Any) -> int:
    """evsignal_assign(): event_assign(ev, base, signum, EV_SIGNAL|EV_PERSIST, callback, arg)."""
    return event_assign(ev, base, signum, EV_SIGNAL | EV_PERSIST, callback, arg)


def evsignal_add(ev: Event, tv: _Tv) -> int:
    """evsignal_add(): event_add(ev, tv)."""
    return event_add(ev, tv)


def evsignal_del(ev: Event) -> int:
    """evsignal_del(): event_del(ev)."""
    return event_del(ev)


@overload
def evsignal_pending(ev: Event, want_tv: Literal[False] = False) -> int: ...
@overload
def evsignal_pending(ev: Event, want_tv: Literal[True]) -> tuple[int, Timeval | None]: ...
@overload
def evsignal_pending(ev: Event, want_tv: bool) -> int | tuple[int, Timeval | None]: ...
def evsignal_pending(ev: Event, want_tv: bool = False) -> int | tuple[int, Timeval | None]:
    """evsignal_pending(): event_pending(ev, EV_SIGNAL, want_tv)."""
    return event_pending(ev, EV_SIGNAL, want_tv)


def evsignal_initialized(ev: Event) -> int:
    """evsignal_initialized(): event_initialized(ev)."""
    return event_initialized(ev)


def evuser_new(base: EventBase, callback: EventCallback, arg: Any) -> Event | None:
    """evuser_new(): event_new(base, -1, 0, callback, arg), fired by evuser_trigger()."""
    return event_new(base, -1, 0, callback, arg)


def evuser_del(ev: Event) -> int:
    """evuser_del(): event_del(ev)."""
    return event_del(ev)


@overload
def evuser_pending(ev: Event, want_tv: Literal[False] = False) -> int: ...
@overload
def evuser_pending(ev: Event, want_tv: Literal[True]) -> tuple[int, Timeval | None]: ...
@overload
def evuser_pending(ev: Event, want_tv: bool) -> int | tuple[int, Timeval | None]: ...
def evuser_pending(ev: Event, want_tv: bool = False) -> int | tuple[int, Timeval | None]:
    """evuser_pending(): event_pending(ev, 0, want_tv)."""
    return event_pending(ev, 0, want_tv)


def evuser_initialized(ev: Event) -> int:
    """evuser_initialized(): event_initialized(ev)."""
    return event_initialized(ev)


def evuser_trigger(ev: Event) -> None:
    """evuser_trigger(): event_active(ev, 0, 0)."""
    event_active(ev, 0, 0)


def event_get_signal(ev: Event) -> int:
    """event_get_signal(): event_get_fd(ev), the signal number."""
    return event_get_fd(ev)
