"""libevent's ``event2/bufferevent.h`` (socket bufferevents and pairs) and the
EVBUFFER_INPUT/EVBUFFER_OUTPUT macros of ``bufferevent_compat.h``.

A thin layer of ``evloop.compat`` over :class:`evloop.Bufferevent` (compiled
in ``evloop/core/bufferevent.pyx``): argument checks, the method call, and
libevent's 0/-1 (or None for NULL) instead of the object API's exceptions,
logged on the ``'evloop.compat'`` logger.  See ``util.py`` for the
conventions.  Callbacks keep libevent's signatures: ``readcb(bev, arg)``,
``writecb(bev, arg)``, ``eventcb(bev, what, arg)``; ``bev`` is the
:class:`evloop.Bufferevent` itself.  An exception they raise is the
application's and propagates (from event_base_dispatch(), or from
bufferevent_trigger() when it runs them at once).

Differences from libevent
-------------------------
* Addresses are what the socket module takes: ``(host, port)``,
  ``(host, port, flowinfo, scope_id)`` for IPv6, or a unix socket path;
  the C ``socklen`` arguments are optional and ignored.
  ``bufferevent_socket_connect(bev, None)`` (``sa == NULL``: "the fd is
  already connecting") is not supported and returns -1.
* ``bufferevent_socket_connect_hostname`` resolves in a worker thread
  whatever ``evdns_base`` is (there is no evdns here); a failure still
  reaches eventcb as BEV_EVENT_ERROR with bufferevent_socket_get_dns_error()
  set to the EAI_* code.
* Out-parameters become return values: ``bufferevent_getcb(bev)`` returns
  ``(readcb, writecb, eventcb, cbarg)``; ``bufferevent_getwatermark(bev,
  events)`` returns ``(0, (low, high))`` or ``(-1, None)``;
  ``bufferevent_pair_new(base, options)`` returns ``(0, (a, b))`` or
  ``(-1, None)``; ``bufferevent_read(bev, size)`` returns ``bytes`` (None
  on error).
* Timeouts are ``(sec, usec)`` tuples or None.
* The errno of a BEV_EVENT_ERROR is ``bev.last_error`` (C: errno).
* bufferevent_incref/decref do nothing: Python reference counting keeps a
  Bufferevent alive while anything uses it.
* ``bufferevent_filter_new(underlying, input_filter, output_filter,
  options, free_context, ctx)``: filters keep the C signature
  ``filter(src, dst, dst_limit, mode, ctx)``; ``free_context(ctx)`` runs
  when the filter bufferevent object is garbage-collected (C: when it is
  destroyed).  A filter returning BEV_ERROR reaches eventcb as
  READING|ERROR or WRITING|ERROR (libevent 2.1 ignores it).
* Rate limits: ``tick_len`` is a ``(sec, usec)`` tuple or None (1 s);
  bufferevent_rate_limit_group_get_totals returns ``(read, written)``;
  freeing a group that still has members is refused (logged, -1 style)
  where libevent asserts.
* Not here yet: bufferevent_lock/unlock.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._evloop import (
    Bufferevent,
    EventBase,
    BEV_EVENT_READING, BEV_EVENT_WRITING, BEV_EVENT_EOF, BEV_EVENT_ERROR,
    BEV_EVENT_TIMEOUT, BEV_EVENT_CONNECTED,
    BEV_OPT_CLOSE_ON_FREE, BEV_OPT_THREADSAFE, BEV_OPT_DEFER_CALLBACKS,
    BEV_OPT_UNLOCK_CALLBACKS,
    BEV_NORMAL, BEV_FLUSH, BEV_FINISHED,
    BEV_TRIG_IGNORE_WATERMARKS, BEV_TRIG_DEFER_CALLBACKS,
    BEV_OK, BEV_NEED_MORE, BEV_ERROR,
    RateLimitGroup, TokenBucketCfg,
)
from .buffer import _buf, _call, _data, _int, _unwrap, _wrap
from .util import _timeval

if TYPE_CHECKING:
    from socket import _Address
    from typing import TypeAlias

    from _typeshed import FileDescriptorLike, ReadableBuffer

    from .._evloop import DataCb, EventCb, Evbuffer, FilterFn
    from .util import Timeval

    #: bufferevent_filter_cb: filter(src, dst, dst_limit, mode, ctx) -> BEV_OK/...
    _CtxFilterFn: TypeAlias = Callable[[Evbuffer, Evbuffer, int, int, Any], int]

__all__ = [
    # constants
    "BEV_EVENT_READING", "BEV_EVENT_WRITING", "BEV_EVENT_EOF", "BEV_EVENT_ERROR",
    "BEV_EVENT_TIMEOUT", "BEV_EVENT_CONNECTED",
    "BEV_OPT_CLOSE_ON_FREE", "BEV_OPT_THREADSAFE", "BEV_OPT_DEFER_CALLBACKS",
    "BEV_OPT_UNLOCK_CALLBACKS",
    "BEV_NORMAL", "BEV_FLUSH", "BEV_FINISHED",
    "BEV_OK", "BEV_NEED_MORE", "BEV_ERROR",
    "BEV_TRIG_IGNORE_WATERMARKS", "BEV_TRIG_DEFER_CALLBACKS",
    # sockets
    "bufferevent_socket_new", "bufferevent_socket_connect",
    "bufferevent_socket_connect_hostname", "bufferevent_socket_get_dns_error",
    "bufferevent_setfd", "bufferevent_getfd",
    # generic
    "bufferevent_free", "bufferevent_get_base", "bufferevent_priority_set",
    "bufferevent_get_priority", "bufferevent_setcb", "bufferevent_getcb",
    "bufferevent_get_underlying", "bufferevent_write", "bufferevent_write_buffer",
    "bufferevent_read", "bufferevent_read_buffer", "bufferevent_get_input",
    "bufferevent_get_output", "bufferevent_enable", "bufferevent_disable",
    "bufferevent_get_enabled", "bufferevent_set_timeouts", "bufferevent_setwatermark",
    "bufferevent_getwatermark", "bufferevent_flush", "bufferevent_trigger",
    "bufferevent_trigger_event", "bufferevent_incref", "bufferevent_decref",
    "bufferevent_set_max_single_read", "bufferevent_get_max_single_read",
    "bufferevent_set_max_single_write", "bufferevent_get_max_single_write",
    # pairs and filters
    "bufferevent_pair_new", "bufferevent_pair_get_partner", "bufferevent_filter_new",
    # rate limits
    "ev_token_bucket_cfg_new", "ev_token_bucket_cfg_free", "bufferevent_set_rate_limit",
    "bufferevent_get_read_limit", "bufferevent_get_write_limit",
    "bufferevent_decrement_read_limit", "bufferevent_decrement_write_limit",
    "bufferevent_get_max_to_read", "bufferevent_get_max_to_write",
    "bufferevent_rate_limit_group_new", "bufferevent_rate_limit_group_set_cfg",
    "bufferevent_rate_limit_group_set_min_share", "bufferevent_rate_limit_group_free",
    "bufferevent_rate_limit_group_get_read_limit", "bufferevent_rate_limit_group_get_write_limit",
    "bufferevent_rate_limit_group_get_totals", "bufferevent_rate_limit_group_reset_totals",
    "bufferevent_add_to_rate_limit_group", "bufferevent_remove_from_rate_limit_group",
    # bufferevent_compat.h
    "EVBUFFER_INPUT", "EVBUFFER_OUTPUT",
]



def _bev(bev: object, name: str = "bufev") -> Bufferevent:
    if not isinstance(bev, Bufferevent):
        raise TypeError(f"{name} must be a Bufferevent, not {type(bev).__name__}")
    return bev


def _base(base: object) -> EventBase:
    if not isinstance(base, EventBase):
        raise TypeError(f"base must be an EventBase, not {type(base).__name__}")
    return base


def _tv(tv: object, name: str) -> Timeval | None:
    return None if tv is None else _timeval(tv, name)


# -- sockets ---------------------------------------------------------------------------

def bufferevent_socket_new(base: EventBase, fd: FileDescriptorLike,
                           options: int) -> Bufferevent | None:
    """bufferevent_socket_new(): a socket Bufferevent on fd (-1: none yet), or None."""
    return _call("bufferevent_socket_new",
                 lambda: Bufferevent(_base(base), fd, _int(options, "options")), error=None)


def bufferevent_socket_connect(bev: Bufferevent, sa: _Address, socklen: int | None = None) -> int:
    """bufferevent_socket_connect(): start connecting to sa (socket-module address); 0 or -1."""
    def connect() -> int:
        b = _bev(bev, "bev")
        if sa is None:
            raise ValueError("sa=None (an fd that is already connecting) is not supported")
        b.socket_connect(sa)
        return 0
    return _call("bufferevent_socket_connect", connect)


def bufferevent_socket_connect_hostname(bev: Bufferevent, evdns_base: object, family: int,
                                        hostname: str, port: int) -> int:
    """bufferevent_socket_connect_hostname(): resolve (in a thread) and connect; 0 or -1."""
    return _call("bufferevent_socket_connect_hostname",
                 lambda: _bev(bev, "bev").socket_connect_hostname(
                     _int(family, "family"), hostname, _int(port, "port"), evdns_base) or 0)


def bufferevent_socket_get_dns_error(bev: Bufferevent) -> int:
    """bufferevent_socket_get_dns_error(): the EAI_* code of the last failed lookup, or 0."""
    return _call("bufferevent_socket_get_dns_error",
                 lambda: _bev(bev, "bev").get_dns_error(), error=0)


def bufferevent_setfd(bufev: Bufferevent, fd: FileDescriptorLike) -> int:
    """bufferevent_setfd(): watch fd (-1: none) instead; 0 or -1."""
    return _call("bufferevent_setfd", lambda: _bev(bufev).setfd(fd) or 0)


def bufferevent_getfd(bufev: Bufferevent) -> int:
    """bufferevent_getfd(): the socket of bufev, or -1."""
    return _call("bufferevent_getfd", lambda: _bev(bufev).getfd())


# -- generic ---------------------------------------------------------------------------

def bufferevent_free(bufev: Bufferevent) -> None:
    """bufferevent_free(): stop and release bufev; unsent output is dropped, as in libevent."""
    _call("bufferevent_free", lambda: _bev(bufev).free(), error=None)


def bufferevent_get_base(bev: Bufferevent) -> EventBase | None:
    """bufferevent_get_base(): the EventBase of bev, or None."""
    return _call("bufferevent_get_base", lambda: _bev(bev, "bev").base, error=None)


def bufferevent_priority_set(bufev: Bufferevent, pri: int) -> int:
    """bufferevent_priority_set(): the priority of bufev's events; 0 or -1."""
    return _call("bufferevent_priority_set",
                 lambda: _bev(bufev).priority_set(_int(pri, "pri")) or 0)


