"""Introspection: dump_events, foreach_event, get_num_events /
get_max_events, get_running_event, active_by_fd.

Ports the spirit of regress.c main/ ``event_foreach``, ``get_num_events``,
``get_num_events_active``-like checks, ``active_by_fd`` and
test-dumpevents.c (+ check-dumpevents.py).
"""
import io
import re
import signal
import time

from evloop import (
    EV_CLOSED,
    EV_PERSIST,
    EV_READ,
    EV_TIMEOUT,
    EV_WRITE,
    EVENT_BASE_COUNT_ACTIVE,
    EVENT_BASE_COUNT_ADDED,
    EVENT_BASE_COUNT_VIRTUAL,
    EVLIST_INTERNAL,
    EVLOOP_NONBLOCK,
    EVLOOP_ONCE,
    Event,
)
from helpers import Trace, any_base  # noqa: F401  (fixtures)

ACTIVE, VIRTUAL, ADDED = EVENT_BASE_COUNT_ACTIVE, EVENT_BASE_COUNT_VIRTUAL, EVENT_BASE_COUNT_ADDED


def noop(fd, what, arg):
    pass


def dump(base):
    out = io.StringIO()
    base.dump_events(out)
    return out.getvalue()


def user_events(seen):
    return [e for e in seen if not e.flags & EVLIST_INTERNAL]


# -- dump_events ------------------------------------------------------------------

def test_dump_empty_base(any_base):
    text = dump(any_base)
    assert "Inserted events:" in text
    assert "Active events:" in text
    assert text.index("Inserted events:") < text.index("Active events:")


def test_dump_inserted_events(base, pair):
    a, b = pair
    r = Event(base, a, EV_READ | EV_PERSIST, noop)
    r.add()
    w = Event(base, b, EV_WRITE | EV_CLOSED, noop)
    w.add()
    t = Event.timer(base, noop)
    t.add(10)
    text = dump(base)
    inserted, active = text.split("Active events:")
    assert f"[fd  {a.fileno()}] Read Persist" in inserted
    assert f"[fd  {b.fileno()}] Write EOF" in inserted
    timer_lines = [ln for ln in inserted.splitlines() if "[fd  -1]" in ln]
    assert len(timer_lines) == 1
    m = re.search(r" Timeout=(\d+)\.(\d{6})$", timer_lines[0])
    assert m, timer_lines[0]
    # the Timeout is wall-clock time
    assert abs(int(m.group(1)) + int(m.group(2)) / 1e6 - (time.time() + 10)) < 2
    assert "[fd  -1" not in active
    r.delete()
    w.delete()
    t.delete()


def test_dump_active_events(base):
    ev = Event.timer(base, noop)
    ev.active(EV_WRITE | EV_TIMEOUT)
    text = dump(base)
    inserted, active = text.split("Active events:")
    assert "[fd  -1" not in inserted
    assert "[fd  -1, priority=0] Write Timeout active" in active
    base.loop()
    assert "[fd  -1" not in dump(base)


def test_dump_priority_and_both_sections(base, pair):
    a, _ = pair
    base.priority_init(3)
    ev = Event(base, a, EV_READ | EV_PERSIST, noop)
    ev.add(5)
    ev.active(EV_READ)
    text = dump(base)
    inserted, active = text.split("Active events:")
    assert re.search(rf"\[fd  {a.fileno()}\] Read Persist Timeout=\d+\.\d{{6}}", inserted)
    assert f"[fd  {a.fileno()}, priority=1] Read active" in active
    ev.delete()


def test_dump_signal_event(base):
    old = signal.getsignal(signal.SIGUSR2)
    signal.signal(signal.SIGUSR2, lambda *a: None)
    try:
        ev = Event.signal(base, signal.SIGUSR2, noop)
        ev.add()
        text = dump(base)
        assert f"[sig {int(signal.SIGUSR2)}] Signal Persist" in text
        ev.delete()
    finally:
        signal.signal(signal.SIGUSR2, old)


def test_dump_to_stdout_by_default(any_base, capsys):
    Event.timer(any_base, noop).add(10)
    any_base.dump_events()
    out = capsys.readouterr().out
    assert "Inserted events:" in out
    assert "[fd  -1] Timeout=" in out


# -- foreach_event ---------------------------------------------------------------

def _three_kinds(base, a):
    io_ev = Event(base, a, EV_READ, noop)
    timer_ev = Event.timer(base, noop)
    act_ev = Event.timer(base, noop)
    # created in the reverse of the visiting order, to show the order is
    # by kind, not by creation
    act_ev.active(EV_TIMEOUT)
    timer_ev.add(10)
    io_ev.add(10)  # inserted *and* with a timeout: visited once, as inserted
    return io_ev, timer_ev, act_ev


def test_foreach_order_inserted_timer_active(base, pair):
    a, _ = pair
    io_ev, timer_ev, act_ev = _three_kinds(base, a)
    seen = []

    def fn(b, ev, arg):
        assert b is base
        assert arg == "the-arg"
        seen.append(ev)

    assert base.foreach_event(fn, "the-arg") == 0
    assert user_events(seen) == [io_ev, timer_ev, act_ev]
    io_ev.delete()
    timer_ev.delete()
    act_ev.delete()


def test_foreach_event_both_inserted_and_active_once(base, pair):
    a, _ = pair
    ev = Event(base, a, EV_READ | EV_PERSIST, noop)
    ev.add()
    ev.active(EV_READ)
    seen = []
    base.foreach_event(lambda b, e, arg: seen.append(e))
    assert user_events(seen) == [ev]
    ev.delete()


