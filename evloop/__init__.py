"""evloop: an asyncio event loop whose engine is a libevent 2.1-style EventBase.

This module re-exports the public names of the libevent face (``EventBase``,
``EventConfig``, ``Event``, ``Evbuffer`` and the ``EV_*``/``EVLOOP_*``/
``EVBUFFER_*`` constants), compiled
in ``evloop._evloop``.  libevent's C function names live in
``evloop.compat``.
"""
from ._evloop import (  # noqa: F401
    CommonTimeout,
    Event,
    EventBase,
    EventConfig,
    Evbuffer,
    EvbufferCbEntry,
    EvbufferCbInfo,
    EvbufferPtr,
    enable_debug_mode,
    event_self_cbarg,
    gettime_monotonic,
    supported_methods,
    EV_TIMEOUT, EV_READ, EV_WRITE, EV_SIGNAL, EV_PERSIST, EV_ET,
    EV_FINALIZE, EV_CLOSED,
    EVLOOP_ONCE, EVLOOP_NONBLOCK, EVLOOP_NO_EXIT_ON_EMPTY,
    EV_FEATURE_ET, EV_FEATURE_O1, EV_FEATURE_FDS, EV_FEATURE_EARLY_CLOSE,
    EVENT_BASE_FLAG_NOLOCK, EVENT_BASE_FLAG_IGNORE_ENV,
    EVENT_BASE_FLAG_STARTUP_IOCP, EVENT_BASE_FLAG_NO_CACHE_TIME,
    EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST, EVENT_BASE_FLAG_PRECISE_TIMER,
    EVENT_BASE_COUNT_ACTIVE, EVENT_BASE_COUNT_VIRTUAL, EVENT_BASE_COUNT_ADDED,
    EVENT_MAX_PRIORITIES,
    EVLIST_TIMEOUT, EVLIST_INSERTED, EVLIST_SIGNAL, EVLIST_ACTIVE,
    EVLIST_INTERNAL, EVLIST_ACTIVE_LATER, EVLIST_FINALIZING, EVLIST_INIT,
    EVBUFFER_EOL_ANY, EVBUFFER_EOL_CRLF, EVBUFFER_EOL_CRLF_STRICT,
    EVBUFFER_EOL_LF, EVBUFFER_EOL_NUL,
    EVBUFFER_PTR_SET, EVBUFFER_PTR_ADD, EVBUFFER_CB_ENABLED,
    LIBEVENT_VERSION, LIBEVENT_VERSION_NUMBER,
)

from .loop import EventLoop  # noqa: E402
from .policy import EventLoopPolicy, install, new_event_loop, run  # noqa: E402

__version__ = "0.1.0.dev0"

__all__ = [
    "EventLoop", "EventLoopPolicy", "install", "new_event_loop", "run",
    "CommonTimeout", "Event", "EventBase", "EventConfig",
    "Evbuffer", "EvbufferCbEntry", "EvbufferCbInfo", "EvbufferPtr",
    "enable_debug_mode", "event_self_cbarg", "gettime_monotonic",
    "supported_methods",
    "EV_TIMEOUT", "EV_READ", "EV_WRITE", "EV_SIGNAL", "EV_PERSIST", "EV_ET",
    "EV_FINALIZE", "EV_CLOSED",
    "EVLOOP_ONCE", "EVLOOP_NONBLOCK", "EVLOOP_NO_EXIT_ON_EMPTY",
    "EV_FEATURE_ET", "EV_FEATURE_O1", "EV_FEATURE_FDS", "EV_FEATURE_EARLY_CLOSE",
    "EVENT_BASE_FLAG_NOLOCK", "EVENT_BASE_FLAG_IGNORE_ENV",
    "EVENT_BASE_FLAG_STARTUP_IOCP", "EVENT_BASE_FLAG_NO_CACHE_TIME",
    "EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST", "EVENT_BASE_FLAG_PRECISE_TIMER",
    "EVENT_BASE_COUNT_ACTIVE", "EVENT_BASE_COUNT_VIRTUAL", "EVENT_BASE_COUNT_ADDED",
    "EVENT_MAX_PRIORITIES",
    "EVLIST_TIMEOUT", "EVLIST_INSERTED", "EVLIST_SIGNAL", "EVLIST_ACTIVE",
    "EVLIST_INTERNAL", "EVLIST_ACTIVE_LATER", "EVLIST_FINALIZING", "EVLIST_INIT",
    "EVBUFFER_EOL_ANY", "EVBUFFER_EOL_CRLF", "EVBUFFER_EOL_CRLF_STRICT",
    "EVBUFFER_EOL_LF", "EVBUFFER_EOL_NUL",
    "EVBUFFER_PTR_SET", "EVBUFFER_PTR_ADD", "EVBUFFER_CB_ENABLED",
    "LIBEVENT_VERSION", "LIBEVENT_VERSION_NUMBER",
]