def bufferevent_get_priority(bufev: Bufferevent) -> int:
    """bufferevent_get_priority(): the priority of bufev's events, or -1."""
    return _call("bufferevent_get_priority", lambda: _bev(bufev).get_priority())


def bufferevent_setcb(bufev: Bufferevent, readcb: DataCb | None, writecb: DataCb | None,
                      eventcb: EventCb | None, cbarg: Any) -> None:
    """bufferevent_setcb(): replace the three callbacks and their arg (void: failures logged)."""
    _call("bufferevent_setcb",
          lambda: _bev(bufev).setcb(_wrap(readcb, "readcb"), _wrap(writecb, "writecb"),
                                    _wrap(eventcb, "eventcb"), cbarg),
          error=None)


def bufferevent_getcb(
        bufev: Bufferevent) -> tuple[DataCb | None, DataCb | None, EventCb | None, Any] | None:
    """bufferevent_getcb(): (readcb, writecb, eventcb, cbarg), the C out-parameters, or None."""
    def getcb() -> tuple[DataCb | None, DataCb | None, EventCb | None, Any]:
        r, w, e, arg = _bev(bufev).getcb()
        return _unwrap(r), _unwrap(w), _unwrap(e), arg
    return _call("bufferevent_getcb", getcb, error=None)


