"""evloop only: libevent-face Events on ``loop.event_base`` share the
dispatch passes with the asyncio callbacks.

What is checked (docs/design.md, "Architecture"):

* an ``Event`` added to ``loop.event_base`` fires while the loop runs, and
  its callback may use asyncio (futures, call_soon, create_task, stop);
* asyncio callbacks run at the middle of three priorities: an Event
  activated from a ``call_soon`` callback runs in the *same* pass at the
  same priority (``event_active``), while the next ``call_soon`` runs in the
  next pass; priority 0 preempts the asyncio queue, priority 2 waits until a
  pass has nothing more urgent, exactly as libevent's
  ``event_process_active`` says;
* I/O Events, timers, ``once`` and signal Events coexist with
  ``add_reader``, ``call_later`` and ``add_signal_handler``;
* an Event callback that raises reaches the loop's exception handler and
  the loop keeps running;
* closing the loop frees the base.
"""
import asyncio
import os
import signal

import pytest

import evloop
from evloop import EV_PERSIST, EV_READ, EV_SIGNAL, EV_TIMEOUT, Event, EventBase

from aio_harness import run


@pytest.fixture
def loop_name():
    """Overrides the two-loop parametrization: these tests are evloop's."""
    return "evloop"


def test_event_base_is_an_event_base(loop):
    assert isinstance(loop, evloop.EventLoop)
    base = loop.event_base
    assert isinstance(base, EventBase)
    assert base is loop.event_base
    assert base.get_method() in evloop.supported_methods()
    assert base.get_npriorities() == 3


def test_timer_event_fires_during_run_until_complete(loop):
    fut = loop.create_future()

    def cb(fd, what, arg):
        assert asyncio.get_running_loop() is loop
        fut.set_result((fd, what, arg))

    ev = Event.timer(loop.event_base, cb, "the-arg")
    ev.add(0.01)
    assert run(loop, fut) == (-1, EV_TIMEOUT, "the-arg")


def test_event_callback_may_use_asyncio_apis(loop):
    order = []
    done = loop.create_future()

    async def coro():
        order.append("task")
        await asyncio.sleep(0)
        done.set_result(list(order))

    def cb(fd, what, arg):
        order.append("event")
        loop.call_soon(order.append, "call_soon")
        loop.call_later(0, order.append, "call_later")
        loop.create_task(coro())

    Event.timer(loop.event_base, cb).add(0)
    got = run(loop, done)
    assert got[0] == "event"
    assert set(got) == {"event", "call_soon", "call_later", "task"}


def test_event_callback_may_stop_run_forever(loop):
    calls = []

    def cb(fd, what, arg):
        calls.append(what)
        loop.stop()

    Event.timer(loop.event_base, cb).add(0.01)
    loop.run_forever()
    assert calls == [EV_TIMEOUT]
    assert not loop.is_running()


def test_event_active_from_call_soon_runs_in_the_same_pass(loop):
    order = []
    ev = Event.timer(loop.event_base, lambda fd, what, arg: order.append("event"))

    def a():
        order.append("A")
        loop.call_soon(order.append, "B")   # next pass
        ev.active(EV_TIMEOUT)                # this pass, after the queue

    loop.call_soon(a)
    loop.call_soon(order.append, "A2")
    run(loop, asyncio.sleep(0.01))
    assert order[:4] == ["A", "A2", "event", "B"]


def _priority_trace(loop, activate, more_soon=()):
    """Run callback A (which queues B with call_soon, then activates the
    Events of the priorities in ``activate``), plus ``more_soon``
    callbacks queued right after A; return the order things ran in."""
    order = []
    evs = {}
    for prio in activate:
        ev = Event.timer(loop.event_base, lambda fd, what, arg: order.append(arg), f"e{prio}")
        ev.priority_set(prio)
        evs[prio] = ev

    def a():
        order.append("A")
        loop.call_soon(order.append, "B")
        for prio in activate:
            evs[prio].active(EV_TIMEOUT)

    loop.call_soon(a)
    for name in more_soon:
        loop.call_soon(order.append, name)
    run(loop, asyncio.sleep(0.01))
    return order


def test_priority_1_event_runs_in_the_same_pass_as_the_asyncio_queue(loop):
    assert _priority_trace(loop, [1]) == ["A", "e1", "B"]


def test_priority_0_event_preempts_the_asyncio_queue(loop):
    # The asyncio batch of this pass (A, A2) finishes, then e0 runs in the
    # next pass before that pass's asyncio callbacks (B).
    assert _priority_trace(loop, [0], more_soon=["A2"]) == ["A", "A2", "e0", "B"]


def test_priority_2_event_waits_behind_a_real_priority_1_event(loop):
    assert _priority_trace(loop, [2, 1]) == ["A", "e1", "B", "e2"]



def test_priority_2_event_waits_for_a_pass_without_asyncio_callbacks(loop):
    # libevent's event_process_active stops after the first priority whose
    # queue ran a non-internal callback: asyncio callbacks (priority 1) are
    # user callbacks, so e2 must wait for a pass that runs nothing more
    # urgent -- after B, as it does when a priority-1 *Event* ran.
    assert _priority_trace(loop, [2]) == ["A", "B", "e2"]


