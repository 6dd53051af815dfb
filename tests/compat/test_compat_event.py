"""evloop.compat.event and evloop.compat.event_compat: libevent's event.h and
event_compat.h under their C names.

Every function is called at least once, on every backend.  Besides the
behaviour, the tests pin the compat conventions: 0/-1 returns, None for NULL,
``(sec, usec)`` timevals, nothing raised for bad input (the reason is logged
on 'evloop.compat'), and exceptions from user callbacks left alone.
"""
import io
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

import evloop
import evloop.compat as compat
from evloop.compat import *  # noqa: F401,F403  -- the point of the module
from evloop.compat import event as compat_event

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def cbase(backend):
    """A base made through compat, pinned to ``backend`` the libevent way."""
    cfg = event_config_new()
    for m in event_get_supported_methods():
        if m != backend:
            assert event_config_avoid_method(cfg, m) == 0
    base = event_base_new_with_config(cfg)
    event_config_free(cfg)
    assert base is not None
    assert event_base_get_method(base) == backend
    yield base
    event_base_free(base)


@pytest.fixture
def no_current_base():
    """event_compat's global base is reset around the test."""
    assert compat_event._current_base is None
    yield
    if compat_event._current_base is not None:
        event_base_free(compat_event._current_base)
    compat_event._current_base = None


def compat_failures(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "evloop.compat"]


class Recorder:
    """A libevent callback that records (fd, what, arg)."""

    def __init__(self, action=None):
        self.calls = []
        self.action = action

    def __call__(self, fd, what, arg):
        self.calls.append((fd, what, arg))
        if self.action is not None:
            self.action(fd, what, arg)


# -- names, docstrings, constants ------------------------------------------------------

EVENT_H = """
event_base_new event_base_new_with_config event_base_free event_base_free_nofinalize
event_reinit event_base_get_method event_get_supported_methods event_base_get_features
event_base_get_num_events event_base_get_max_events event_get_version
event_get_version_number event_config_new event_config_free event_config_avoid_method
event_config_require_features event_config_set_flag event_config_set_max_dispatch_interval
event_base_dispatch event_base_loop event_base_loopexit event_base_loopbreak
event_base_loopcontinue event_base_got_exit event_base_got_break event_base_once
event_new event_assign event_free event_finalize event_free_finalize event_self_cbarg
event_add event_remove_timer event_del event_del_noblock event_del_block event_active
event_pending event_initialized event_get_fd event_get_base event_get_events
event_get_callback event_get_callback_arg event_get_priority event_get_assignment
event_base_get_running_event event_base_active_by_fd event_base_active_by_signal
event_base_priority_init event_base_get_npriorities event_priority_set
event_base_init_common_timeout event_base_gettimeofday_cached event_base_update_cache_time
event_gettime_monotonic event_base_foreach_event event_base_dump_events
event_enable_debug_mode event_debug_unassign event_set_log_callback
evtimer_new evtimer_assign evtimer_add evtimer_del evtimer_pending evtimer_initialized
evsignal_new evsignal_assign evsignal_add evsignal_del evsignal_pending evsignal_initialized
evuser_new evuser_del evuser_pending evuser_initialized evuser_trigger event_get_signal
""".split()

EVENT_COMPAT_H = """
event_init event_dispatch event_loop event_loopexit event_loopbreak event_once
event_get_method event_priority_init event_set EVENT_FD EVENT_SIGNAL
""".split()

CONSTANTS = {
    "EV_TIMEOUT": 0x01, "EV_READ": 0x02, "EV_WRITE": 0x04, "EV_SIGNAL": 0x08,
    "EV_PERSIST": 0x10, "EV_ET": 0x20, "EV_FINALIZE": 0x40, "EV_CLOSED": 0x80,
    "EVLOOP_ONCE": 0x01, "EVLOOP_NONBLOCK": 0x02, "EVLOOP_NO_EXIT_ON_EMPTY": 0x04,
    "EV_FEATURE_ET": 0x01, "EV_FEATURE_O1": 0x02, "EV_FEATURE_FDS": 0x04,
    "EV_FEATURE_EARLY_CLOSE": 0x08,
    "EVENT_BASE_FLAG_NOLOCK": 0x01, "EVENT_BASE_FLAG_IGNORE_ENV": 0x02,
    "EVENT_BASE_FLAG_STARTUP_IOCP": 0x04, "EVENT_BASE_FLAG_NO_CACHE_TIME": 0x08,
    "EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST": 0x10, "EVENT_BASE_FLAG_PRECISE_TIMER": 0x20,
    "EVENT_BASE_COUNT_ACTIVE": 1, "EVENT_BASE_COUNT_VIRTUAL": 2, "EVENT_BASE_COUNT_ADDED": 4,
    "EVENT_MAX_PRIORITIES": 256,
    "EVENT_LOG_DEBUG": 0, "EVENT_LOG_MSG": 1, "EVENT_LOG_WARN": 2, "EVENT_LOG_ERR": 3,
}


