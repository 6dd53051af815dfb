"""EventBase.loop: flags, return values, loopexit / loopbreak /
loopcontinue, got_exit / got_break, re-entrancy, event_base_once and
exceptions raised by callbacks.

Ports the spirit of regress.c main/ ``loopexit``, ``loopexit_multiple``,
``loopbreak``, ``loop_once``/``once``/``once_never``, ``nonpersist_readd``,
``event_base_loopexit_before_dispatch``-like cases, ``reentrant``.
"""
import threading

import pytest

from evloop import (
    EV_PERSIST,
    EV_READ,
    EV_SIGNAL,
    EV_TIMEOUT,
    EV_WRITE,
    EVLOOP_NO_EXIT_ON_EMPTY,
    EVLOOP_NONBLOCK,
    EVLOOP_ONCE,
    Event,
)
from helpers import Trace, any_base, drain, guard, same_now  # noqa: F401  (fixtures)


def noop(fd, what, arg):
    pass


def actives(base, trace, names, then=None):
    """Make one non-pending event per name and activate them in order."""
    then = then or {}
    evs = {}
    for name in names:
        evs[name] = Event.timer(base, trace.cb(name, then.get(name)))
    for name in names:
        evs[name].active(EV_TIMEOUT)
    return evs


# -- return values and flags ---------------------------------------------------------

def test_loop_with_nothing_returns_1(base):
    assert base.loop() == 1
    assert base.dispatch() == 1
    assert base.loop(EVLOOP_ONCE) == 1
    assert base.loop(EVLOOP_NONBLOCK) == 1
    assert base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK) == 1


def test_loop_returns_1_when_events_run_out(base):
    trace = Trace()
    Event.timer(base, trace.cb("t")).add(0.001)
    assert base.loop() == 1
    assert trace.names == ["t"]


def test_dispatch_runs_until_empty(base):
    trace = Trace()

    def arm():
        for i, tv in enumerate((0.02, 0.0, 0.01)):
            Event.timer(base, trace.cb(i)).add(tv)

    same_now(base, arm)
    assert base.dispatch() == 1
    assert trace.names == [1, 2, 0]


def test_nonblock_returns_0_with_nothing_ready(base, pair):
    a, _ = pair
    trace = Trace()
    r = Event(base, a, EV_READ, trace.cb("r"))
    r.add()
    t = Event.timer(base, trace.cb("t"))
    t.add(10)
    assert base.loop(EVLOOP_NONBLOCK) == 0
    assert trace.calls == []
    assert r.pending(EV_READ) == EV_READ
    r.delete()
    t.delete()


def test_nonblock_runs_ready_callbacks(base, pair):
    a, b = pair
    trace = Trace()
    Event(base, a, EV_READ, trace.cb("r")).add()
    keep = Event.timer(base, noop)
    keep.add(10)
    b.send(b"x")
    assert base.loop(EVLOOP_NONBLOCK) == 0
    assert trace.names == ["r"]
    keep.delete()


def test_nonblock_keeps_going_while_callbacks_activate(base):
    # NONBLOCK iterates while iterations yield active callbacks.
    trace = Trace()
    keep = Event.timer(base, noop)
    keep.add(10)
    c = Event.timer(base, trace.cb("c"))

    def b_then(fd, what, arg):
        c.add(0)  # due in the next iteration's timeout processing

    bev = Event.timer(base, trace.cb("b", b_then))
    bev.active(EV_TIMEOUT)
    assert base.loop(EVLOOP_NONBLOCK) == 0
    assert trace.names == ["b", "c"]
    keep.delete()


def test_once_flag_waits_then_returns_0(base):
    trace = Trace()
    Event.timer(base, trace.cb("soon")).add(0.01)
    late = Event.timer(base, trace.cb("late"))
    late.add(10)
    assert base.loop(EVLOOP_ONCE) == 0
    assert trace.names == ["soon"]
    assert late.pending(EV_TIMEOUT) == EV_TIMEOUT
    late.delete()


