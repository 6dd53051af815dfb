"""libevent's ``event2/event_compat.h``: the libevent 1.x API on a hidden
global "current base".

``event_init()`` creates an EventBase and makes it the current base; the
other functions here are the ``event_base_*`` functions of ``event.py``
applied to it.  Like libevent, this is for old code: new code passes its
base explicitly.  Before ``event_init()`` (or after that base is freed)
these functions return -1 / None and log why, where libevent would crash on
a NULL base.

Differences from libevent: ``event_set(ev, ...)`` re-assigns an existing
Event ``ev`` to the current base; given ``None`` it creates one.  It returns
the event (None on failure), since Python code cannot hand over
uninitialized ``struct event`` storage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import event as _event
from .event import (
    EV_PERSIST,
    EV_SIGNAL,
    event_assign,
    event_base_get_method,
    event_base_loop,
    event_base_loopbreak,
    event_base_loopexit,
    event_base_new,
    event_base_once,
    event_base_priority_init,
    event_get_fd,
    event_get_signal,
    event_new,
)
from .._evloop import Event
from .util import _fail

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

    from .._evloop import EventBase, EventCallback
    from .util import Timeval

__all__ = [
    "event_init", "event_dispatch", "event_loop", "event_loopexit",
    "event_loopbreak", "event_once", "event_get_method", "event_priority_init",
    "event_set", "evtimer_set", "evsignal_set", "EVENT_FD", "EVENT_SIGNAL",
]


def _current(func: str) -> EventBase | None:
    """The current base, or None (logged) when event_init() was not called."""
    base = _event._current_base
    if base is None or base.closed:
        _fail(func, RuntimeError("no current base: call event_init() first"))
        return None
    return base


def event_init() -> EventBase | None:
    """event_init(): a new EventBase, made the current base; None on failure."""
    base = event_base_new()
    if base is not None:
        _event._current_base = base
    return base


def event_dispatch() -> int:
    """event_dispatch(): event_loop(0) on the current base; 0, 1 or -1."""
    return event_loop(0)


def event_loop(flags: int) -> int:
    """event_loop(): event_base_loop(current base, flags); 0, 1 or -1."""
    base = _current("event_loop")
    return -1 if base is None else event_base_loop(base, flags)


def event_loopexit(tv: Timeval | None) -> int:
    """event_loopexit(): event_base_loopexit(current base, tv); 0 or -1."""
    base = _current("event_loopexit")
    return -1 if base is None else event_base_loopexit(base, tv)


def event_loopbreak() -> int:
    """event_loopbreak(): event_base_loopbreak(current base); 0 or -1."""
    base = _current("event_loopbreak")
    return -1 if base is None else event_base_loopbreak(base)


def event_once(fd: FileDescriptorLike, events: int, callback: EventCallback, arg: Any,
               tv: Timeval | None) -> int:
    """event_once(): event_base_once(current base, ...); 0 or -1."""
    base = _current("event_once")
    return -1 if base is None else event_base_once(base, fd, events, callback, arg, tv)


def event_get_method() -> str | None:
    """event_get_method(): the current base's backend name, or None."""
    base = _current("event_get_method")
    return None if base is None else event_base_get_method(base)


def event_priority_init(npriorities: int) -> int:
    """event_priority_init(): event_base_priority_init(current base, n); 0 or -1."""
    base = _current("event_priority_init")
    return -1 if base is None else event_base_priority_init(base, npriorities)


def event_set(ev: Event | None, fd: FileDescriptorLike, events: int, callback: EventCallback,
              arg: Any) -> Event | None:
    """event_set(): assign ev (None: a new Event) to the current base; returns it (C: void)."""
    base = _current("event_set")
    if base is None:
        return None
    if ev is None:
        return event_new(base, fd, events, callback, arg)
    if not isinstance(ev, Event):
        _fail("event_set", TypeError(f"ev must be an Event or None, not {type(ev).__name__}"))
        return None
    return ev if event_assign(ev, base, fd, events, callback, arg) == 0 else None


def evtimer_set(ev: Event | None, callback: EventCallback, arg: Any) -> Event | None:
    """evtimer_set(): event_set(ev, -1, 0, callback, arg)."""
    return event_set(ev, -1, 0, callback, arg)


def evsignal_set(ev: Event | None, signum: int, callback: EventCallback, arg: Any) -> Event | None:
    """evsignal_set(): event_set(ev, signum, EV_SIGNAL|EV_PERSIST, callback, arg)."""
    return event_set(ev, signum, EV_SIGNAL | EV_PERSIST, callback, arg)


def EVENT_FD(ev: Event) -> int:
    """EVENT_FD(): event_get_fd(ev)."""
    return event_get_fd(ev)


def EVENT_SIGNAL(ev: Event) -> int:
    """EVENT_SIGNAL(): event_get_signal(ev)."""
    return event_get_signal(ev)