def test_every_header_name_is_exported():
    for name in EVENT_H + EVENT_COMPAT_H + list(CONSTANTS):
        assert name in compat.__all__, name
        assert hasattr(compat, name), name
    assert len(set(compat.__all__)) == len(compat.__all__)
    for name in compat.__all__:
        assert getattr(compat, name) is not None, name


def test_constants_keep_libevent_values():
    for name, value in CONSTANTS.items():
        assert getattr(compat, name) == value, name
    assert compat.EV_READ == evloop.EV_READ
    assert LIBEVENT_VERSION == "2.1.12-stable"
    assert LIBEVENT_VERSION_NUMBER == 0x02010C00


def test_docstrings_name_the_c_function():
    for module in (compat, compat.event, compat.event_compat, compat.util):
        assert module.__doc__ and module.__doc__.strip()
    assert "event2/event.h" in compat.event.__doc__
    assert "event2/event_compat.h" in compat.event_compat.__doc__
    assert "event2/util.h" in compat.util.__doc__
    for name in compat.__all__:
        obj = getattr(compat, name)
        if callable(obj):
            assert obj.__doc__, name
            assert obj.__doc__.lstrip().startswith(name + "("), name


def test_versions():
    assert event_get_version() == "2.1.12-stable"
    assert event_get_version_number() == 0x02010C00


# -- event_base and event_config ---------------------------------------------------------

def test_event_base_new_and_method():
    base = event_base_new()
    try:
        method = event_base_get_method(base)
        assert isinstance(method, str)
        assert method in event_get_supported_methods()
        assert event_reinit(base) == 0
    finally:
        event_base_free(base)


def test_supported_methods():
    methods = event_get_supported_methods()
    assert isinstance(methods, list)
    assert {"epoll", "poll", "select"} <= set(methods)


def test_features_follow_the_backend(cbase, backend):
    features = event_base_get_features(cbase)
    assert isinstance(features, int)
    if backend == "epoll":
        assert features & EV_FEATURE_ET and features & EV_FEATURE_O1
    else:
        assert features & EV_FEATURE_FDS
        assert not features & EV_FEATURE_ET


def test_config_without_a_backend_gives_none(caplog):
    cfg = event_config_new()
    assert event_config_require_features(
        cfg, EV_FEATURE_ET | EV_FEATURE_O1 | EV_FEATURE_FDS | EV_FEATURE_EARLY_CLOSE) == 0
    assert event_base_new_with_config(cfg) is None
    event_config_free(cfg)
    assert any("event_base_new_with_config" in m for m in compat_failures(caplog))


def test_config_avoiding_everything_gives_none():
    cfg = event_config_new()
    for m in event_get_supported_methods():
        event_config_avoid_method(cfg, m)
    assert event_base_new_with_config(cfg) is None


def test_config_none_means_defaults():
    base = event_base_new_with_config(None)
    assert base is not None
    event_base_free(base)


def test_config_functions_return_0_or_minus_1(caplog):
    cfg = event_config_new()
    assert event_config_avoid_method(cfg, "select") == 0
    assert event_config_avoid_method(cfg, 42) == -1
    assert event_config_require_features(cfg, EV_FEATURE_O1) == 0
    assert event_config_require_features(cfg, 0x1000) == -1
    assert event_config_require_features(cfg, "O1") == -1
    assert event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER) == 0
    assert event_config_set_flag(cfg, 0x10000) == -1
    assert event_config_set_max_dispatch_interval(cfg, (0, 5000), 10, 0) == 0
    assert event_config_set_max_dispatch_interval(cfg, None, -1, 0) == 0
    assert event_config_set_max_dispatch_interval(cfg, 0.5, -1, 0) == -1
    assert event_config_set_max_dispatch_interval(cfg, (-1, 0), -1, 0) == -1
    assert event_config_avoid_method("not a config", "poll") == -1
    assert event_config_set_flag(None, 0) == -1
    base = event_base_new_with_config(cfg)
    assert base is not None
    assert event_base_get_method(base) != "select"
    event_base_free(base)
    event_config_free(cfg)
    assert len(compat_failures(caplog)) == 8


def test_freed_base(caplog):
    base = event_base_new()
    event_base_free(base)
    event_base_free(base)  # idempotent, like the object API
    assert event_base_dispatch(base) == -1
    assert event_base_loop(base, 0) == -1
    assert event_new(base, -1, 0, Recorder(), None) is None
    assert event_base_loopexit(base, None) == -1
    assert compat_failures(caplog)


def test_base_free_runs_pending_finalizers():
    base = event_base_new()
    done = []
    ev = evtimer_new(base, Recorder(), "fin")
    assert evtimer_add(ev, (100, 0)) == 0
    assert event_finalize(0, ev, lambda e, arg: done.append(arg)) == 0
    event_base_free(base)
    assert done == ["fin"]  # libevent: event_base_free runs them
    assert event_base_dispatch(base) == -1
    event_free(ev)


