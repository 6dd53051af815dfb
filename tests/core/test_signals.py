"""Signal events: delivery, ncalls (one callback per delivery), restoring
the previous handler, the one-base-owns-signals rule, active_by_signal.

Ports the spirit of regress.c signal/ ``simple``, ``multiple``,
``immediate``, ``dealloc``, ``restore``, ``switchbase``,
``while_processing`` and main/ ``active_by_signal``-like checks.

Every test first installs a harmless Python handler for SIGUSR1/SIGUSR2, so
a broken implementation cannot kill the test run with the default action,
and restores the original handlers afterwards.
"""
import os
import signal
import threading

import pytest

from evloop import (
    EV_PERSIST,
    EV_SIGNAL,
    EV_TIMEOUT,
    EVLOOP_NONBLOCK,
    EVLOOP_ONCE,
    Event,
)
from helpers import Trace, guard

SIG = signal.SIGUSR1
SIG2 = signal.SIGUSR2


@pytest.fixture
def py_handlers():
    """Install recording Python handlers; yields the list they append to."""
    seen = []

    def handler(signum, frame):
        seen.append(signum)

    old = {s: signal.getsignal(s) for s in (SIG, SIG2)}
    for s in old:
        signal.signal(s, handler)
    handler.seen = seen
    yield handler
    for s, h in old.items():
        signal.signal(s, h)


def kill(sig=SIG):
    os.kill(os.getpid(), sig)


def run_once(base):
    g = guard(base, 2.0)
    base.loop(EVLOOP_ONCE)
    g.delete()


def test_simple_signal(base, py_handlers):
    trace = Trace()
    ev = Event.signal(base, SIG, trace.cb("s"), "arg")
    ev.add()
    assert ev.pending(EV_SIGNAL) == EV_SIGNAL
    kill()
    run_once(base)
    assert trace.calls == [("s", SIG, EV_SIGNAL, "arg")]
    assert py_handlers.seen == []  # the base took the signal, not Python
    # persistent: still pending, fires again
    assert ev.pending(EV_SIGNAL) == EV_SIGNAL
    kill()
    run_once(base)
    assert trace.names == ["s", "s"]
    ev.delete()


def test_immediate_signal_nonblock(base, py_handlers):
    # regress signal/immediate: raised right after the add, picked up by a
    # single non-blocking pass.
    trace = Trace()
    ev = Event.signal(base, SIG, trace.cb("s"))
    ev.add()
    kill()
    assert base.loop(EVLOOP_NONBLOCK) == 0
    assert trace.whats == [EV_SIGNAL]
    ev.delete()


def test_two_deliveries_two_callbacks(base, py_handlers):
    # libevent counts deliveries (ncalls): one callback per delivered signal.
    trace = Trace()
    ev = Event.signal(base, SIG, trace.cb("s"))
    ev.add()
    kill()
    kill()
    run_once(base)
    assert trace.names == ["s", "s"]
    assert trace.whats == [EV_SIGNAL, EV_SIGNAL]
    ev.delete()


@pytest.mark.parametrize("how", ["delete", "free"])
def test_delete_in_callback_stops_remaining_calls(base, py_handlers, how):
    # regress signal/free_in_callback: deleting (or freeing) the event from
    # its callback drops the deliveries not yet run.
    trace = Trace()
    ev = Event.signal(base, SIG, trace.cb("s", lambda *_: getattr(ev, how)()))
    ev.add()
    kill()
    kill()
    kill()
    run_once(base)
    assert trace.names == ["s"]


def test_loopbreak_in_callback_stops_remaining_calls(base, py_handlers):
    trace = Trace()
    ev = Event.signal(base, SIG, trace.cb("s", lambda *_: base.loopbreak()))
    ev.add()
    kill()
    kill()
    g = guard(base, 2.0)
    base.loop()
    g.delete()
    assert trace.names == ["s"]
    assert base.got_break()
    ev.delete()


def test_two_signals(base, py_handlers):
    trace = Trace()
    e1 = Event.signal(base, SIG, trace.cb("usr1"))
    e2 = Event.signal(base, SIG2, trace.cb("usr2"))
    e1.add()
    e2.add()
    kill(SIG2)
    run_once(base)
    assert trace.calls == [("usr2", SIG2, EV_SIGNAL, None)]
    kill(SIG)
    run_once(base)
    assert trace.names == ["usr2", "usr1"]
    e1.delete()
    e2.delete()


def test_two_events_same_signal(base, py_handlers):
    trace = Trace()
    e1 = Event.signal(base, SIG, trace.cb("one"))
    e2 = Event.signal(base, SIG, trace.cb("two"))
    e1.add()
    e2.add()
    kill()
    run_once(base)
    assert sorted(trace.names) == ["one", "two"]
    e1.delete()
    kill()
    run_once(base)
    assert sorted(trace.names) == ["one", "two", "two"]
    e2.delete()


def test_nonpersistent_signal_event_fires_once(base, py_handlers):
    trace = Trace()
    ev = Event(base, SIG, EV_SIGNAL, trace.cb("s"))
    ev.add()
    kill()
    run_once(base)
    assert trace.whats == [EV_SIGNAL]
    assert ev.pending(EV_SIGNAL) == 0
    # nothing left of it: the loop has nothing to wait for
    assert base.loop() == 1


def test_signal_event_with_timeout(base, py_handlers):
    # regress signal/timeout-like: a signal event with a timeout fires for
    # the timeout when no signal comes.
    trace = Trace()
    ev = Event(base, SIG, EV_SIGNAL | EV_PERSIST, trace.cb("s"))
    ev.add(0.01)
    base.loop(EVLOOP_ONCE)
    assert trace.whats == [EV_TIMEOUT]
    ev.delete()