def test_once_flag_runs_everything_ready_in_the_pass(base, pair):
    a, b = pair
    trace = Trace()
    r = Event(base, a, EV_READ | EV_PERSIST, trace.cb("r"))
    w = Event(base, b, EV_WRITE | EV_PERSIST, trace.cb("w"))
    r.add()
    w.add()
    b.send(b"x")
    assert base.loop(EVLOOP_ONCE) == 0
    assert sorted(trace.names) == ["r", "w"]
    r.delete()
    w.delete()


def test_once_nonblock_polls_once(base, pair):
    a, b = pair
    trace = Trace()
    r = Event(base, a, EV_READ | EV_PERSIST, trace.cb("r"))
    r.add()
    assert base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK) == 0
    assert trace.calls == []
    b.send(b"x")
    assert base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK) == 0
    assert trace.names == ["r"]
    r.delete()


def test_no_exit_on_empty_with_loopexit(base):
    base.loopexit(0.02)
    assert base.loop(EVLOOP_NO_EXIT_ON_EMPTY) == 0
    assert base.got_exit()


def test_no_exit_on_empty_keeps_running_after_events_run_out(base):
    trace = Trace()
    Event.timer(base, trace.cb("t1")).add(0)

    def t2_then(fd, what, arg):
        base.loopexit()

    Event.timer(base, trace.cb("t2", t2_then)).add(0.02)
    # between t1 and t2 only the t2 timer is left; after t2, nothing at all
    # is registered, and the loop still waits for the exit event.
    assert base.loop(EVLOOP_NO_EXIT_ON_EMPTY) == 0
    assert trace.names == ["t1", "t2"]
    assert base.got_exit()


def test_no_exit_on_empty_with_loopbreak_from_timer(base):
    trace = Trace()
    Event.timer(base, trace.cb("t", lambda fd, what, arg: base.loopbreak())).add(0.01)
    assert base.loop(EVLOOP_NO_EXIT_ON_EMPTY) == 0
    assert trace.names == ["t"]
    assert base.got_break()


# -- loopexit -----------------------------------------------------------------------------

def test_loopexit_finishes_current_pass(base):
    trace = Trace()
    actives(base, trace, ["a", "b", "c"], then={"a": lambda *_: base.loopexit()})
    assert base.loop() == 0
    assert trace.names == ["a", "b", "c"]
    assert base.got_exit()
    assert not base.got_break()


def test_loopexit_does_not_run_next_pass(base):
    trace = Trace()
    later = Event.timer(base, trace.cb("later"))

    def a_then(fd, what, arg):
        later.add(0)  # due only at the next iteration's timeout processing
        base.loopexit()

    actives(base, trace, ["a"], then={"a": a_then})
    assert base.loop() == 0
    assert trace.names == ["a"]
    assert later.pending(EV_TIMEOUT) == EV_TIMEOUT
    later.delete()


def test_loopexit_before_loop_stops_next_run(base):
    base.loopexit()
    # the exit is a real (once) event: the loop does not return 1
    assert base.loop() == 0
    assert base.got_exit()
    # and it was consumed
    assert base.loop() == 1
    assert not base.got_exit()


def test_loopexit_before_loop_with_pending_timer(base):
    trace = Trace()
    t = Event.timer(base, trace.cb("t"))
    t.add(0.1)
    base.loopexit()
    assert base.loop() == 0
    assert trace.calls == []
    assert t.pending(EV_TIMEOUT) == EV_TIMEOUT
    assert base.loop() == 1
    assert trace.names == ["t"]


def test_loopexit_timeout_orders_with_timers(base):
    trace = Trace()
    late = Event.timer(base, trace.cb("late"))

    def arm():
        Event.timer(base, trace.cb("early")).add(0.005)
        late.add(0.1)
        base.loopexit(0.03)

    same_now(base, arm)
    assert base.loop() == 0
    assert trace.names == ["early"]
    assert base.got_exit()
    assert late.pending(EV_TIMEOUT) == EV_TIMEOUT
    late.delete()