def test_base_free_nofinalize():
    base = event_base_new()
    done = []
    ev = evtimer_new(base, Recorder(), None)
    assert evtimer_add(ev, (100, 0)) == 0
    fin = evtimer_new(base, Recorder(), None)
    assert event_finalize(0, fin, lambda e, arg: done.append(arg)) == 0
    event_base_free_nofinalize(base)
    assert done == []  # ... and event_base_free_nofinalize does not
    assert event_base_dispatch(base) == -1
    assert evtimer_pending(ev) == 0
    event_free(ev)
    event_free(fin)


def test_bad_bases_give_minus_1_and_none(caplog):
    for bad in (None, 3, "base", object()):
        assert event_base_dispatch(bad) == -1
        assert event_base_loop(bad, 0) == -1
        assert event_reinit(bad) == -1
        assert event_base_get_method(bad) is None
        assert event_base_get_features(bad) == 0
        assert event_base_get_num_events(bad, EVENT_BASE_COUNT_ADDED) == -1
        assert event_base_get_max_events(bad, EVENT_BASE_COUNT_ADDED, 0) == -1
        assert event_base_loopbreak(bad) == -1
        assert event_base_loopcontinue(bad) == -1
        assert event_base_got_exit(bad) == 0
        assert event_base_got_break(bad) == 0
        assert event_base_priority_init(bad, 2) == -1
        assert event_base_get_npriorities(bad) == -1
        assert event_base_update_cache_time(bad) == -1
        assert event_gettime_monotonic(bad) == (-1, None)
        assert event_base_init_common_timeout(bad, (1, 0)) is None
        assert event_base_get_running_event(bad) is None
        assert event_base_foreach_event(bad, lambda b, e, a: 0, None) == -1
        assert event_new(bad, -1, 0, Recorder(), None) is None
        assert evtimer_new(bad, Recorder(), None) is None
        assert event_base_once(bad, -1, EV_TIMEOUT, Recorder(), None, None) == -1
        event_base_active_by_fd(bad, 0, EV_READ)
        event_base_active_by_signal(bad, signal.SIGUSR1)
        event_base_dump_events(bad, io.StringIO())
    assert event_base_new_with_config("not a config") is None
    assert len(compat_failures(caplog)) > 20


def test_num_events(cbase):
    ev1 = evtimer_new(cbase, Recorder(), None)
    ev2 = evtimer_new(cbase, Recorder(), None)
    # A base may hold internal events (libevent counts them as ADDED).
    added = event_base_get_num_events(cbase, EVENT_BASE_COUNT_ADDED)
    evtimer_add(ev1, (100, 0))
    evtimer_add(ev2, (100, 0))
    assert event_base_get_num_events(cbase, EVENT_BASE_COUNT_ADDED) == added + 2
    assert event_base_get_num_events(cbase, EVENT_BASE_COUNT_ACTIVE) == 0
    event_active(ev1, EV_TIMEOUT, 1)
    assert event_base_get_num_events(cbase, EVENT_BASE_COUNT_ACTIVE) == 1
    event_del(ev1)
    event_del(ev2)
    assert event_base_get_num_events(cbase, EVENT_BASE_COUNT_ADDED) == added
    assert event_base_get_max_events(cbase, EVENT_BASE_COUNT_ADDED, 1) >= added + 2
    assert event_base_get_num_events(cbase, "added") == -1
    event_free(ev1)
    event_free(ev2)


# -- the loop ----------------------------------------------------------------------

def test_dispatch_without_events_returns_1(cbase):
    assert event_base_dispatch(cbase) == 1
    assert event_base_loop(cbase, EVLOOP_NONBLOCK) == 1


def test_timer_fires_and_dispatch_returns_1(cbase):
    rec = Recorder()
    ev = evtimer_new(cbase, rec, "arg")
    assert evtimer_initialized(ev) == 1
    assert evtimer_add(ev, (0, 1000)) == 0
    assert evtimer_pending(ev) == EV_TIMEOUT
    assert event_base_dispatch(cbase) == 1  # libevent: nothing left -> 1
    assert rec.calls == [(-1, EV_TIMEOUT, "arg")]
    assert evtimer_pending(ev) == 0
    assert evtimer_del(ev) == 0
    event_free(ev)


def test_loop_flags(cbase):
    rec = Recorder()
    ev = evtimer_new(cbase, rec, None)
    far = evtimer_new(cbase, Recorder(), None)
    evtimer_add(far, (100, 0))
    assert event_base_loop(cbase, EVLOOP_NONBLOCK) == 0
    evtimer_add(ev, (0, 0))
    assert event_base_loop(cbase, EVLOOP_ONCE) == 0
    assert len(rec.calls) == 1
    assert event_base_loop(cbase, "once") == -1
    event_free(ev)
    event_free(far)


def test_loopexit_before_dispatch(cbase):
    ev = event_new(cbase, -1, EV_PERSIST, Recorder(), None)
    event_add(ev, (100, 0))
    assert event_base_loopexit(cbase, None) == 0
    assert event_base_dispatch(cbase) == 0
    assert event_base_got_exit(cbase) == 1
    assert event_base_got_break(cbase) == 0
    event_free(ev)