def bufferevent_get_underlying(bufev: Bufferevent) -> Bufferevent | None:
    """bufferevent_get_underlying(): the bufferevent under a filter, else None."""
    return _call("bufferevent_get_underlying", lambda: _bev(bufev).get_underlying(),
                 error=None)


def bufferevent_write(bufev: Bufferevent, data: ReadableBuffer, size: int | None = None) -> int:
    """bufferevent_write(): append data (size bytes of it if given) to the output; 0 or -1."""
    return _call("bufferevent_write", lambda: _bev(bufev).write(_data(data, size)) or 0)


def bufferevent_write_buffer(bufev: Bufferevent, buf: Evbuffer) -> int:
    """bufferevent_write_buffer(): move all of buf into the output; 0 or -1."""
    return _call("bufferevent_write_buffer",
                 lambda: _bev(bufev).write_buffer(_buf(buf)) or 0)


def bufferevent_read(bufev: Bufferevent, size: int) -> bytes | None:
    """bufferevent_read(): up to size bytes from the input, as bytes (C: the count), or None."""
    return _call("bufferevent_read", lambda: _bev(bufev).read(_int(size, "size")), error=None)


def bufferevent_read_buffer(bufev: Bufferevent, buf: Evbuffer) -> int:
    """bufferevent_read_buffer(): move all of the input into buf; 0 or -1."""
    return _call("bufferevent_read_buffer", lambda: _bev(bufev).read_buffer(_buf(buf)) or 0)


