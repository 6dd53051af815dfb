"""Event states (initialized / pending / active), event_pending, event_add
deadline rules, persistence, event_active, self-cbarg, get_assignment and
the I/O behaviour of events (readiness, EV_CLOSED, EV_ET, several events
per fd).

Ports the spirit of regress.c main/ ``event_pending``, ``remove_timer``,
``persistent_timeout``, ``persistent_active_timeout``, ``self_cbarg``,
``event_assign_selfarg``, ``get_assignment``, ``simpleread``,
``simplewrite``, ``simpleclose``, ``multiple_events_for_same_fd``,
``manipulate_active_events`` and regress_et.c.
"""
import os
import time

import pytest

import evloop
from evloop import (
    EV_CLOSED,
    EV_ET,
    EV_FEATURE_EARLY_CLOSE,
    EV_FEATURE_ET,
    EV_PERSIST,
    EV_READ,
    EV_SIGNAL,
    EV_TIMEOUT,
    EV_WRITE,
    EVLIST_ACTIVE,
    EVLIST_INIT,
    EVLIST_INSERTED,
    EVLIST_TIMEOUT,
    EVLOOP_NONBLOCK,
    EVLOOP_ONCE,
    Event,
)
from helpers import Trace, any_base, drain, guard, nb_socketpair  # noqa: F401  (fixtures)

ALL = EV_TIMEOUT | EV_READ | EV_WRITE | EV_SIGNAL | EV_CLOSED


def noop(fd, what, arg):
    pass


# -- states and event_pending ------------------------------------------------------

def test_new_event_is_initialized_only(base, pair):
    a, _ = pair
    ev = Event(base, a, EV_READ, noop)
    assert ev.initialized()
    assert ev.flags == EVLIST_INIT
    assert ev.pending(ALL) == 0
    assert ev.pending(ALL, want_tv=True) == (0, None)


def test_pending_after_add(base, pair):
    a, _ = pair
    ev = Event(base, a, EV_READ | EV_PERSIST, noop)
    ev.add()
    assert ev.flags & EVLIST_INSERTED
    assert not ev.flags & EVLIST_TIMEOUT
    assert not ev.flags & EVLIST_ACTIVE
    assert ev.pending(EV_READ) == EV_READ
    assert ev.pending(EV_WRITE) == 0
    assert ev.pending(EV_TIMEOUT) == 0
    assert ev.pending(ALL) == EV_READ
    assert ev.pending() & EV_READ
    assert ev.pending(ALL, want_tv=True) == (EV_READ, None)


def test_pending_with_timeout(base, pair):
    a, _ = pair
    ev = Event(base, a, EV_READ, noop)
    before = time.time()
    ev.add(10)
    after = time.time()
    assert ev.flags & EVLIST_INSERTED
    assert ev.flags & EVLIST_TIMEOUT
    assert ev.pending(EV_TIMEOUT) == EV_TIMEOUT
    assert ev.pending(EV_READ | EV_TIMEOUT) == EV_READ | EV_TIMEOUT
    flags, deadline = ev.pending(EV_READ | EV_TIMEOUT, want_tv=True)
    assert flags == EV_READ | EV_TIMEOUT
    # deadline is wall-clock time (event_pending converts it)
    assert before + 9 < deadline < after + 11


def test_pure_timer_is_pending_only_through_timeout(any_base):
    ev = Event.timer(any_base, noop)
    ev.add(10)
    assert ev.flags & EVLIST_TIMEOUT
    assert not ev.flags & EVLIST_INSERTED
    assert ev.pending(ALL) == EV_TIMEOUT
    ev.delete()
    assert ev.pending(ALL) == 0


def test_delete(base, pair):
    a, _ = pair
    ev = Event(base, a, EV_READ, noop)
    ev.delete()  # fine on a non-added event
    ev.add(10)
    ev.delete()
    assert ev.flags == EVLIST_INIT
    assert ev.pending(ALL) == 0
    ev.delete()  # and again
    assert base.loop() == 1  # nothing registered any more


def test_add_none_keeps_deadline(base, pair):
    a, _ = pair
    ev = Event(base, a, EV_READ, noop)
    ev.add(10)
    _, d1 = ev.pending(EV_TIMEOUT, want_tv=True)
    ev.add(None)
    flags, d2 = ev.pending(EV_TIMEOUT, want_tv=True)
    assert flags == EV_TIMEOUT
    assert d2 == pytest.approx(d1, abs=0.05)
    ev.add()
    _, d3 = ev.pending(EV_TIMEOUT, want_tv=True)
    assert d3 == pytest.approx(d1, abs=0.05)