def test_loopexit_with_timeval(cbase):
    ev = event_new(cbase, -1, EV_PERSIST, Recorder(), None)
    event_add(ev, (100, 0))
    assert event_base_loopexit(cbase, (0, 2000)) == 0
    assert event_base_dispatch(cbase) == 0
    assert event_base_got_exit(cbase) == 1
    event_free(ev)


def test_loopexit_bad_timevals(cbase, caplog):
    assert event_base_loopexit(cbase, 1.5) == -1
    assert event_base_loopexit(cbase, (-1, 0)) == -1
    assert event_base_loopexit(cbase, (0, 1, 2)) == -1
    assert event_base_loopexit(cbase, "soon") == -1
    assert len(compat_failures(caplog)) == 4


def test_loopbreak_and_loopcontinue(cbase):
    results = []

    def cb(fd, what, arg):
        results.append(event_base_loopcontinue(cbase))
        results.append(event_base_loopbreak(cbase))

    ev = event_new(cbase, -1, EV_PERSIST, cb, None)
    event_add(ev, (0, 1000))
    assert event_base_dispatch(cbase) == 0
    assert results == [0, 0]
    assert event_base_got_break(cbase) == 1
    assert event_base_got_exit(cbase) == 0
    event_free(ev)


def test_reentrant_loop_is_minus_1(cbase, caplog):
    inner = []

    def cb(fd, what, arg):
        inner.append(event_base_dispatch(cbase))
        inner.append(event_base_loop(cbase, EVLOOP_NONBLOCK))

    ev = evtimer_new(cbase, cb, None)
    evtimer_add(ev, (0, 0))
    assert event_base_dispatch(cbase) == 1
    assert inner == [-1, -1]
    assert any("event_base_dispatch" in m for m in compat_failures(caplog))
    event_free(ev)


@pytest.mark.parametrize("exc_type", [ZeroDivisionError, RuntimeError, OSError, ValueError])
def test_callback_exceptions_propagate(cbase, exc_type):
    def cb(fd, what, arg):
        raise exc_type("from the callback")

    ev = evtimer_new(cbase, cb, None)
    evtimer_add(ev, (0, 0))
    with pytest.raises(exc_type, match="from the callback"):
        event_base_dispatch(cbase)
    event_free(ev)


def test_base_once_timer_and_fd(cbase, pair):
    a, b = pair
    rec = Recorder()
    assert event_base_once(cbase, -1, EV_TIMEOUT, rec, "t", (0, 0)) == 0
    assert event_base_once(cbase, -1, EV_TIMEOUT, rec, "n", None) == 0
    b.send(b"x")
    assert event_base_once(cbase, a, EV_READ, rec, "r", None) == 0
    assert event_base_dispatch(cbase) == 1
    assert sorted(rec.calls, key=repr) == sorted(
        [(-1, EV_TIMEOUT, "t"), (-1, EV_TIMEOUT, "n"), (a.fileno(), EV_READ, "r")], key=repr)


def test_base_once_refuses_signal_and_persist(cbase, caplog):
    assert event_base_once(cbase, signal.SIGUSR1, EV_SIGNAL, Recorder(), None, None) == -1
    assert event_base_once(cbase, -1, EV_TIMEOUT | EV_PERSIST, Recorder(), None, None) == -1
    assert event_base_once(cbase, -1, EV_TIMEOUT, Recorder(), None, 2.0) == -1
    assert len(compat_failures(caplog)) == 3


# -- events ---------------------------------------------------------------------------

def test_event_new_and_getters(cbase, pair):
    a, _ = pair
    rec = Recorder()
    ev = event_new(cbase, a, EV_READ | EV_PERSIST, rec, "arg")
    assert isinstance(ev, evloop.Event)
    assert event_initialized(ev) == 1
    assert event_get_fd(ev) == a.fileno()
    assert event_get_base(ev) is cbase
    assert event_get_events(ev) == EV_READ | EV_PERSIST
    assert event_get_callback(ev) is rec
    assert event_get_callback_arg(ev) == "arg"
    assert event_get_priority(ev) == 0
    assert event_get_assignment(ev) == (cbase, a.fileno(), EV_READ | EV_PERSIST, rec, "arg")
    event_free(ev)


def test_event_new_bad_arguments(cbase, caplog):
    assert event_new(cbase, -1, 0x1000, Recorder(), None) is None
    assert event_new(cbase, signal.SIGUSR1, EV_SIGNAL | EV_READ, Recorder(), None) is None
    assert event_new(cbase, "fd", EV_READ, Recorder(), None) is None
    assert event_new(cbase, -1, "read", Recorder(), None) is None
    assert len(compat_failures(caplog)) == 4