def test_priorities_around_the_asyncio_queue(loop):
    # Pass N: A; activating e0 (more urgent than the running priority) sets
    # event_continue, so the priority-1 queue stops after the asyncio batch.
    # Pass N+1: e0 only.  Pass N+2: e1 then B (queued behind it).  Pass N+3:
    # e2.  evloop runs e2 in pass N, before the more urgent e0 and e1.
    assert _priority_trace(loop, [2, 0, 1]) == ["A", "e0", "e1", "B", "e2"]


def test_io_event_and_add_reader_on_the_same_fd(loop, pair):
    a, b = pair
    seen = set()
    done = loop.create_future()

    def note(who):
        seen.add(who)
        if seen == {"reader", "event"} and not done.done():
            done.set_result(None)

    ev = Event(loop.event_base, a, EV_READ | EV_PERSIST,
               lambda fd, what, arg: note("event"))
    ev.add()
    loop.add_reader(a, note, "reader")
    b.send(b"x")
    try:
        run(loop, done)
    finally:
        ev.delete()
        loop.remove_reader(a)
    assert seen == {"reader", "event"}


def test_io_event_feeds_a_coroutine(loop, pair):
    """A libevent-style reader hands data to a coroutine through a queue;
    the coroutine answers with sock_sendall."""
    a, b = pair
    queue = asyncio.Queue()

    def on_read(fd, what, arg):
        assert what & EV_READ
        data = a.recv(4096)
        queue.put_nowait(data)

    ev = Event(loop.event_base, a, EV_READ | EV_PERSIST, on_read)
    ev.add()

    async def main():
        got = []
        for word in (b"one", b"two", b"three"):
            await loop.sock_sendall(b, word)
            got.append(await queue.get())
        return got

    try:
        assert run(loop, main()) == [b"one", b"two", b"three"]
    finally:
        ev.delete()


def test_pending_persistent_event_does_not_block_run_until_complete(loop, pair):
    a, b = pair
    ev = Event(loop.event_base, a, EV_READ | EV_PERSIST, lambda fd, what, arg: None)
    ev.add()
    try:
        assert run(loop, asyncio.sleep(0, "returned")) == "returned"
        assert ev.pending(EV_READ)
    finally:
        ev.delete()


def test_event_timers_interleave_with_call_later(loop):
    order = []
    loop.call_later(0.01, order.append, "later-10ms")
    Event.timer(loop.event_base, lambda fd, what, arg: order.append("event-30ms")).add(0.03)
    loop.call_later(0.05, order.append, "later-50ms")
    Event.timer(loop.event_base, lambda fd, what, arg: order.append("event-20ms")).add(0.02)
    run(loop, asyncio.sleep(0.08))
    assert order == ["later-10ms", "event-20ms", "event-30ms", "later-50ms"]


def test_base_once(loop):
    fut = loop.create_future()
    loop.event_base.once(-1, EV_TIMEOUT, lambda fd, what, arg: fut.set_result(arg), "once", 0.01)
    assert run(loop, fut) == "once"


def test_signal_event_next_to_add_signal_handler(loop):
    saved = {s: signal.getsignal(s) for s in (signal.SIGUSR1, signal.SIGUSR2)}
    seen = set()
    done = loop.create_future()

    def note(who):
        seen.add(who)
        if seen == {"asyncio", "event"} and not done.done():
            done.set_result(None)

    ev = Event.signal(loop.event_base, signal.SIGUSR2, lambda fd, what, arg: note("event"))
    ev.add()
    loop.add_signal_handler(signal.SIGUSR1, note, "asyncio")
    try:
        loop.call_soon(os.kill, os.getpid(), signal.SIGUSR1)
        loop.call_soon(os.kill, os.getpid(), signal.SIGUSR2)
        run(loop, done)
    finally:
        ev.delete()
        loop.remove_signal_handler(signal.SIGUSR1)
        for s, h in saved.items():
            signal.signal(s, h)
    assert seen == {"asyncio", "event"}
    assert ev.events & EV_SIGNAL


def test_raising_event_callback_goes_to_exception_handler(loop, exc_calls):
    order = []

    def bad(fd, what, arg):
        order.append("bad")
        raise ValueError("from an Event")

    Event.timer(loop.event_base, bad).add(0)
    loop.call_later(0.02, order.append, "still running")
    run(loop, asyncio.sleep(0.04))
    assert order == ["bad", "still running"]
    calls = exc_calls.consume()
    assert len(calls) == 1
    assert isinstance(calls[0]["exception"], ValueError)
    assert "Exception in event callback" in calls[0]["message"]


def test_close_frees_the_base(loop):
    base = loop.event_base
    ev = Event.timer(base, lambda fd, what, arg: None)
    ev.add(3600)
    loop.close()
    assert base.closed
    with pytest.raises(RuntimeError):
        Event.timer(base, lambda fd, what, arg: None).add(1)


def test_event_added_while_running_from_a_coroutine(loop, pair):
    a, b = pair

    async def main():
        fut = loop.create_future()
        ev = Event(loop.event_base, a, EV_READ,
                   lambda fd, what, arg: fut.set_result(a.recv(10)))
        ev.add(5)
        await loop.sock_sendall(b, b"hey")
        return await fut, ev.pending(EV_READ)

    data, still_pending = run(loop, main())
    assert data == b"hey"
    assert not still_pending   # non-persistent: done after one call
