"""A freed EventBase refuses every operation with RuntimeError (issue 10,
item 12, the libevent side): in libevent each of these is a use after
free.  Queries that only report state (closed, get_method, got_exit, the
event's pending()) keep working, and freeing again is a no-op.

The asyncio loop built on a freed base is the asyncio face's business
(tests/aio); here the base is used directly.
"""
import pytest

import evloop
from evloop import EV_READ, EV_TIMEOUT, EVLOOP_NONBLOCK, Bufferevent, Event, EventBase


def noop(*args):
    pass


def _freed_base_ops(base, ev, sock):
    """Every operation of the libevent face that needs a live base."""
    return {
        "Event()": lambda: Event(base, -1, 0, noop),
        "Event.timer": lambda: Event.timer(base, noop),
        "Event.signal": lambda: Event.signal(base, 10, noop),
        "ev.add": lambda: ev.add(),
        "ev.add(timeout)": lambda: ev.add(1),
        "ev.delete": lambda: ev.delete(),
        "ev.active": lambda: ev.active(EV_TIMEOUT),
        "ev.remove_timer": lambda: ev.remove_timer(),
        "ev.priority_set": lambda: ev.priority_set(0),
        "ev.finalize": lambda: ev.finalize(noop),
        "ev.assign": lambda: ev.assign(base, -1, 0, noop),
        "loop": lambda: base.loop(),
        "loop(NONBLOCK)": lambda: base.loop(EVLOOP_NONBLOCK),
        "dispatch": lambda: base.dispatch(),
        "loopexit": lambda: base.loopexit(),
        "loopbreak": lambda: base.loopbreak(),
        "loopcontinue": lambda: base.loopcontinue(),
        "once": lambda: base.once(-1, EV_TIMEOUT, noop),
        "priority_init": lambda: base.priority_init(3),
        "init_common_timeout": lambda: base.init_common_timeout(1),
        "reinit": lambda: base.reinit(),
        "active_by_fd": lambda: base.active_by_fd(0, EV_READ),
        "active_by_signal": lambda: base.active_by_signal(10),
        "foreach_event": lambda: base.foreach_event(noop),
        "dump_events": lambda: base.dump_events(),
        "get_num_events": lambda: base.get_num_events(evloop.EVENT_BASE_COUNT_ADDED),
        "get_max_events": lambda: base.get_max_events(evloop.EVENT_BASE_COUNT_ADDED),
        "gettimeofday_cached": lambda: base.gettimeofday_cached(),
        "update_cache_time": lambda: base.update_cache_time(),
        "set_exception_handler": lambda: base.set_exception_handler(None),
        "with base": lambda: base.__enter__(),
        "Bufferevent()": lambda: Bufferevent(base, sock.fileno()),
        "Bufferevent.pair": lambda: Bufferevent.pair(base),
        "Listener.bind": lambda: evloop.Listener.bind(base, None, None, 0, -1, ("127.0.0.1", 0)),
        "RateLimitGroup": lambda: evloop.RateLimitGroup(base, evloop.TokenBucketCfg(1, 1, 1, 1)),
        "Evbuffer.defer_callbacks": lambda: evloop.Evbuffer().defer_callbacks(base),
    }


OP_NAMES = list(_freed_base_ops(None, None, None))


@pytest.mark.parametrize("op", OP_NAMES)
def test_freed_base_refuses(op, pair):
    a, _ = pair
    base = EventBase()
    ev = Event.timer(base, noop)
    base.free()
    with pytest.raises(RuntimeError, match="freed"):
        _freed_base_ops(base, ev, a)[op]()
    # the refusal changed nothing
    assert base.closed
    assert ev.pending() == 0


@pytest.mark.parametrize("op", OP_NAMES)
def test_base_freed_from_a_callback_refuses_at_once(op, pair):
    # free() inside a callback defers the teardown to the end of loop(),
    # but the base is already unusable for the rest of that callback.
    a, _ = pair
    base = EventBase()
    ev = Event.timer(base, noop)
    errors = []

    def cb(fd, what, arg):
        base.free()
        try:
            _freed_base_ops(base, ev, a)[op]()
        except RuntimeError as exc:
            errors.append(exc)

    base.once(-1, EV_TIMEOUT, cb)
    base.loop()
    assert len(errors) == 1 and "freed" in str(errors[0])
    assert base.closed and ev.pending() == 0


def test_freed_base_queries_still_answer():
    base = EventBase()
    method = base.get_method()
    ev = Event.timer(base, noop)
    ev.add(5)
    base.free()
    assert base.closed
    assert base.get_method() == method and base.method == method
    assert isinstance(base.get_features(), int)
    assert base.get_npriorities() == 1
    assert not base.got_exit() and not base.got_break()
    assert base.get_running_event() is None
    assert "freed" in repr(base)
    assert ev.pending() == 0 and ev.initialized()
    ev.free()                      # freeing is always allowed
    base.free()                    # idempotent
    base._validate()


def test_freed_base_objects_refuse(pair):
    a, _ = pair
    base = EventBase()
    bev = Bufferevent(base, a.fileno())
    p, q = Bufferevent.pair(base)
    lev = evloop.Listener.bind(base, None, None, 0, -1, ("127.0.0.1", 0))
    group = evloop.RateLimitGroup(base, evloop.TokenBucketCfg(10, 10, 10, 10))
    base.free()
    for call in (lambda: bev.enable(EV_READ), lambda: bev.write(b"x"),
                 lambda: bev.set_timeouts(1, 1), lambda: p.flush(EV_READ, evloop.BEV_FLUSH),
                 lambda: lev.enable(), lambda: lev.set_cb(None), lambda: group.add(bev),
                 lambda: group.set_min_share(1), lambda: Bufferevent.filter(p, None, None)):
        with pytest.raises(RuntimeError, match="freed"):
            call()
    for obj in (bev, p, q, lev, group):
        obj.free()                 # freeing what is left is always allowed


def test_finalizer_run_by_free_may_delete_its_event():
    # A finalizer commonly tidies up; delete() of the event being finalized
    # is a no-op, also while free() tears the base down.
    base = EventBase()
    seen = []
    ev = Event.timer(base, noop)

    def fin(e, arg):
        e.delete()
        seen.append(e)

    ev.finalize(fin)
    base.free()
    assert seen == [ev]
