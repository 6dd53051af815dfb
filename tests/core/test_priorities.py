"""Priorities: event_base_priority_init, default priority at assign time,
one queue per iteration (starvation), same-priority activations during a
pass, preemption by a more urgent activation, event_priority_set rules.

Ports the spirit of regress.c main/ ``priorities``, ``priority_active_inversion``
and ``active_later``-adjacent ordering checks.
"""
import pytest

from evloop import (
    EV_PERSIST,
    EV_READ,
    EV_TIMEOUT,
    EV_WRITE,
    EVENT_MAX_PRIORITIES,
    EVLOOP_ONCE,
    Event,
    EventBase,
    EventConfig,
    supported_methods,
)
from helpers import Trace, any_base  # noqa: F401  (fixtures)


def noop(fd, what, arg):
    pass


def test_default_single_queue(any_base):
    assert any_base.get_npriorities() == 1
    assert Event.timer(any_base, noop).priority == 0


@pytest.mark.parametrize("n", [1, 2, 3, 10, 255])
def test_priority_init_valid(any_base, n):
    any_base.priority_init(n)
    assert any_base.get_npriorities() == n


@pytest.mark.parametrize("n", [0, -1, 256, EVENT_MAX_PRIORITIES, 1000])
def test_priority_init_out_of_range(any_base, n):
    with pytest.raises(ValueError, match="npriorities"):
        any_base.priority_init(n)
    assert any_base.get_npriorities() == 1


def test_priority_init_with_active_callback_fails(any_base):
    ev = Event.timer(any_base, noop)
    ev.active(EV_TIMEOUT)
    with pytest.raises(RuntimeError):
        any_base.priority_init(3)
    assert any_base.get_npriorities() == 1
    any_base.loop()
    any_base.priority_init(3)  # fine once nothing is active
    assert any_base.get_npriorities() == 3


@pytest.mark.parametrize("n, expected", [(1, 0), (2, 1), (3, 1), (4, 2), (5, 2), (255, 127)])
def test_default_priority_is_middle_at_assign_time(any_base, n, expected):
    any_base.priority_init(n)
    assert Event.timer(any_base, noop).priority == expected
    assert Event(any_base, -1, 0, noop).priority == expected


def test_priority_fixed_at_assign_time(any_base):
    early = Event.timer(any_base, noop)
    any_base.priority_init(5)
    late = Event.timer(any_base, noop)
    assert early.priority == 0
    assert late.priority == 2
    # re-assigning picks up the base's current middle priority
    early.assign(any_base, -1, 0, noop)
    assert early.priority == 2


def test_priority_set(any_base):
    any_base.priority_init(3)
    ev = Event.timer(any_base, noop)
    ev.priority_set(0)
    assert ev.priority == 0
    ev.priority_set(2)
    assert ev.priority == 2
    ev.add(10)
    ev.priority_set(1)  # pending but not active: allowed
    assert ev.priority == 1
    ev.delete()


@pytest.mark.parametrize("pri", [-1, 3, 256])
def test_priority_set_out_of_range(any_base, pri):
    any_base.priority_init(3)
    ev = Event.timer(any_base, noop)
    with pytest.raises(ValueError):
        ev.priority_set(pri)
    assert ev.priority == 1


def test_priority_set_on_active_event_fails(any_base):
    any_base.priority_init(3)
    ev = Event.timer(any_base, noop)
    ev.active(EV_TIMEOUT)
    with pytest.raises(RuntimeError):
        ev.priority_set(0)
    assert ev.priority == 1
    any_base.loop()
    ev.priority_set(0)
    assert ev.priority == 0


def _prio_events(base, trace, prios, then=None):
    then = then or {}
    evs = {}
    for name, pri in prios:
        ev = Event.timer(base, trace.cb(name, then.get(name)))
        ev.priority_set(pri)
        evs[name] = ev
    return evs


def test_more_urgent_queue_runs_first(base):
    base.priority_init(3)
    trace = Trace()
    evs = _prio_events(base, trace, [("p2a", 2), ("p1", 1), ("p0", 0), ("p2b", 2)])
    for name in ("p2a", "p1", "p0", "p2b"):
        evs[name].active(EV_TIMEOUT)
    assert base.loop() == 1
    assert trace.names == ["p0", "p1", "p2a", "p2b"]


def test_lower_queue_waits_while_urgent_one_is_busy(base, pair):
    # Only the most urgent non-empty queue runs per iteration, so a
    # level-triggered priority-0 event starves priority 1 until it is gone.
    a, b = pair
    base.priority_init(2)
    trace = Trace()

    def busy_then(fd, what, arg):
        if trace.count("busy") == 5:
            busy.delete()

    busy = Event(base, a, EV_READ | EV_PERSIST, trace.cb("busy", busy_then))
    busy.priority_set(0)
    busy.add()
    b.send(b"never read")
    low = Event.timer(base, trace.cb("low"))
    assert low.priority == 1
    low.active(EV_TIMEOUT)
    assert base.loop() == 1
    assert trace.names == ["busy"] * 5 + ["low"]


def test_timer_priorities_in_same_pass(base):
    # Timers expiring together run by priority, not by deadline.
    base.priority_init(2)
    trace = Trace()

    def arm(fd, what, arg):
        lo = Event.timer(base, trace.cb("lo"))
        lo.priority_set(1)
        hi = Event.timer(base, trace.cb("hi"))
        hi.priority_set(0)
        lo.add(0)
        hi.add(0)

    Event.timer(base, arm).add(0)
    base.loop()
    assert trace.names == ["hi", "lo"]