def test_foreach_early_stop(base, pair):
    a, _ = pair
    io_ev, timer_ev, act_ev = _three_kinds(base, a)
    seen = []

    def fn(b, ev, arg):
        seen.append(ev)
        return "stop" if ev is io_ev else 0

    assert base.foreach_event(fn) == "stop"
    assert io_ev in seen
    assert timer_ev not in seen and act_ev not in seen
    io_ev.delete()
    timer_ev.delete()
    act_ev.delete()


def test_foreach_empty(any_base):
    seen = []
    assert any_base.foreach_event(lambda b, e, arg: seen.append(e)) == 0
    assert user_events(seen) == []


# -- counts -----------------------------------------------------------------------

def test_num_events_simple(base, pair):
    a, _ = pair
    assert [base.get_num_events(f) for f in (ACTIVE, VIRTUAL, ADDED)] == [0, 0, 0]
    r = Event(base, a, EV_READ, noop)
    r.add()
    assert base.get_num_events(ADDED) == 1
    assert base.get_num_events(ACTIVE) == 0
    t = Event.timer(base, noop)
    t.add(10)
    assert base.get_num_events(ADDED) == 2
    act = Event.timer(base, noop)
    act.active(EV_TIMEOUT)
    assert base.get_num_events(ACTIVE) == 1
    assert base.get_num_events(VIRTUAL) == 0
    r.delete()
    t.delete()
    act.delete()
    assert [base.get_num_events(f) for f in (ACTIVE, VIRTUAL, ADDED)] == [0, 0, 0]


def test_num_events_counts_like_libevent(base, pair):
    # libevent's ADDED counts list memberships: an fd event with a timeout
    # counts twice, and active events count too (checked against
    # libevent 2.1.12: [ACTIVE, VIRTUAL, ADDED] below).
    a, _ = pair
    counts = lambda: [base.get_num_events(f) for f in (ACTIVE, VIRTUAL, ADDED)]  # noqa: E731
    r = Event(base, a, EV_READ, noop)
    r.add()
    assert counts() == [0, 0, 1]
    r.add(10)
    assert counts() == [0, 0, 2]
    t = Event.timer(base, noop)
    t.add(10)
    assert counts() == [0, 0, 3]
    act = Event.timer(base, noop)
    act.active(EV_TIMEOUT)
    assert counts() == [1, 0, 4]
    r.active(EV_WRITE)
    assert counts() == [2, 0, 5]
    assert base.get_num_events(ACTIVE | ADDED) == 7
    for ev in (r, t, act):
        ev.delete()
    assert counts() == [0, 0, 0]


def test_num_events_after_loopexit(base):
    base.loopexit()
    assert base.get_num_events(ACTIVE) == 1
    base.loop()
    assert base.get_num_events(ACTIVE | ADDED) == 0


def test_max_events(base, pair):
    a, _ = pair
    evs = [Event.timer(base, noop) for _ in range(3)]
    for ev in evs:
        ev.add(10)
    for ev in evs:
        ev.delete()
    assert base.get_num_events(ADDED) == 0
    assert base.get_max_events(ADDED) >= 3
    assert base.get_max_events(ADDED, clear=True) >= 3
    assert base.get_max_events(ADDED) == 0
    act = Event.timer(base, noop)
    act.active(EV_TIMEOUT)
    assert base.get_max_events(ACTIVE) >= 1
    base.loop()


# -- running event ------------------------------------------------------------------

def test_get_running_event(base, pair):
    a, _ = pair
    assert base.get_running_event() is None
    seen = []

    def cb(fd, what, arg):
        seen.append(base.get_running_event())

    t = Event.timer(base, cb)
    t.add(0)
    w = Event(base, a, EV_WRITE, cb)
    w.add()
    base.loop()
    # I/O is activated before the timers of the same poll
    assert len(seen) == 2
    assert seen[0] is w and seen[1] is t
    assert base.get_running_event() is None


# -- active_by_fd ---------------------------------------------------------------------

def test_active_by_fd_only_pending_events(base, pair):
    a, b = pair
    trace = Trace()
    r = Event(base, a, EV_READ | EV_PERSIST, trace.cb("r"))
    r.add()
    Event(base, a, EV_WRITE, trace.cb("w-not-added"))
    other = Event(base, b, EV_READ | EV_PERSIST, trace.cb("other-fd"))
    other.add()
    base.active_by_fd(a, EV_READ | EV_WRITE)
    base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK)
    # only r: it is pending on a, and gets only the flags it watches
    assert trace.calls == [("r", a.fileno(), EV_READ, None)]
    r.delete()
    other.delete()


def test_active_by_fd_matches_events(base, pair):
    a, _ = pair
    trace = Trace()
    r = Event(base, a, EV_READ | EV_PERSIST, trace.cb("r"))
    r.add()
    base.active_by_fd(a.fileno(), EV_WRITE)
    assert base.loop(EVLOOP_NONBLOCK) == 0
    assert trace.calls == []
    base.active_by_fd(a.fileno(), EV_READ)
    assert base.loop(EVLOOP_NONBLOCK) == 0
    assert trace.whats == [EV_READ]
    r.delete()


def test_active_by_fd_several_events(base, pair):
    a, _ = pair
    trace = Trace()
    evs = [Event(base, a, EV_READ | EV_PERSIST, trace.cb(i)) for i in range(3)]
    for ev in evs:
        ev.add()
    base.active_by_fd(a, EV_READ)
    base.loop(EVLOOP_NONBLOCK)
    assert trace.names == [2, 1, 0]
    for ev in evs:
        ev.delete()


def test_active_by_fd_unknown_fd_is_harmless(base, pair):
    a, _ = pair
    base.active_by_fd(a, EV_READ)
    assert base.loop() == 1