def test_add_tv_replaces_deadline(base, pair):
    a, _ = pair
    ev = Event(base, a, EV_READ, noop)
    ev.add(10)
    _, d1 = ev.pending(EV_TIMEOUT, want_tv=True)
    ev.add(100)
    _, d2 = ev.pending(EV_TIMEOUT, want_tv=True)
    assert d2 - d1 == pytest.approx(90, abs=0.5)
    ev.add(1)
    _, d3 = ev.pending(EV_TIMEOUT, want_tv=True)
    assert d1 - d3 == pytest.approx(9, abs=0.5)


def test_add_tuple_timeout(any_base):
    ev = Event.timer(any_base, noop)
    now = time.time()
    ev.add((5, 500000))
    _, d = ev.pending(EV_TIMEOUT, want_tv=True)
    assert d - now == pytest.approx(5.5, abs=0.5)


def test_remove_timer_keeps_registration(base, pair):
    a, b = pair
    trace = Trace()
    ev = Event(base, a, EV_READ, trace.cb("r"))
    ev.add(0.01)
    ev.remove_timer()
    assert ev.pending(ALL) == EV_READ
    assert not ev.flags & EVLIST_TIMEOUT
    # Without its timeout, nothing fires until data arrives.
    assert base.loop(EVLOOP_NONBLOCK) == 0
    assert trace.calls == []
    b.send(b"x")
    g = guard(base)
    base.loop(EVLOOP_ONCE)
    g.delete()
    assert trace.whats == [EV_READ]


def test_remove_timer_on_pure_timer(base):
    trace = Trace()
    ev = Event.timer(base, trace.cb("t"))
    ev.add(0)
    ev.remove_timer()
    assert ev.pending(ALL) == 0
    assert base.loop() == 1
    assert trace.calls == []


# -- non-persistent / persistent ---------------------------------------------------

def test_nonpersistent_fd_timeout_fires_once_for_timeout(base, pair):
    a, _ = pair
    trace = Trace()
    ev = Event(base, a, EV_READ, trace.cb("r"))
    ev.add(0.02)
    # Nothing registered once it fired: the loop runs out of events.
    assert base.loop() == 1
    assert trace.whats == [EV_TIMEOUT]
    assert ev.pending(ALL) == 0


def test_nonpersistent_fd_timeout_fires_once_for_io(base, pair):
    a, b = pair
    trace = Trace()
    ev = Event(base, a, EV_READ, trace.cb("r"))
    b.send(b"x")
    ev.add(10)
    assert base.loop() == 1  # the 10 s timeout went with the registration
    assert trace.whats == [EV_READ]
    assert ev.pending(ALL) == 0
    # still readable, but no longer registered: nothing fires
    assert base.loop(EVLOOP_NONBLOCK) == 1
    assert trace.whats == [EV_READ]


def test_nonpersistent_deleted_before_callback(base, pair):
    a, b = pair
    seen = []

    def cb(fd, what, arg):
        seen.append(ev.pending(ALL))

    ev = Event(base, a, EV_READ, cb)
    ev.add(10)
    b.send(b"x")
    base.loop(EVLOOP_ONCE)
    assert seen == [0]


def test_nonpersistent_readd_from_callback(base, pair):
    a, b = pair
    trace = Trace()

    def again(fd, what, arg):
        if trace.count("r") < 3:
            ev.add()
        else:
            drain(a)

    ev = Event(base, a, EV_READ, trace.cb("r", again))
    ev.add()
    b.send(b"x")
    assert base.loop() == 1
    assert trace.names == ["r", "r", "r"]


def test_persistent_io_stays_registered(base, pair):
    a, b = pair
    trace = Trace()
    ev = Event(base, a, EV_READ | EV_PERSIST, trace.cb("r"))
    ev.add()
    b.send(b"x")
    assert base.loop(EVLOOP_ONCE) == 0
    assert trace.whats == [EV_READ]
    assert ev.pending(ALL) == EV_READ
    # level-triggered: unread data fires it again
    assert base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK) == 0
    assert trace.whats == [EV_READ, EV_READ]
    drain(a)
    assert base.loop(EVLOOP_NONBLOCK) == 0
    assert len(trace.calls) == 2
    ev.delete()