def test_loopexit_timeout_stops_periodic_timer(base):
    trace = Trace()
    ev = Event(base, -1, EV_PERSIST, trace.cb("tick"))
    ev.add(0.005)
    base.loopexit(0.04)
    assert base.loop() == 0
    assert trace.count("tick") >= 1
    assert ev.pending(EV_TIMEOUT) == EV_TIMEOUT
    ev.delete()


def test_loopexit_tuple_timeout(base):
    base.loopexit((0, 10000))
    assert base.loop() == 0
    assert base.got_exit()


# -- loopbreak -------------------------------------------------------------------------

def test_loopbreak_stops_after_current_callback(base):
    trace = Trace()
    evs = actives(base, trace, ["a", "b", "c"], then={"a": lambda *_: base.loopbreak()})
    assert base.loop() == 0
    assert trace.names == ["a"]
    assert base.got_break()
    assert not base.got_exit()
    # b and c are still active; the next run takes them
    assert evs["b"].pending(EV_TIMEOUT) == EV_TIMEOUT
    assert base.loop() == 1
    assert trace.names == ["a", "b", "c"]
    assert not base.got_break()


def test_loopbreak_is_lost_when_not_running(base):
    trace = Trace()
    base.loopbreak()
    Event.timer(base, trace.cb("t")).add(0.001)
    assert base.loop() == 1
    assert trace.names == ["t"]
    assert not base.got_break()


def test_loopbreak_wins_over_loopexit(base):
    trace = Trace()

    def a_then(fd, what, arg):
        base.loopexit()
        base.loopbreak()

    actives(base, trace, ["a", "b"], then={"a": a_then})
    assert base.loop() == 0
    assert trace.names == ["a"]
    assert base.got_break()


# -- loopcontinue ------------------------------------------------------------------------

def _continue_setup(base, trace, pair, call_continue):
    """A and B active at priority 1; A makes C (priority 0, an fd event)
    ready.  Without loopcontinue the pass finishes B first; with it, the
    loop re-polls after A and the more urgent C runs before B."""
    a_sock, b_sock = pair
    base.priority_init(2)
    c = Event(base, a_sock, EV_READ, trace.cb("C", lambda *_: drain(a_sock)))
    c.priority_set(0)
    c.add()

    def a_then(fd, what, arg):
        b_sock.send(b"x")
        if call_continue:
            base.loopcontinue()

    evs = actives(base, trace, ["A", "B"], then={"A": a_then})
    for ev in evs.values():
        assert ev.priority == 1
    return c


def test_without_loopcontinue_pass_finishes(base, pair):
    trace = Trace()
    _continue_setup(base, trace, pair, call_continue=False)
    assert base.loop() == 1
    assert trace.names == ["A", "B", "C"]


def test_loopcontinue_repolls_after_current_callback(base, pair):
    trace = Trace()
    _continue_setup(base, trace, pair, call_continue=True)
    assert base.loop() == 1
    assert trace.names == ["A", "C", "B"]
    assert not base.got_break()
    assert not base.got_exit()


def test_loopcontinue_without_loop_has_no_effect(base, pair):
    trace = Trace()
    _continue_setup(base, trace, pair, call_continue=False)
    base.loopcontinue()
    assert base.loop() == 1
    assert trace.names == ["A", "B", "C"]


# -- got_exit / got_break ----------------------------------------------------------------

def test_got_flags_reset_on_loop_entry(base):
    assert not base.got_exit() and not base.got_break()
    base.loopexit()
    base.loop()
    assert base.got_exit()
    seen = []
    Event.timer(base, lambda *_: seen.append((base.got_exit(), base.got_break()))).add(0)
    assert base.loop() == 1
    assert seen == [(False, False)]
    assert not base.got_exit()

    Event.timer(base, lambda *_: base.loopbreak()).add(0)
    base.loop()
    assert base.got_break()
    assert base.loop() == 1  # returns 1 at once, but entry cleared the flag
    assert not base.got_break()


def test_got_exit_true_from_the_call(base):
    seen = []

    def cb(fd, what, arg):
        base.loopexit()
        seen.append(base.got_exit())

    Event.timer(base, cb).add(0)
    base.loop()
    # loopexit(None) only queues the exit event; the flag is set when it runs
    assert seen == [False]
    assert base.got_exit()