def bufferevent_get_input(bufev: Bufferevent) -> Evbuffer | None:
    """bufferevent_get_input(): the input Evbuffer, or None."""
    return _call("bufferevent_get_input", lambda: _bev(bufev).get_input(), error=None)


def bufferevent_get_output(bufev: Bufferevent) -> Evbuffer | None:
    """bufferevent_get_output(): the output Evbuffer, or None."""
    return _call("bufferevent_get_output", lambda: _bev(bufev).get_output(), error=None)


def bufferevent_enable(bufev: Bufferevent, event: int) -> int:
    """bufferevent_enable(): enable EV_READ and/or EV_WRITE; 0 or -1."""
    return _call("bufferevent_enable", lambda: _bev(bufev).enable(_int(event, "event")) or 0)


def bufferevent_disable(bufev: Bufferevent, event: int) -> int:
    """bufferevent_disable(): disable EV_READ and/or EV_WRITE; 0 or -1."""
    return _call("bufferevent_disable", lambda: _bev(bufev).disable(_int(event, "event")) or 0)


def bufferevent_get_enabled(bufev: Bufferevent) -> int:
    """bufferevent_get_enabled(): the EV_READ|EV_WRITE bits enabled (0 for a bad bufev)."""
    return _call("bufferevent_get_enabled", lambda: _bev(bufev).get_enabled(), error=0)


def bufferevent_set_timeouts(bufev: Bufferevent, timeout_read: Timeval | None,
                             timeout_write: Timeval | None) -> int:
    """bufferevent_set_timeouts(): (sec, usec) or None for each direction; 0 or -1."""
    return _call("bufferevent_set_timeouts",
                 lambda: _bev(bufev).set_timeouts(_tv(timeout_read, "timeout_read"),
                                                  _tv(timeout_write, "timeout_write")) or 0)


def bufferevent_setwatermark(bufev: Bufferevent, events: int, lowmark: int,
                             highmark: int) -> None:
    """bufferevent_setwatermark(): set the low/high watermarks of events (void: failures logged)."""
    _call("bufferevent_setwatermark",
          lambda: _bev(bufev).setwatermark(_int(events, "events"), _int(lowmark, "lowmark"),
                                           _int(highmark, "highmark")),
          error=None)


def bufferevent_getwatermark(bufev: Bufferevent,
                             events: int) -> tuple[int, tuple[int, int] | None]:
    """bufferevent_getwatermark(): (0, (lowmark, highmark)) of EV_READ or EV_WRITE; (-1, None)."""
    return _call("bufferevent_getwatermark",
                 lambda: (0, _bev(bufev).getwatermark(_int(events, "events"))),
                 error=(-1, None))


