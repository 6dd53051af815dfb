"""call_later / call_at: ordering by deadline then FIFO, TimerHandle
cancellation and ``when()``, on both loops.

No assertion depends on how long anything took: order is checked, and
deadlines only through ``when()``, which is arithmetic on ``loop.time()``.
"""
import asyncio
import sys

import pytest

from aio_harness import known_difference, run

# evloop keeps the timers in the EventBase's heap, which breaks ties by
# insertion order (libevent's min-heap with a sequence number); asyncio's
# heapq compares only ``when`` and so makes no FIFO promise among equal
# deadlines.
ASYNCIO_TIES = "asyncio's heapq timer queue does not keep FIFO order among equal deadlines"


def test_call_later_orders_by_deadline(loop):
    order = []
    for delay, name in [(0.03, "c"), (0.01, "a"), (0.02, "b"), (0.0, "zero")]:
        loop.call_later(delay, order.append, name)
    loop.call_later(0.05, loop.stop)
    loop.run_forever()
    assert order == ["zero", "a", "b", "c"]


def test_call_at_equal_deadlines_are_fifo(loop, loop_name, request):
    known_difference(request, loop_name, ASYNCIO_TIES, on="asyncio")
    order = []
    when = loop.time() + 0.01
    for i in range(20):
        loop.call_at(when, order.append, i)
    loop.call_at(when + 0.01, loop.stop)
    loop.run_forever()
    assert order == list(range(20))


def test_call_at_orders_by_deadline_then_fifo(loop, loop_name, request):
    known_difference(request, loop_name, ASYNCIO_TIES, on="asyncio")
    order = []
    t = loop.time()
    plan = [(3, "c1"), (1, "a1"), (2, "b1"), (1, "a2"), (3, "c2"), (2, "b2"), (1, "a3")]
    for step, name in plan:
        loop.call_at(t + step * 0.01, order.append, name)
    loop.call_at(t + 0.05, loop.stop)
    loop.run_forever()
    assert order == ["a1", "a2", "a3", "b1", "b2", "c1", "c2"]


def test_expired_timer_runs_after_ready_callbacks_of_its_iteration(loop):
    # asyncio's _run_once moves expired timers to the *end* of the ready
    # queue: callbacks already queued run first.
    order = []
    loop.call_at(loop.time() - 1, order.append, "timer")
    loop.call_soon(order.append, "soon")
    loop.call_later(0.01, loop.stop)
    loop.run_forever()
    assert order == ["soon", "timer"]


def test_call_at_in_the_past_runs(loop):
    order = []
    loop.call_at(0, order.append, "zero")
    loop.call_at(loop.time() - 100, order.append, "past")
    loop.call_later(-5, order.append, "negative")
    run(loop, asyncio.sleep(0.01))
    assert sorted(order) == ["negative", "past", "zero"]


def test_call_later_passes_args(loop):
    seen = []
    loop.call_later(0, lambda *a: seen.append(a), 1, 2, 3)
    run(loop, asyncio.sleep(0.01))
    assert seen == [(1, 2, 3)]


def test_when_is_the_deadline(loop):
    t0 = loop.time()
    th = loop.call_later(10, print)
    t1 = loop.time()
    assert t0 + 10 <= th.when() <= t1 + 10
    when = loop.time() + 123.5
    th2 = loop.call_at(when, print)
    assert th2.when() == when
    th.cancel()
    th2.cancel()
    # when() stays available after cancel.
    assert th2.when() == when


def test_none_delay_or_when_raises(loop, loop_name):
    with pytest.raises(TypeError):
        loop.call_later(None, print)
    # bpo-23819 (3.11) made asyncio's call_at(None) raise TypeError; before
    # that the stdlib loop failed TimerHandle's ``assert when is not None``.
    # evloop raises TypeError on every version.
    if loop_name == "asyncio" and sys.version_info < (3, 11):
        expected = AssertionError
    else:
        expected = TypeError
    with pytest.raises(expected):
        loop.call_at(None, print)


def test_timer_handles_compare_by_deadline(loop):
    t = loop.time()
    a = loop.call_at(t + 1, print)
    b = loop.call_at(t + 2, print)
    assert a < b and a <= b and b > a and b >= a
    assert a != b
    assert sorted([b, a]) == [a, b]
    a.cancel()
    b.cancel()


def test_cancel_timer_handle(loop):
    order = []
    th = loop.call_later(0.01, order.append, "cancelled")
    loop.call_later(0.01, order.append, "kept")
    assert not th.cancelled()
    th.cancel()
    assert th.cancelled()
    th.cancel()  # idempotent
    assert th.cancelled()
    run(loop, asyncio.sleep(0.03))
    assert order == ["kept"]


def test_cancel_timer_with_same_deadline_from_earlier_timer(loop):
    order = []
    when = loop.time() + 0.01
    handles = []

    def first():
        order.append("first")
        handles[0].cancel()

    loop.call_at(when, first)
    handles.append(loop.call_at(when, order.append, "second"))
    loop.call_at(when, order.append, "third")
    run(loop, asyncio.sleep(0.03))
    assert order == ["first", "third"]
    assert handles[0].cancelled()


def test_cancel_timer_after_it_ran(loop):
    order = []
    th = loop.call_later(0, order.append, "ran")
    run(loop, asyncio.sleep(0.01))
    assert order == ["ran"]
    th.cancel()
    assert th.cancelled()


def test_cancelled_far_timer_does_not_keep_loop_waiting(loop):
    # A cancelled timer must not be what the loop sleeps for: stop() from a
    # thread-safe wakeup would mask that, so use run_until_complete only.
    th = loop.call_later(3600, print)
    th.cancel()
    assert run(loop, asyncio.sleep(0, "done")) == "done"


def _many_timers(loop, n=500):
    import random
    rnd = random.Random(1234)
    order = []
    t = loop.time()
    delays = [rnd.randrange(0, 30) / 1000 for _ in range(n)]
    for i, d in enumerate(delays):
        loop.call_at(t + d, order.append, i)
    run(loop, asyncio.sleep(0.05))
    return delays, order


def test_many_timers_fire_in_deadline_order(loop):
    delays, order = _many_timers(loop)
    assert sorted(order) == list(range(len(delays)))
    fired = [delays[i] for i in order]
    assert fired == sorted(fired)


def test_many_timers_fire_in_deadline_then_fifo_order(loop, loop_name, request):
    known_difference(request, loop_name, ASYNCIO_TIES, on="asyncio")
    delays, order = _many_timers(loop)
    assert order == sorted(range(len(delays)), key=lambda i: (delays[i], i))


def test_timer_repr(loop):
    def my_timer_cb():
        pass

    th = loop.call_later(10, my_timer_cb)
    assert "TimerHandle" in repr(th)
    assert "my_timer_cb" in repr(th)
    th.cancel()
    assert "cancelled" in repr(th)


def test_asyncio_sleep_and_wait_for_timeout(loop):
    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.sleep(10), 0.01)
        return await asyncio.sleep(0.001, "slept")

    assert run(loop, main()) == "slept"


def test_timer_scheduled_from_a_timer(loop):
    order = []

    def first():
        order.append("first")
        loop.call_later(0, order.append, "chained")

    loop.call_later(0, first)
    run(loop, asyncio.sleep(0.02))
    assert order == ["first", "chained"]