def test_bad_events_give_minus_1(caplog):
    for bad in (None, 7, "event"):
        assert event_add(bad, None) == -1
        assert event_del(bad) == -1
        assert event_del_block(bad) == -1
        assert event_del_noblock(bad) == -1
        assert event_remove_timer(bad) == -1
        assert event_pending(bad, EV_TIMEOUT) == 0
        assert event_pending(bad, EV_TIMEOUT, True) == (0, None)
        assert event_initialized(bad) == 0
        assert event_get_fd(bad) == -1
        assert event_get_base(bad) is None
        assert event_get_events(bad) == 0
        assert event_get_callback(bad) is None
        assert event_get_callback_arg(bad) is None
        assert event_get_priority(bad) == -1
        assert event_get_assignment(bad) is None
        assert event_priority_set(bad, 0) == -1
        assert event_finalize(0, bad, lambda e, a: None) == -1
        assert event_free_finalize(0, bad, lambda e, a: None) == -1
        assert event_assign(bad, None, -1, 0, Recorder(), None) == -1
        event_active(bad, EV_READ, 1)
        event_free(bad)
        event_debug_unassign(bad)
    assert len(compat_failures(caplog)) > 40


def test_event_assign_reassigns(cbase, pair):
    a, _ = pair
    first, second = Recorder(), Recorder()
    ev = evtimer_new(cbase, first, 1)
    assert event_assign(ev, cbase, a, EV_READ, second, 2) == 0
    assert event_get_assignment(ev) == (cbase, a.fileno(), EV_READ, second, 2)
    assert evtimer_assign(ev, cbase, first, 3) == 0
    assert event_get_assignment(ev) == (cbase, -1, 0, first, 3)
    assert event_add(ev, (100, 0)) == 0
    assert event_assign(ev, cbase, -1, 0, second, 4) == -1  # pending
    assert event_get_callback(ev) is first
    event_free(ev)


def test_event_base_set(cbase):
    other = event_base_new()
    try:
        ev = evtimer_new(other, Recorder(), "x")
        assert event_base_set(cbase, ev) == 0
        assert event_get_base(ev) is cbase
        assert event_get_callback_arg(ev) == "x"
        assert event_base_set("nope", ev) == -1
        event_free(ev)
    finally:
        event_base_free(other)


def test_event_free_then_use(cbase, caplog):
    ev = evtimer_new(cbase, Recorder(), None)
    event_free(ev)
    event_free(ev)  # idempotent
    assert event_add(ev, (0, 0)) == -1
    assert compat_failures(caplog)


def test_event_add_bad_timevals(cbase, caplog):
    ev = evtimer_new(cbase, Recorder(), None)
    assert event_add(ev, 1) == -1
    assert event_add(ev, (1,)) == -1
    assert event_add(ev, (1.0, 0)) == -1
    assert event_add(ev, (0, -5)) == -1
    assert event_add(ev, (0, 1_000_000)) == -1
    assert evtimer_pending(ev) == 0
    assert len(compat_failures(caplog)) == 5
    event_free(ev)


def test_event_add_refused_fd(cbase, backend, caplog):
    if backend == "poll":
        pytest.skip("poll() reports a bad fd only when polling (POLLNVAL)")
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    ev = event_new(cbase, r if backend == "epoll" else 5000, EV_READ, Recorder(), None)
    assert ev is not None
    assert event_add(ev, None) == -1
    assert compat_failures(caplog)
    event_free(ev)


def test_event_self_cbarg(cbase):
    rec = Recorder()
    ev = evtimer_new(cbase, rec, event_self_cbarg())
    assert event_get_callback_arg(ev) is ev
    assert event_get_assignment(ev) == (cbase, -1, 0, rec, ev)
    evtimer_add(ev, (0, 0))
    event_base_dispatch(cbase)
    assert rec.calls == [(-1, EV_TIMEOUT, ev)]
    event_free(ev)


def test_io_event_fires(cbase, pair):
    a, b = pair
    got = []

    def cb(fd, what, arg):
        got.append((fd, what, arg, os.read(fd, 100)))
        event_del(arg)

    ev = event_new(cbase, a, EV_READ | EV_PERSIST, cb, event_self_cbarg())
    assert event_add(ev, None) == 0
    assert event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT) == EV_READ
    b.send(b"ping")
    assert event_base_dispatch(cbase) == 1
    assert got == [(a.fileno(), EV_READ, ev, b"ping")]
    event_free(ev)


def test_remove_timer_and_del(cbase, pair):
    a, _ = pair
    ev = event_new(cbase, a, EV_READ, Recorder(), None)
    assert event_add(ev, (100, 0)) == 0
    assert event_pending(ev, EV_READ | EV_TIMEOUT) == EV_READ | EV_TIMEOUT
    assert event_remove_timer(ev) == 0
    assert event_pending(ev, EV_READ | EV_TIMEOUT) == EV_READ
    assert event_del_noblock(ev) == 0
    assert event_pending(ev, EV_READ | EV_TIMEOUT) == 0
    assert event_add(ev, None) == 0
    assert event_del_block(ev) == 0
    assert event_del(ev) == 0  # not added: still 0
    assert event_pending(ev, EV_READ) == 0
    event_free(ev)