def bufferevent_flush(bufev: Bufferevent, iotype: int, mode: int) -> int:
    """bufferevent_flush(): 0 (nothing to do: always for sockets), 1 (data moved) or -1."""
    return _call("bufferevent_flush",
                 lambda: _bev(bufev).flush(_int(iotype, "iotype"), _int(mode, "mode")))


def bufferevent_trigger(bufev: Bufferevent, iotype: int, options: int) -> None:
    """bufferevent_trigger(): run readcb/writecb as if data came/drained (void: failures logged)."""
    _call("bufferevent_trigger",
          lambda: _bev(bufev).trigger(_int(iotype, "iotype"), _int(options, "options")),
          error=None)


def bufferevent_trigger_event(bufev: Bufferevent, what: int, options: int) -> None:
    """bufferevent_trigger_event(): run eventcb(bufev, what, arg) (void: failures logged)."""
    _call("bufferevent_trigger_event",
          lambda: _bev(bufev).trigger_event(_int(what, "what"), _int(options, "options")),
          error=None)


def bufferevent_incref(bufev: Bufferevent) -> int:
    """bufferevent_incref(): a no-op returning 0; Python's reference counting keeps bufev alive."""
    return 0


def bufferevent_decref(bufev: Bufferevent) -> int:
    """bufferevent_decref(): a no-op returning 0 (never "freed"); bufferevent_free() releases."""
    return 0


def bufferevent_set_max_single_read(bev: Bufferevent, size: int) -> int:
    """bufferevent_set_max_single_read(): bytes per read (<= 0: the default 16384); 0 or -1."""
    return _call("bufferevent_set_max_single_read",
                 lambda: _bev(bev, "bev").set_max_single_read(_int(size, "size")) or 0)


def bufferevent_get_max_single_read(bev: Bufferevent) -> int:
    """bufferevent_get_max_single_read(): bytes per read, or -1."""
    return _call("bufferevent_get_max_single_read",
                 lambda: _bev(bev, "bev").get_max_single_read())


def bufferevent_set_max_single_write(bev: Bufferevent, size: int) -> int:
    """bufferevent_set_max_single_write(): bytes per write (<= 0: the default 16384); 0 or -1."""
    return _call("bufferevent_set_max_single_write",
                 lambda: _bev(bev, "bev").set_max_single_write(_int(size, "size")) or 0)


def bufferevent_get_max_single_write(bev: Bufferevent) -> int:
    """bufferevent_get_max_single_write(): bytes per write, or -1."""
    return _call("bufferevent_get_max_single_write",
                 lambda: _bev(bev, "bev").get_max_single_write())


# -- pairs ---------------------------------------------------------------------------------

def bufferevent_pair_new(base: EventBase,
                         options: int) -> tuple[int, tuple[Bufferevent, Bufferevent] | None]:
    """bufferevent_pair_new(): (0, (a, b)), the C pair[2] out-parameter, or (-1, None)."""
    return _call("bufferevent_pair_new",
                 lambda: (0, Bufferevent.pair(_base(base), _int(options, "options"))),
                 error=(-1, None))


def bufferevent_pair_get_partner(bev: Bufferevent) -> Bufferevent | None:
    """bufferevent_pair_get_partner(): the other end of a pair, or None."""
    return _call("bufferevent_pair_get_partner", lambda: _bev(bev, "bev").get_partner(),
                 error=None)


# -- filters -------------------------------------------------------------------------------

def _filter_fn(fn: _CtxFilterFn | None, name: str, ctx: Any) -> FilterFn | None:
    if fn is None:
        return None
    if not callable(fn):
        raise TypeError(f"{name} must be callable or None, not {type(fn).__name__}")
    user = _wrap(fn, name)
    return lambda src, dst, dst_limit, mode: user(src, dst, dst_limit, mode, ctx)