def test_got_break_true_from_the_call(base):
    seen = []

    def cb(fd, what, arg):
        base.loopbreak()
        seen.append(base.got_break())

    Event.timer(base, cb).add(0)
    base.loop()
    assert seen == [True]


# -- re-entrancy ---------------------------------------------------------------------------

def test_reentrant_loop_raises(base):
    errors = []

    def cb(fd, what, arg):
        for call in (base.loop, base.dispatch, lambda: base.loop(EVLOOP_NONBLOCK)):
            try:
                call()
            except RuntimeError as exc:
                errors.append(exc)

    Event.timer(base, cb).add(0)
    assert base.loop() == 1
    assert len(errors) == 3
    # and the outer loop is still fine afterwards
    trace = Trace()
    Event.timer(base, trace.cb("t")).add(0)
    assert base.loop() == 1
    assert trace.names == ["t"]


def test_other_base_may_loop_inside_callback(base, make_base):
    other = make_base()
    trace = Trace()
    Event.timer(other, trace.cb("inner")).add(0)

    def cb(fd, what, arg):
        assert other.loop() == 1

    Event.timer(base, trace.cb("outer", cb)).add(0)
    base.loop()
    assert trace.names == ["outer", "inner"]


# -- event_base_once -------------------------------------------------------------------

def test_once_timeouts_run_in_activation_order(base):
    trace = Trace()
    for i in range(5):
        base.once(-1, EV_TIMEOUT, trace.cb(i), f"arg{i}", None)
    base.once(-1, EV_TIMEOUT, trace.cb(5), "arg5", 0)
    assert base.loop() == 1
    assert trace.names == [0, 1, 2, 3, 4, 5]
    assert trace.calls[0] == (0, -1, EV_TIMEOUT, "arg0")


def test_once_timeout_ordering(base):
    trace = Trace()

    def arm():
        base.once(-1, EV_TIMEOUT, trace.cb("late"), None, 0.03)
        base.once(-1, EV_TIMEOUT, trace.cb("now"))
        base.once(-1, EV_TIMEOUT, trace.cb("early"), None, 0.01)

    same_now(base, arm)
    assert base.loop() == 1
    assert trace.names == ["now", "early", "late"]
    assert trace.whats == [EV_TIMEOUT] * 3


def test_once_fd(base, pair):
    a, b = pair
    trace = Trace()
    base.once(a, EV_READ, trace.cb("r"), "x")
    assert base.loop(EVLOOP_NONBLOCK) == 0
    assert trace.calls == []
    b.send(b"data")
    assert base.loop() == 1
    assert trace.calls == [("r", a.fileno(), EV_READ, "x")]
    # one-shot: data still unread, nothing fires any more
    assert base.loop(EVLOOP_NONBLOCK) == 1
    assert len(trace.calls) == 1


def test_once_fd_timeout(base, pair):
    a, _ = pair
    trace = Trace()
    base.once(a, EV_READ, trace.cb("r"), None, 0.01)
    assert base.loop() == 1
    assert trace.whats == [EV_TIMEOUT]


def test_once_fd_without_timeout_never_times_out(base, pair):
    a, _ = pair
    trace = Trace()
    base.once(a.fileno(), EV_READ, trace.cb("r"))
    base.loopexit(0.02)
    assert base.loop() == 0
    assert trace.calls == []


def test_once_write(base, pair):
    a, _ = pair
    trace = Trace()
    base.once(a, EV_WRITE, trace.cb("w"))
    base.loop()
    assert trace.whats == [EV_WRITE]


@pytest.mark.parametrize("what", [EV_SIGNAL, EV_PERSIST | EV_READ, EV_PERSIST | EV_TIMEOUT,
                                  EV_SIGNAL | EV_PERSIST])
def test_once_rejects_signal_and_persist(any_base, what):
    with pytest.raises(ValueError):
        any_base.once(10, what, noop)
    assert any_base.loop() == 1  # nothing was left behind