def test_persist_timer_rearms(base):
    trace = Trace()
    inside = []

    def cb(fd, what, arg):
        # the next deadline is computed before the callback runs
        inside.append(ev.pending(ALL))
        if trace.count("t") == 3:
            ev.delete()

    ev = Event(base, -1, EV_PERSIST, trace.cb("t", cb))
    ev.add(0.005)
    assert base.loop() == 1
    assert trace.names == ["t", "t", "t"]
    assert trace.whats == [EV_TIMEOUT] * 3
    assert inside == [EV_TIMEOUT] * 3
    assert ev.pending(ALL) == 0


def test_persist_timer_rearmed_before_callback(base):
    deadlines = []

    def cb(fd, what, arg):
        deadlines.append(ev.pending(EV_TIMEOUT, want_tv=True))
        ev.delete()

    ev = Event(base, -1, EV_PERSIST, cb)
    ev.add(0.02)
    first = ev.pending(EV_TIMEOUT, want_tv=True)[1]
    base.loop()
    (flags, rearmed), = deadlines
    assert flags == EV_TIMEOUT
    # old deadline + interval (or now + interval if that is already past)
    assert rearmed - first > 0.01


def test_persist_callback_readd_wins(base):
    trace = Trace()

    def cb(fd, what, arg):
        ev.add(100)  # replaces the re-armed 10 ms interval
        base.loopexit()

    ev = Event(base, -1, EV_PERSIST, trace.cb("t", cb))
    ev.add(0.01)
    base.loop()
    assert trace.names == ["t"]
    _, deadline = ev.pending(EV_TIMEOUT, want_tv=True)
    assert deadline - time.time() > 50
    ev.delete()


def test_persist_fd_timeout_deleted_in_callback_is_gone(base, pair):
    a, _ = pair
    trace = Trace()
    ev = Event(base, a, EV_READ | EV_PERSIST,
               trace.cb("r", lambda fd, what, arg: ev.delete()))
    ev.add(0.01)
    assert base.loop() == 1
    assert trace.whats == [EV_TIMEOUT]
    assert ev.pending(ALL) == 0


def test_persist_io_restarts_idle_timeout(base, pair):
    a, b = pair
    trace = Trace()

    def cb(fd, what, arg):
        if what & EV_READ:
            drain(a)
            # idle timeout: re-armed to now + interval, still pending
            assert ev.pending(EV_TIMEOUT) == EV_TIMEOUT
        else:
            ev.delete()

    ev = Event(base, a, EV_READ | EV_PERSIST, trace.cb("r", cb))
    b.send(b"x")
    ev.add(0.02)
    assert base.loop() == 1
    assert trace.whats == [EV_READ, EV_TIMEOUT]


# -- event_active -------------------------------------------------------------------

def test_active_on_non_pending_event(base):
    trace = Trace()
    ev = Event(base, -1, 0, trace.cb("a"), "arg")
    ev.active(EV_WRITE)
    assert ev.flags & EVLIST_ACTIVE
    assert ev.pending(ALL) == EV_WRITE  # event_pending reports res while active
    base.loop()
    assert trace.calls == [("a", -1, EV_WRITE, "arg")]
    assert ev.flags == EVLIST_INIT
    assert ev.pending(ALL) == 0


def test_active_twice_ors_res_runs_once(base):
    trace = Trace()
    ev = Event.timer(base, trace.cb("a"))
    ev.active(EV_READ)
    ev.active(EV_WRITE)
    assert ev.pending(ALL) == EV_READ | EV_WRITE
    base.loop()
    assert trace.whats == [EV_READ | EV_WRITE]


def test_active_ncalls_ignored_for_non_signal(base):
    trace = Trace()
    ev = Event.timer(base, trace.cb("a"))
    ev.active(EV_TIMEOUT, 5)
    base.loop()
    assert trace.whats == [EV_TIMEOUT]


def test_free_active_event_does_not_run(base):
    trace = Trace()
    ev = Event.timer(base, trace.cb("a"))
    ev.active(EV_TIMEOUT)
    ev.free()
    assert base.loop() == 1
    assert trace.calls == []