def test_removing_last_event_restores_previous_handler(base, py_handlers):
    trace = Trace()
    e1 = Event.signal(base, SIG, trace.cb("one"))
    e2 = Event.signal(base, SIG, trace.cb("two"))
    e1.add()
    e2.add()
    e1.delete()
    # one left: the base still owns the signal
    kill()
    run_once(base)
    assert trace.names == ["two"]
    assert py_handlers.seen == []
    e2.delete()
    assert signal.getsignal(SIG) is py_handlers
    kill()
    assert py_handlers.seen == [SIG]
    assert base.loop(EVLOOP_NONBLOCK) == 1
    assert trace.names == ["two"]


def test_base_free_restores_previous_handler(make_base, py_handlers):
    b = make_base()
    Event.signal(b, SIG, lambda *_: None).add()
    b.free()
    assert signal.getsignal(SIG) is py_handlers
    kill()
    assert py_handlers.seen == [SIG]


def test_restores_default_handler(base):
    old = signal.getsignal(SIG2)
    signal.signal(SIG2, signal.SIG_IGN)
    try:
        ev = Event.signal(base, SIG2, lambda *_: None)
        ev.add()
        ev.delete()
        assert signal.getsignal(SIG2) == signal.SIG_IGN
    finally:
        signal.signal(SIG2, old)


@pytest.mark.parametrize("second_sig", [SIG, SIG2], ids=["same-signal", "other-signal"])
def test_second_base_cannot_claim_signals(base, make_base, py_handlers, second_sig):
    other = make_base()
    trace = Trace()
    first = Event.signal(base, SIG, trace.cb("first"))
    first.add()
    ev = Event.signal(other, second_sig, trace.cb("second"))
    with pytest.raises(RuntimeError):
        ev.add()
    assert ev.pending(EV_SIGNAL) == 0
    # the first base still owns the signals
    kill(second_sig)
    if second_sig == SIG:
        run_once(base)
        assert trace.names == ["first"]
    else:
        assert py_handlers.seen == [SIG2]
        assert trace.names == []
    first.delete()


def test_signals_switch_base_after_delete(base, make_base, py_handlers):
    # regress signal/switchbase: once the first base has no signal events,
    # another base may take the signals.
    other = make_base()
    trace = Trace()
    e1 = Event.signal(base, SIG, trace.cb("first"))
    e1.add()
    e1.delete()
    e2 = Event.signal(other, SIG, trace.cb("second"))
    e2.add()
    kill()
    run_once(other)
    assert trace.names == ["second"]
    e2.delete()


def test_signals_switch_base_after_free(make_base, py_handlers):
    b1 = make_base()
    b2 = make_base()
    Event.signal(b1, SIG, lambda *_: None).add()
    b1.free()
    trace = Trace()
    ev = Event.signal(b2, SIG, trace.cb("b2"))
    ev.add()
    kill()
    run_once(b2)
    assert trace.names == ["b2"]
    ev.delete()


def test_active_by_signal(base, py_handlers):
    trace = Trace()
    ev = Event.signal(base, SIG, trace.cb("s"))
    ev.add()
    other = Event.signal(base, SIG2, trace.cb("other"))
    other.add()
    base.active_by_signal(SIG)
    base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK)
    assert trace.calls == [("s", SIG, EV_SIGNAL, None)]
    assert py_handlers.seen == []
    ev.delete()
    other.delete()


def test_active_by_signal_ignores_non_pending(base, py_handlers):
    trace = Trace()
    Event.signal(base, SIG, trace.cb("s"))  # never added
    base.active_by_signal(SIG)
    assert base.loop() == 1
    assert trace.calls == []


def test_signal_and_timer_share_the_loop(base, py_handlers):
    trace = Trace()

    def done(*_):
        ev.delete()
        g.delete()

    ev = Event.signal(base, SIG, trace.cb("sig", done))
    ev.add()
    Event.timer(base, trace.cb("t", lambda *_: kill())).add(0.005)
    g = guard(base, 2.0)
    assert base.loop() == 1  # nothing left once the signal callback ran
    assert trace.names == ["t", "sig"]


@pytest.mark.parametrize("target", ["main-thread", "process"])
def test_signal_wakes_sleeping_loop(base, py_handlers, target):
    # The signal arrives while the loop sleeps in the backend (GIL
    # released): the handler's wakeup must end the poll, so the 2 s guard
    # never fires.
    trace = Trace()
    ev = Event.signal(base, SIG, trace.cb("s"))
    ev.add()
    main = threading.get_ident()
    if target == "main-thread":
        send = lambda: signal.pthread_kill(main, SIG)  # noqa: E731
    else:
        send = kill
    t = threading.Timer(0.02, send)
    g = guard(base, 2.0)
    t.start()
    try:
        base.loop(EVLOOP_ONCE)
    finally:
        t.join()
    g.delete()
    assert trace.calls == [("s", SIG, EV_SIGNAL, None)]
    assert not base.got_break()
    assert py_handlers.seen == []
    ev.delete()


def test_active_with_ncalls(base, py_handlers):
    # event_active's ncalls only matters for signal events: the callback
    # runs ncalls times.
    trace = Trace()
    ev = Event.signal(base, SIG, trace.cb("s"))
    ev.add()
    ev.active(EV_SIGNAL, 3)
    base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK)
    assert trace.whats == [EV_SIGNAL] * 3
    ev.delete()