def test_pending_with_timeval(cbase):
    ev = evtimer_new(cbase, Recorder(), None)
    assert event_pending(ev, EV_TIMEOUT, True) == (0, None)
    before = time.time()
    assert evtimer_add(ev, (100, 250000)) == 0
    flags, tv = event_pending(ev, EV_TIMEOUT, True)
    assert flags == EV_TIMEOUT
    sec, usec = tv
    assert isinstance(sec, int) and isinstance(usec, int)
    assert 0 <= usec < 1_000_000
    assert before + 90 < sec + usec / 1e6 < before + 110
    assert evtimer_pending(ev, True)[0] == EV_TIMEOUT
    # Without EV_TIMEOUT in the question, libevent leaves tv alone.
    assert event_pending(ev, EV_READ, True) == (0, None)
    assert event_pending(ev, "timeout") == 0
    event_free(ev)


def test_event_active(cbase):
    rec = Recorder()
    ev = evtimer_new(cbase, rec, None)
    event_active(ev, EV_READ, 1)  # works on a non-pending event
    assert event_pending(ev, EV_READ) == EV_READ
    event_active(ev, EV_WRITE, 1)  # ORed into the same activation
    assert event_base_dispatch(cbase) == 1
    assert rec.calls == [(-1, EV_READ | EV_WRITE, None)]
    event_free(ev)


def test_running_event(cbase):
    seen = []
    ev = evtimer_new(cbase, lambda fd, what, arg: seen.append(
        event_base_get_running_event(cbase)), None)
    assert event_base_get_running_event(cbase) is None
    evtimer_add(ev, (0, 0))
    event_base_dispatch(cbase)
    assert seen == [ev]
    event_free(ev)


def test_active_by_fd(cbase, pair):
    a, _ = pair
    rec = Recorder()
    ev = event_new(cbase, a, EV_READ, rec, None)
    event_add(ev, None)
    event_base_active_by_fd(cbase, a, EV_READ)
    assert event_base_loop(cbase, EVLOOP_NONBLOCK) != -1
    assert rec.calls == [(a.fileno(), EV_READ, None)]
    event_free(ev)


def test_active_by_signal(cbase):
    rec = Recorder()
    ev = evsignal_new(cbase, signal.SIGUSR1, rec, None)
    assert evsignal_initialized(ev) == 1
    assert evsignal_add(ev, None) == 0
    assert evsignal_pending(ev) == EV_SIGNAL
    event_base_active_by_signal(cbase, signal.SIGUSR1)
    assert event_base_loop(cbase, EVLOOP_NONBLOCK) == 0
    assert len(rec.calls) == 1
    fd, what, arg = rec.calls[0]
    assert fd == signal.SIGUSR1 and what & EV_SIGNAL and arg is None
    assert evsignal_del(ev) == 0
    assert evsignal_pending(ev, True) == (0, None)
    event_free(ev)


def test_signal_event_gets_a_real_signal(cbase):
    # A Python handler first, so that a core that failed to take the signal
    # cannot kill the test run; the loopexit bounds the wait in that case.
    previous = signal.signal(signal.SIGUSR2, lambda *a: None)
    try:
        rec = Recorder(lambda fd, what, arg: event_base_loopexit(cbase, None))
        ev = evsignal_new(cbase, signal.SIGUSR2, rec, event_self_cbarg())
        assert event_get_signal(ev) == signal.SIGUSR2
        assert event_get_events(ev) == EV_SIGNAL | EV_PERSIST
        assert evsignal_add(ev, None) == 0
        assert event_base_loopexit(cbase, (30, 0)) == 0
        os.kill(os.getpid(), signal.SIGUSR2)
        assert event_base_dispatch(cbase) == 0
        assert rec.calls and rec.calls[0][:2] == (signal.SIGUSR2, EV_SIGNAL)
        assert rec.calls[0][2] is ev
        event_free(ev)
    finally:
        signal.signal(signal.SIGUSR2, previous)


def test_evsignal_assign(cbase):
    ev = evtimer_new(cbase, Recorder(), None)
    assert evsignal_assign(ev, cbase, signal.SIGUSR1, Recorder(), None) == 0
    assert event_get_events(ev) == EV_SIGNAL | EV_PERSIST
    assert event_get_signal(ev) == signal.SIGUSR1
    event_free(ev)


def test_evuser(cbase):
    rec = Recorder()
    ev = evuser_new(cbase, rec, "u")
    assert evuser_initialized(ev) == 1
    assert evuser_pending(ev) == 0
    evuser_trigger(ev)
    assert evuser_pending(ev) == 0  # event_pending(ev, 0, ...): always 0, as in libevent
    assert event_base_loop(cbase, EVLOOP_NONBLOCK) != -1
    assert rec.calls == [(-1, 0, "u")]
    assert evuser_del(ev) == 0
    event_free(ev)


def test_finalize(cbase):
    done = []
    ev = evtimer_new(cbase, Recorder(), "a")
    evtimer_add(ev, (100, 0))
    assert event_finalize(0, ev, lambda e, arg: done.append((e, arg))) == 0
    assert evtimer_pending(ev) == 0
    assert event_add(ev, (0, 0)) == -1  # finalizing: refused
    event_base_loop(cbase, EVLOOP_NONBLOCK)
    assert done == [(ev, "a")]
    event_free(ev)