def test_active_on_pending_event_stays_pending(base, pair):
    a, _ = pair
    trace = Trace()
    ev = Event(base, a, EV_READ | EV_PERSIST, trace.cb("r"))
    ev.add()
    ev.active(EV_TIMEOUT)
    assert ev.flags & EVLIST_ACTIVE and ev.flags & EVLIST_INSERTED
    assert ev.pending(ALL) == EV_READ | EV_TIMEOUT
    base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK)
    assert trace.whats == [EV_TIMEOUT]
    assert ev.pending(ALL) == EV_READ
    ev.delete()


def test_active_nonpersistent_pending_event_is_deleted_before_cb(base, pair):
    a, _ = pair
    trace = Trace()
    ev = Event(base, a, EV_READ, trace.cb("r"))
    ev.add(10)
    ev.active(EV_WRITE)
    assert base.loop() == 1
    assert trace.whats == [EV_WRITE]
    assert ev.pending(ALL) == 0


def test_delete_removes_active_state(base):
    trace = Trace()
    a = Event.timer(base, trace.cb("a", lambda fd, what, arg: b.delete()))
    b = Event.timer(base, trace.cb("b"))
    a.active(EV_TIMEOUT)
    b.active(EV_TIMEOUT)
    base.loop()
    assert trace.names == ["a"]


def test_delete_active_event_before_loop(base):
    trace = Trace()
    ev = Event.timer(base, trace.cb("a"))
    ev.active(EV_TIMEOUT)
    ev.delete()
    assert ev.pending(ALL) == 0
    assert base.loop() == 1
    assert trace.calls == []


def test_readd_with_tv_cancels_timeout_activation(base):
    # regress.c: event_add with a tv on an event that is active *because of
    # a timeout* removes that pending activation.
    trace = Trace()

    def a_cb(fd, what, arg):
        b.add(10)
        base.loopexit()

    a = Event.timer(base, trace.cb("a", a_cb))
    b = Event.timer(base, trace.cb("b"))
    a.add(0)
    b.add(0)
    base.loop()
    assert trace.names == ["a"]
    assert b.pending(ALL) == EV_TIMEOUT
    b.delete()


def test_self_cbarg(any_base):
    trace = Trace()
    ev = Event(any_base, -1, 0, trace.cb("s"), evloop.event_self_cbarg())
    assert ev.arg is ev
    assert ev.get_assignment()[4] is ev
    ev.active(EV_TIMEOUT)
    any_base.loop()
    assert trace.calls[0][3] is ev


def test_self_cbarg_timer(any_base):
    trace = Trace()
    ev = Event.timer(any_base, trace.cb("t"), evloop.event_self_cbarg())
    ev.add(0)
    any_base.loop()
    assert trace.calls[0][3] is ev


def test_get_assignment(base, pair):
    a, _ = pair

    def cb(fd, what, arg):
        pass

    arg = object()
    ev = Event(base, a.fileno(), EV_READ | EV_PERSIST, cb, arg)
    got = ev.get_assignment()
    assert got == (base, a.fileno(), EV_READ | EV_PERSIST, cb, arg)
    assert got[0] is base and got[3] is cb and got[4] is arg


def test_properties(base, pair):
    a, _ = pair
    ev = Event(base, a, EV_WRITE, noop, 42)
    assert ev.fd == a.fileno()
    assert ev.base is base
    assert ev.events == EV_WRITE
    assert ev.callback is noop
    assert ev.arg == 42
    assert ev.priority == 0


def test_fd_object_with_fileno(base, pair):
    a, b = pair
    trace = Trace()

    class Wrapper:
        def fileno(self):
            return a.fileno()

    ev = Event(base, Wrapper(), EV_READ, trace.cb("r"))
    assert ev.fd == a.fileno()
    ev.add()
    b.send(b"x")
    g = guard(base)
    base.loop(EVLOOP_ONCE)
    g.delete()
    assert trace.calls[0][:3] == ("r", a.fileno(), EV_READ)
    assert type(trace.calls[0][1]) is int


def test_timer_constructor(any_base):
    ev = Event.timer(any_base, noop, "x")
    assert isinstance(ev, Event)
    assert ev.get_assignment() == (any_base, -1, 0, noop, "x")