def test_once_rejects_empty_what(any_base):
    with pytest.raises(ValueError):
        any_base.once(-1, 0, noop)


# -- exceptions from callbacks ------------------------------------------------------------

class Boom(Exception):
    pass


def _raise(*_):
    raise Boom("from callback")


def test_exception_propagates_and_stops_pass(base):
    trace = Trace()
    evs = actives(base, trace, ["a", "b", "c"], then={"b": _raise})
    with pytest.raises(Boom, match="from callback"):
        base.loop()
    assert trace.names == ["a", "b"]
    # c is still active: the base is usable and the next run takes it
    assert evs["c"].pending(EV_TIMEOUT) == EV_TIMEOUT
    assert base.loop() == 1
    assert trace.names == ["a", "b", "c"]


def test_exception_from_io_callback_base_reusable(base, pair):
    a, b = pair
    trace = Trace()
    r = Event(base, a, EV_READ | EV_PERSIST, trace.cb("r", _raise))
    r.add()
    b.send(b"x")
    with pytest.raises(Boom):
        base.loop()
    assert r.pending(EV_READ) == EV_READ
    r.delete()
    Event.timer(base, trace.cb("t")).add(0)
    assert base.loop() == 1
    assert trace.names == ["r", "t"]


def test_exception_in_once_callback(base):
    trace = Trace()
    base.once(-1, EV_TIMEOUT, trace.cb("x", _raise))
    with pytest.raises(Boom):
        base.loop()
    assert base.loop() == 1
    assert trace.names == ["x"]


def test_exception_handler_receives_and_loop_continues(base):
    trace = Trace()
    got = []
    base.set_exception_handler(lambda b, ev, exc: got.append((b, ev, exc)))
    evs = actives(base, trace, ["a", "b", "c"], then={"b": _raise})
    assert base.loop() == 1
    assert trace.names == ["a", "b", "c"]
    assert len(got) == 1
    b, ev, exc = got[0]
    assert b is base
    assert ev is evs["b"]
    assert isinstance(exc, Boom)


def test_exception_handler_none_restores_default(base):
    got = []
    base.set_exception_handler(lambda b, ev, exc: got.append(exc))
    base.set_exception_handler(None)
    trace = Trace()
    actives(base, trace, ["a"], then={"a": _raise})
    with pytest.raises(Boom):
        base.loop()
    assert got == []



# -- waking a sleeping loop from another thread (evthread_make_base_notifiable) ------

def _from_thread(fn, delay=0.02):
    t = threading.Timer(delay, fn)
    t.start()
    return t


@pytest.mark.parametrize("how", ["loopexit", "loopbreak"])
def test_stop_from_other_thread_wakes_loop(base, how):
    # With nothing due for 2 s the loop sleeps in the backend; the other
    # thread's loopexit/loopbreak must wake it (libevent with threads on
    # notifies the base), so the 2 s guard never fires.
    fired = []
    g = Event.timer(base, lambda *_: (fired.append("guard"), base.loopbreak()))
    g.add(2.0)
    t = _from_thread(getattr(base, how))
    try:
        assert base.loop() == 0
    finally:
        t.join()
    assert fired == []
    assert base.got_exit() if how == "loopexit" else base.got_break()
    g.delete()


def test_active_from_other_thread_wakes_loop(base):
    trace = Trace()
    ev = Event.timer(base, trace.cb("x"))
    g = guard(base, 2.0)
    t = _from_thread(lambda: ev.active(EV_WRITE))
    try:
        base.loop(EVLOOP_ONCE)
    finally:
        t.join()
    assert trace.whats == [EV_WRITE]
    assert not base.got_break()  # the guard did not have to fire
    g.delete()


def test_add_from_other_thread_wakes_loop(base):
    trace = Trace()
    ev = Event.timer(base, trace.cb("x"))
    g = guard(base, 2.0)
    t = _from_thread(lambda: ev.add(0))
    try:
        base.loop(EVLOOP_ONCE)
    finally:
        t.join()
    assert trace.names == ["x"]
    assert not base.got_break()
    g.delete()