def test_free_finalize(cbase):
    done = []
    ev = evtimer_new(cbase, Recorder(), "b")
    assert event_free_finalize(0, ev, lambda e, arg: done.append(arg)) == 0
    event_base_loop(cbase, EVLOOP_NONBLOCK)
    assert done == ["b"]
    assert event_add(ev, None) == -1


def test_finalizer_exception_propagates(cbase):
    def fin(ev, arg):
        raise KeyError("finalizer")

    ev = evtimer_new(cbase, Recorder(), None)
    event_finalize(0, ev, fin)
    with pytest.raises(KeyError):
        event_base_loop(cbase, EVLOOP_NONBLOCK)
    event_free(ev)


# -- priorities and time -------------------------------------------------------------------

def test_priorities(cbase):
    order = []
    assert event_base_priority_init(cbase, 3) == 0
    assert event_base_get_npriorities(cbase) == 3
    low = evtimer_new(cbase, lambda fd, w, a: order.append("low"), None)
    high = evtimer_new(cbase, lambda fd, w, a: order.append("high"), None)
    assert event_get_priority(low) == 1  # npriorities // 2
    assert event_priority_set(low, 2) == 0
    assert event_priority_set(high, 0) == 0
    assert event_get_priority(low) == 2
    assert event_priority_set(high, 3) == -1
    assert event_priority_set(high, "0") == -1
    event_active(low, EV_TIMEOUT, 1)
    event_active(high, EV_TIMEOUT, 1)
    assert event_priority_set(high, 1) == -1  # active
    assert event_base_priority_init(cbase, 2) == -1  # callbacks active
    event_base_dispatch(cbase)
    assert order == ["high", "low"]
    assert event_base_priority_init(cbase, 0) == -1
    assert event_base_priority_init(cbase, 256) == -1
    event_free(low)
    event_free(high)


def test_common_timeout(cbase):
    token = event_base_init_common_timeout(cbase, (0, 2000))
    assert token is not None
    rec = Recorder()
    evs = [evtimer_new(cbase, rec, i) for i in range(3)]
    for ev in evs:
        assert evtimer_add(ev, token) == 0
        assert evtimer_pending(ev) == EV_TIMEOUT
    assert event_base_dispatch(cbase) == 1
    assert [arg for _, _, arg in rec.calls] == [0, 1, 2]  # FIFO, like libevent's list
    assert event_base_init_common_timeout(cbase, 0.002) is None
    assert event_base_init_common_timeout(cbase, (-1, 0)) is None
    for ev in evs:
        event_free(ev)


def test_gettimeofday_cached(cbase):
    before = time.time()
    sec, usec = event_base_gettimeofday_cached(cbase)
    assert isinstance(sec, int) and 0 <= usec < 1_000_000
    assert before - 60 < sec + usec / 1e6 < before + 60
    assert event_base_update_cache_time(cbase) == 0
    seen = []
    ev = evtimer_new(cbase, lambda fd, w, a: seen.append(
        (event_base_gettimeofday_cached(cbase), event_base_update_cache_time(cbase))), None)
    evtimer_add(ev, (0, 0))
    event_base_dispatch(cbase)
    (cached, rc), = seen
    assert rc == 0 and isinstance(cached, tuple) and len(cached) == 2
    assert event_base_gettimeofday_cached("x") is None
    event_free(ev)


def test_gettimeofday_cached_without_base(no_current_base):
    sec, usec = event_base_gettimeofday_cached(None)
    assert abs(sec + usec / 1e6 - time.time()) < 60


def test_gettime_monotonic(cbase):
    rc, (sec, usec) = event_gettime_monotonic(cbase)
    assert rc == 0 and 0 <= usec < 1_000_000
    rc2, tv2 = event_gettime_monotonic(cbase)
    assert rc2 == 0 and tv2 >= (sec, usec)


# -- introspection and debugging -------------------------------------------------------

def test_foreach_event(cbase, pair):
    a, _ = pair
    ev1 = event_new(cbase, a, EV_READ, Recorder(), None)
    ev2 = evtimer_new(cbase, Recorder(), None)
    event_add(ev1, None)
    evtimer_add(ev2, (100, 0))
    seen = []

    def visit(base, ev, arg):
        seen.append((base, ev, arg))
        return 0

    assert event_base_foreach_event(cbase, visit, "x") == 0
    assert {id(ev) for _, ev, _ in seen} >= {id(ev1), id(ev2)}
    assert all(b is cbase and arg == "x" for b, _, arg in seen)
    assert event_base_foreach_event(cbase, lambda b, e, arg: 7, None) == 7

    def broken(base, ev, arg):
        raise LookupError("visitor")

    with pytest.raises(LookupError):
        event_base_foreach_event(cbase, broken, None)
    event_free(ev1)
    event_free(ev2)


def test_dump_events(cbase, pair, capsys):
    a, _ = pair
    ev = event_new(cbase, a, EV_READ | EV_PERSIST, Recorder(), None)
    event_add(ev, None)
    out = io.StringIO()
    assert event_base_dump_events(cbase, out) is None
    text = out.getvalue()
    assert "Inserted events" in text and "Active events" in text
    assert str(a.fileno()) in text
    event_base_dump_events(cbase, None)
    assert "Inserted events" in capsys.readouterr().out
    event_free(ev)