def test_signal_constructor(any_base):
    import signal
    ev = Event.signal(any_base, signal.SIGUSR1, noop, "x")
    assert isinstance(ev, Event)
    assert ev.get_assignment() == (any_base, signal.SIGUSR1, EV_SIGNAL | EV_PERSIST, noop, "x")


def test_assign_reassigns(base, pair):
    a, _ = pair
    ev = Event.timer(base, noop)

    def cb2(fd, what, arg):
        pass

    ev.assign(base, a, EV_WRITE, cb2, "y")
    assert ev.get_assignment() == (base, a.fileno(), EV_WRITE, cb2, "y")
    trace = Trace()
    ev.assign(base, a, EV_WRITE, trace.cb("w"), "z")
    ev.add()
    base.loop(EVLOOP_ONCE)
    assert trace.calls == [("w", a.fileno(), EV_WRITE, "z")]


def test_assign_to_other_base(base, make_base):
    other = make_base()
    trace = Trace()
    ev = Event.timer(base, noop)
    ev.assign(other, -1, 0, trace.cb("t"))
    assert ev.base is other
    ev.add(0)
    assert base.loop() == 1
    assert trace.calls == []
    other.loop()
    assert trace.names == ["t"]


def test_assign_on_pending_event_raises(base, pair):
    a, _ = pair
    ev = Event(base, a, EV_READ, noop)
    ev.add()
    with pytest.raises(RuntimeError):
        ev.assign(base, a, EV_WRITE, noop)
    # unchanged
    assert ev.events == EV_READ
    assert ev.pending(ALL) == EV_READ
    ev.delete()
    ev.assign(base, a, EV_WRITE, noop)
    assert ev.events == EV_WRITE


def test_assign_on_active_event_raises(any_base):
    ev = Event.timer(any_base, noop)
    ev.active(EV_TIMEOUT)
    with pytest.raises(RuntimeError):
        ev.assign(any_base, -1, 0, noop)
    any_base.loop()


# -- I/O --------------------------------------------------------------------------

def test_simple_read(base, pair):
    a, b = pair
    trace = Trace()
    got = []
    ev = Event(base, a, EV_READ, trace.cb("r", lambda fd, what, arg: got.append(a.recv(10))),
               "arg")
    ev.add()
    assert base.loop(EVLOOP_NONBLOCK) == 0
    assert trace.calls == []
    b.send(b"hello")
    assert base.loop() == 1
    assert trace.calls == [("r", a.fileno(), EV_READ, "arg")]
    assert got == [b"hello"]


def test_simple_write(base, pair):
    a, _ = pair
    trace = Trace()
    Event(base, a, EV_WRITE, trace.cb("w")).add()
    assert base.loop() == 1
    assert trace.calls[0][:3] == ("w", a.fileno(), EV_WRITE)


def test_read_write_event_reports_what_fired(base, pair):
    a, b = pair
    trace = Trace()
    ev = Event(base, a, EV_READ | EV_WRITE | EV_PERSIST, trace.cb("rw"))
    ev.add()
    base.loop(EVLOOP_ONCE)
    assert trace.whats == [EV_WRITE]
    b.send(b"x")
    base.loop(EVLOOP_ONCE)
    assert trace.whats == [EV_WRITE, EV_READ | EV_WRITE]
    ev.delete()


def test_read_on_peer_close_gives_eof(base, pair):
    a, b = pair
    trace = Trace()
    got = []
    Event(base, a, EV_READ, trace.cb("r", lambda fd, what, arg: got.append(a.recv(1)))).add()
    b.close()
    g = guard(base)
    base.loop(EVLOOP_ONCE)
    g.delete()
    assert trace.whats == [EV_READ]
    assert got == [b""]


def test_closed_on_peer_close(base, pair):
    if not base.get_features() & EV_FEATURE_EARLY_CLOSE:
        pytest.skip(f"{base.get_method()} lacks EV_FEATURE_EARLY_CLOSE")
    a, b = pair
    trace = Trace()
    ev = Event(base, a, EV_CLOSED, trace.cb("c"))
    ev.add()
    assert base.loop(EVLOOP_NONBLOCK) == 0
    assert trace.calls == []
    b.close()
    g = guard(base)
    base.loop(EVLOOP_ONCE)
    g.delete()
    assert len(trace.calls) == 1
    assert trace.whats[0] & EV_CLOSED
    assert not trace.whats[0] & EV_READ  # only what was asked for