def bufferevent_filter_new(underlying: Bufferevent, input_filter: _CtxFilterFn | None,
                           output_filter: _CtxFilterFn | None, options: int,
                           free_context: Callable[[Any], object] | None = None,
                           ctx: Any = None) -> Bufferevent | None:
    """bufferevent_filter_new(): a filter Bufferevent over underlying, or None.
    Filters are called as filter(src, dst, dst_limit, mode, ctx) and return
    BEV_OK, BEV_NEED_MORE or BEV_ERROR; None copies everything."""
    def new() -> Bufferevent:
        under = _bev(underlying, "underlying")
        if free_context is not None and not callable(free_context):
            raise TypeError(f"free_context must be callable or None, "
                            f"not {type(free_context).__name__}")
        bev = Bufferevent.filter(under, _filter_fn(input_filter, "input_filter", ctx),
                                 _filter_fn(output_filter, "output_filter", ctx),
                                 _int(options, "options"))
        if free_context is not None:
            weakref.finalize(bev, free_context, ctx)
        return bev
    return _call("bufferevent_filter_new", new, error=None)


# -- rate limits -------------------------------------------------------------------------

def _cfg(cfg: object) -> TokenBucketCfg:
    if not isinstance(cfg, TokenBucketCfg):
        raise TypeError(f"cfg must be an ev_token_bucket_cfg, not {type(cfg).__name__}")
    return cfg


def _group(g: object) -> RateLimitGroup:
    if not isinstance(g, RateLimitGroup):
        raise TypeError(f"grp must be a rate-limit group, not {type(g).__name__}")
    return g


def ev_token_bucket_cfg_new(read_rate: int, read_burst: int, write_rate: int, write_burst: int,
                            tick_len: Timeval | None = None) -> TokenBucketCfg | None:
    """ev_token_bucket_cfg_new(): a cfg (tick_len (sec, usec) or None = 1 s), or None."""
    return _call("ev_token_bucket_cfg_new",
                 lambda: TokenBucketCfg(read_rate, read_burst, write_rate, write_burst,
                                        _tv(tick_len, "tick_len")), error=None)


def ev_token_bucket_cfg_free(cfg: TokenBucketCfg) -> None:
    """ev_token_bucket_cfg_free(): nothing to do (garbage-collected)."""


def bufferevent_set_rate_limit(bev: Bufferevent, cfg: TokenBucketCfg | None) -> int:
    """bufferevent_set_rate_limit(): cfg, or None to remove the limit; 0 or -1."""
    return _call("bufferevent_set_rate_limit",
                 lambda: _bev(bev, "bev").set_rate_limit(None if cfg is None else _cfg(cfg)) or 0)


def bufferevent_get_read_limit(bev: Bufferevent) -> int:
    """bufferevent_get_read_limit(): the read bucket now (EV_SSIZE_MAX: no limit)."""
    return _call("bufferevent_get_read_limit", lambda: _bev(bev, "bev").get_read_limit())


def bufferevent_get_write_limit(bev: Bufferevent) -> int:
    """bufferevent_get_write_limit(): the write bucket now."""
    return _call("bufferevent_get_write_limit", lambda: _bev(bev, "bev").get_write_limit())


def bufferevent_decrement_read_limit(bev: Bufferevent, decr: int) -> int:
    """bufferevent_decrement_read_limit(); 0 or -1 (no rate limit set)."""
    return _call("bufferevent_decrement_read_limit",
                 lambda: _bev(bev, "bev").decrement_read_limit(_int(decr, "decr")) or 0)


def bufferevent_decrement_write_limit(bev: Bufferevent, decr: int) -> int:
    """bufferevent_decrement_write_limit(); 0 or -1."""
    return _call("bufferevent_decrement_write_limit",
                 lambda: _bev(bev, "bev").decrement_write_limit(_int(decr, "decr")) or 0)


def bufferevent_get_max_to_read(bev: Bufferevent) -> int:
    """bufferevent_get_max_to_read(): what one read may take now, or -1."""
    return _call("bufferevent_get_max_to_read", lambda: _bev(bev, "bev").get_max_to_read())


def bufferevent_get_max_to_write(bev: Bufferevent) -> int:
    """bufferevent_get_max_to_write(): what one write may send now, or -1."""
    return _call("bufferevent_get_max_to_write", lambda: _bev(bev, "bev").get_max_to_write())