def test_enable_debug_mode_late_is_logged(cbase, caplog):
    assert event_enable_debug_mode() is None  # a base exists: refused, not raised
    assert any("event_enable_debug_mode" in m for m in compat_failures(caplog))


def test_enable_debug_mode_in_a_fresh_process():
    code = (
        "import logging, sys\n"
        "from evloop.compat import *\n"
        "logs = []\n"
        "event_set_log_callback(lambda sev, msg: logs.append((sev, msg)))\n"
        "event_enable_debug_mode()\n"
        "assert logs == [], logs\n"
        "event_enable_debug_mode()\n"
        "assert logs and logs[0][0] == EVENT_LOG_WARN, logs\n"
        "base = event_base_new()\n"
        "assert base is not None\n"
        "event_base_free(base)\n"
        "print('ok')\n"
    )
    env = dict(os.environ, PYTHONPATH=ROOT)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_debug_unassign(cbase, caplog):
    ev = evtimer_new(cbase, Recorder(), None)
    event_debug_unassign(ev)
    assert not compat_failures(caplog)
    evtimer_add(ev, (100, 0))
    event_debug_unassign(ev)  # libevent asserts: the event is added
    assert any("event_debug_unassign" in m for m in compat_failures(caplog))
    event_free(ev)


def test_log_callback():
    got = []
    event_set_log_callback(lambda severity, msg: got.append((severity, msg)))
    try:
        assert event_add("not an event", None) == -1
        logging.getLogger("evloop.compat").error("an error")
        logging.getLogger("evloop.compat").debug("a detail")
    finally:
        event_set_log_callback(None)
    got = [(sev, msg) for sev, msg in got if sev != EVENT_LOG_DEBUG]
    assert len(got) == 2
    assert got[0][0] == EVENT_LOG_WARN and "event_add" in got[0][1]
    assert got[1] == (EVENT_LOG_ERR, "an error")
    assert logging.getLogger("evloop").propagate
    # None restored the default: nothing more reaches the callback.
    before = len(got)
    event_add("not an event", None)
    assert len(got) == before


def test_failures_are_logged_on_evloop_compat(cbase, caplog):
    with caplog.at_level(logging.WARNING, logger="evloop.compat"):
        assert event_base_loopexit(cbase, "later") == -1
    rec, = [r for r in caplog.records if r.name == "evloop.compat"]
    assert rec.levelno == logging.WARNING
    assert "event_base_loopexit" in rec.getMessage()


# -- event_compat.h ---------------------------------------------------------------------

def test_event_compat_before_init(no_current_base, caplog):
    assert event_dispatch() == -1
    assert event_loop(EVLOOP_NONBLOCK) == -1
    assert event_loopexit(None) == -1
    assert event_loopbreak() == -1
    assert event_once(-1, EV_TIMEOUT, Recorder(), None, None) == -1
    assert event_get_method() is None
    assert event_priority_init(2) == -1
    assert event_set(None, -1, 0, Recorder(), None) is None
    assert len(compat_failures(caplog)) == 8


def test_event_compat_global_base(no_current_base):
    base = event_init()
    assert isinstance(base, evloop.EventBase)
    assert event_get_method() == event_base_get_method(base)
    assert event_priority_init(2) == 0
    assert event_base_get_npriorities(base) == 2

    rec = Recorder()
    ev = event_set(None, -1, 0, rec, "set")
    assert event_get_base(ev) is base
    assert event_set(ev, -1, EV_TIMEOUT, rec, "again") is ev
    assert evtimer_set(ev, rec, "timer") is ev
    assert EVENT_FD(ev) == -1
    assert event_add(ev, (0, 0)) == 0
    assert event_once(-1, EV_TIMEOUT, rec, "once", (0, 0)) == 0
    assert event_dispatch() == 1
    assert sorted(arg for _, _, arg in rec.calls) == ["once", "timer"]

    sig = evsignal_set(None, signal.SIGUSR1, rec, None)
    assert EVENT_SIGNAL(sig) == signal.SIGUSR1
    assert event_get_events(sig) == EV_SIGNAL | EV_PERSIST
    assert event_set("bad", -1, 0, rec, None) is None

    keep = evtimer_set(None, rec, "keep")
    event_add(keep, (100, 0))
    assert event_loopexit(None) == 0
    assert event_dispatch() == 0
    assert event_base_got_exit(base) == 1
    assert event_loop(EVLOOP_NONBLOCK) == 0
    assert event_loopbreak() == 0

    event_free(keep)
    event_free(ev)
    event_free(sig)
    event_base_free(None)  # NULL frees the current base, as in libevent
    assert compat_event._current_base is None
    assert event_dispatch() == -1


def test_event_base_free_none_without_current_base(no_current_base, caplog):
    event_base_free(None)
    assert any("event_base_free" in m for m in compat_failures(caplog))