def test_same_priority_activation_runs_in_same_pass(base, pair):
    # A activates B (same priority 1) and makes the priority-0 fd event X
    # ready.  libevent appends B to the queue being drained, so B runs in
    # this pass, before the next poll even sees X.  (asyncio's call_soon
    # would give A, X, B.)
    a_sock, b_sock = pair
    base.priority_init(2)
    trace = Trace()
    x = Event(base, a_sock, EV_READ, trace.cb("X"))
    x.priority_set(0)
    x.add()
    bev = Event.timer(base, trace.cb("B"))

    def a_then(fd, what, arg):
        b_sock.send(b"x")
        bev.active(EV_TIMEOUT)

    aev = Event.timer(base, trace.cb("A", a_then))
    assert aev.priority == bev.priority == 1
    aev.active(EV_TIMEOUT)
    assert base.loop() == 1
    assert trace.names == ["A", "B", "X"]


def test_self_reactivation_in_same_pass(base):
    trace = Trace()

    def again(fd, what, arg):
        if trace.count("a") < 3:
            ev.active(EV_TIMEOUT)

    ev = Event.timer(base, trace.cb("a", again))
    other = Event.timer(base, trace.cb("b"))
    ev.active(EV_TIMEOUT)
    other.active(EV_TIMEOUT)
    base.loop(EVLOOP_ONCE)
    # re-activation goes to the tail of the same queue
    assert trace.names == ["a", "b", "a", "a"]


def test_more_urgent_activation_preempts(base):
    base.priority_init(3)
    trace = Trace()

    def a_then(fd, what, arg):
        evs["urgent"].active(EV_TIMEOUT)

    evs = _prio_events(base, trace, [("A", 1), ("B", 1), ("urgent", 0), ("low", 2)],
                       then={"A": a_then})
    evs["A"].active(EV_TIMEOUT)
    evs["B"].active(EV_TIMEOUT)
    evs["low"].active(EV_TIMEOUT)
    assert base.loop() == 1
    assert trace.names == ["A", "urgent", "B", "low"]


def test_less_urgent_activation_does_not_preempt(base):
    base.priority_init(3)
    trace = Trace()

    def a_then(fd, what, arg):
        evs["low"].active(EV_TIMEOUT)

    evs = _prio_events(base, trace, [("A", 1), ("B", 1), ("low", 2)], then={"A": a_then})
    evs["A"].active(EV_TIMEOUT)
    evs["B"].active(EV_TIMEOUT)
    assert base.loop() == 1
    assert trace.names == ["A", "B", "low"]


def test_io_priorities(base, pair):
    a, b = pair
    base.priority_init(2)
    trace = Trace()
    lo = Event(base, a, EV_READ, trace.cb("lo"))
    hi = Event(base, b, EV_WRITE, trace.cb("hi"))
    lo.priority_set(1)
    hi.priority_set(0)
    lo.add()
    hi.add()
    b.send(b"x")
    assert base.loop() == 1
    assert trace.names == ["hi", "lo"]


def test_loopexit_runs_at_middle_priority(base):
    # loopexit(None) is an immediately-active once event at the middle
    # priority: a more urgent queue still runs, a less urgent one not.
    base.priority_init(3)
    trace = Trace()

    def a_then(fd, what, arg):
        base.loopexit()

    evs = _prio_events(base, trace, [("A", 0), ("B", 0), ("low", 2)], then={"A": a_then})
    for name in ("A", "B", "low"):
        evs[name].active(EV_TIMEOUT)
    assert base.loop() == 0
    assert trace.names == ["A", "B"]
    assert evs["low"].pending(EV_TIMEOUT) == EV_TIMEOUT
    evs["low"].delete()


# -- event_config_set_max_dispatch_interval --------------------------------------------

def _base_with_max_dispatch(method, max_interval, max_callbacks, min_priority):
    cfg = EventConfig()
    for m in supported_methods():
        if m != method:
            cfg.avoid_method(m)
    cfg.set_max_dispatch_interval(max_interval, max_callbacks, min_priority)
    b = EventBase(cfg)
    assert b.get_method() == method
    return b


@pytest.mark.parametrize("max_interval, max_callbacks, min_priority, expected", [
    (None, -1, 0, ["A", "B", "X"]),   # no limit: the pass drains queue 1
    (None, 1, 0, ["A", "X", "B"]),    # re-poll after every callback
    (None, 2, 0, ["A", "B", "X"]),    # two callbacks fit in the pass
    (10, 1, 1, ["A", "X", "B"]),      # queue 1 is limited
    (10, 1, 2, ["A", "B", "X"]),      # the limit only applies to queues >= 2
    # min_priority is honoured without a max_interval too (libevent's
    # event_base_new_with_config copies it from any config)
    (None, 1, 2, ["A", "B", "X"]),
    (None, 1, 1, ["A", "X", "B"]),
])
def test_max_dispatch_callbacks(backend, pair, max_interval, max_callbacks, min_priority,
                                expected):
    # A and B active at priority 1; A makes the priority-0 fd event X ready.
    # With a callback limit the pass stops after A, the loop re-polls and
    # the more urgent X runs before B.  Every row was checked against
    # libevent 2.1.12 (event_config_set_max_dispatch_interval + ctypes).
    a_sock, b_sock = pair
    with _base_with_max_dispatch(backend, max_interval, max_callbacks, min_priority) as base:
        base.priority_init(3)
        trace = Trace()
        x = Event(base, a_sock, EV_READ, trace.cb("X"))
        x.priority_set(0)
        x.add()
        bev = Event.timer(base, trace.cb("B"))
        aev = Event.timer(base, trace.cb("A", lambda *_: b_sock.send(b"x")))
        aev.active(EV_TIMEOUT)
        bev.active(EV_TIMEOUT)
        assert base.loop() == 1
        assert trace.names == expected