def bufferevent_rate_limit_group_new(base: EventBase,
                                     cfg: TokenBucketCfg) -> RateLimitGroup | None:
    """bufferevent_rate_limit_group_new(): a group sharing cfg's buckets, or None."""
    return _call("bufferevent_rate_limit_group_new",
                 lambda: RateLimitGroup(_base(base), _cfg(cfg)), error=None)


def bufferevent_rate_limit_group_set_cfg(grp: RateLimitGroup, cfg: TokenBucketCfg) -> int:
    """bufferevent_rate_limit_group_set_cfg(); 0 or -1."""
    return _call("bufferevent_rate_limit_group_set_cfg",
                 lambda: _group(grp).set_cfg(_cfg(cfg)) or 0)


def bufferevent_rate_limit_group_set_min_share(grp: RateLimitGroup, share: int) -> int:
    """bufferevent_rate_limit_group_set_min_share(); 0 or -1."""
    return _call("bufferevent_rate_limit_group_set_min_share",
                 lambda: _group(grp).set_min_share(_int(share, "share")) or 0)


def bufferevent_rate_limit_group_free(grp: RateLimitGroup) -> None:
    """bufferevent_rate_limit_group_free() (void: a group with members is logged, not freed)."""
    _call("bufferevent_rate_limit_group_free", lambda: _group(grp).free(), error=None)


def bufferevent_rate_limit_group_get_read_limit(grp: RateLimitGroup) -> int:
    """bufferevent_rate_limit_group_get_read_limit(): the shared read bucket."""
    return _call("bufferevent_rate_limit_group_get_read_limit",
                 lambda: _group(grp).get_read_limit())


def bufferevent_rate_limit_group_get_write_limit(grp: RateLimitGroup) -> int:
    """bufferevent_rate_limit_group_get_write_limit(): the shared write bucket."""
    return _call("bufferevent_rate_limit_group_get_write_limit",
                 lambda: _group(grp).get_write_limit())


def bufferevent_rate_limit_group_get_totals(grp: RateLimitGroup) -> tuple[int, int] | None:
    """bufferevent_rate_limit_group_get_totals(): (total_read, total_written), the C
    out-parameters, or None."""
    return _call("bufferevent_rate_limit_group_get_totals",
                 lambda: _group(grp).get_totals(), error=None)


def bufferevent_rate_limit_group_reset_totals(grp: RateLimitGroup) -> None:
    """bufferevent_rate_limit_group_reset_totals() (void)."""
    _call("bufferevent_rate_limit_group_reset_totals",
          lambda: _group(grp).reset_totals(), error=None)


def bufferevent_add_to_rate_limit_group(bev: Bufferevent, g: RateLimitGroup) -> int:
    """bufferevent_add_to_rate_limit_group(); 0 or -1."""
    return _call("bufferevent_add_to_rate_limit_group",
                 lambda: _group(g).add(_bev(bev, "bev")) or 0)


def bufferevent_remove_from_rate_limit_group(bev: Bufferevent) -> int:
    """bufferevent_remove_from_rate_limit_group(); 0 or -1."""
    def remove() -> int:
        b = _bev(bev, "bev")
        for g in _groups_of(b):
            g.remove(b)
        return 0
    return _call("bufferevent_remove_from_rate_limit_group", remove)


def _groups_of(bev: Bufferevent) -> list[RateLimitGroup]:
    g = bev.get_rate_limit_group()
    return [] if g is None else [g]


# -- bufferevent_compat.h ----------------------------------------------------------------

def EVBUFFER_INPUT(x: Bufferevent) -> Evbuffer | None:
    """EVBUFFER_INPUT(x) (bufferevent_compat.h): bufferevent_get_input(x)."""
    return bufferevent_get_input(x)


def EVBUFFER_OUTPUT(x: Bufferevent) -> Evbuffer | None:
    """EVBUFFER_OUTPUT(x) (bufferevent_compat.h): bufferevent_get_output(x)."""
    return bufferevent_get_output(x)