def test_closed_with_unread_data(base, pair):
    # EV_CLOSED detects the hang-up without draining the data first.
    if not base.get_features() & EV_FEATURE_EARLY_CLOSE:
        pytest.skip(f"{base.get_method()} lacks EV_FEATURE_EARLY_CLOSE")
    a, b = pair
    trace = Trace()
    Event(base, a, EV_CLOSED | EV_READ | EV_PERSIST, trace.cb("c")).add()
    b.send(b"unread")
    b.close()
    g = guard(base)
    base.loop(EVLOOP_ONCE)
    g.delete()
    assert trace.whats[0] == EV_CLOSED | EV_READ


def test_edge_triggered(base, pair):
    if not base.get_features() & EV_FEATURE_ET:
        pytest.skip(f"{base.get_method()} lacks EV_FEATURE_ET")
    a, b = pair
    trace = Trace()
    ev = Event(base, a, EV_READ | EV_PERSIST | EV_ET, trace.cb("et"))
    ev.add()
    b.send(b"1")
    g = guard(base)
    base.loop(EVLOOP_ONCE)
    assert len(trace.calls) == 1
    assert trace.whats[0] == EV_READ | EV_ET  # the callback sees EV_ET
    # no new edge without new data, even though nothing was read
    assert base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK) == 0
    assert base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK) == 0
    assert len(trace.calls) == 1
    b.send(b"2")
    base.loop(EVLOOP_ONCE)
    assert len(trace.calls) == 2
    g.delete()
    ev.delete()


def test_level_triggered_fires_every_pass(base, pair):
    a, b = pair
    trace = Trace()
    ev = Event(base, a, EV_READ | EV_PERSIST, trace.cb("lt"))
    ev.add()
    b.send(b"1")
    for _ in range(3):
        base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK)
    assert trace.whats == [EV_READ] * 3
    ev.delete()


def test_multiple_events_same_fd_most_recent_first(base, pair):
    a, _ = pair
    trace = Trace()
    evs = [Event(base, a, EV_WRITE, trace.cb(i)) for i in range(3)]
    for ev in evs:
        ev.add()
    base.loop()
    # libevent head-inserts into the fd's list
    assert trace.names == [2, 1, 0]


def test_multiple_events_same_fd_read_and_write(base, pair):
    a, b = pair
    trace = Trace()
    r = Event(base, a, EV_READ, trace.cb("r"))
    w = Event(base, a, EV_WRITE, trace.cb("w"))
    r.add()
    w.add()
    b.send(b"x")
    base.loop()
    assert trace.names == ["w", "r"]
    assert trace.whats == [EV_WRITE, EV_READ]


def test_deleting_one_of_two_events_on_fd_keeps_other(base, pair):
    a, b = pair
    trace = Trace()
    r1 = Event(base, a, EV_READ | EV_PERSIST, trace.cb("r1"))
    r2 = Event(base, a, EV_READ | EV_PERSIST, trace.cb("r2"))
    r1.add()
    r2.add()
    r1.delete()
    b.send(b"x")
    base.loop(EVLOOP_ONCE)
    assert trace.names == ["r2"]
    r2.delete()


def test_dup_fd(base, pair):
    # regress.c main/dup_fd: the same open file under two fds (epoll keys
    # registrations by file description and must cope with EEXIST).
    a, b = pair
    a2 = os.dup(a.fileno())
    try:
        trace = Trace()
        e1 = Event(base, a, EV_READ | EV_PERSIST, trace.cb("orig"))
        e2 = Event(base, a2, EV_READ | EV_PERSIST, trace.cb("dup"))
        e1.add()
        e2.add()
        b.send(b"x")
        base.loop(EVLOOP_ONCE)
        assert sorted(trace.names) == ["dup", "orig"]
        e1.delete()
        base.loop(EVLOOP_ONCE)
        assert sorted(trace.names) == ["dup", "dup", "orig"]
        e2.delete()
    finally:
        os.close(a2)


def test_delete_after_fd_closed(base):
    # regress.c main/closed_fd-like: closing the fd before event_del is the
    # user's bug, but event_del still succeeds and the base stays usable.
    a, b = nb_socketpair()
    ev = Event(base, a, EV_READ | EV_PERSIST, noop)
    ev.add()
    a.close()
    b.close()
    ev.delete()
    assert ev.pending(ALL) == 0
    assert base.loop() == 1
