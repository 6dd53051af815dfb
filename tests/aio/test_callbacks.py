"""call_soon and the loop's run/stop/close life cycle, on both loops.

asyncio's rules being checked (CPython ``base_events.py``):

* ``call_soon`` is FIFO; a callback scheduled *by* a callback runs in the
  next iteration, never in the current one;
* ``stop()`` lets the current iteration finish and returns; called before
  ``run_forever()`` it makes ``run_forever()`` run exactly one iteration;
* ``context=`` runs the callback in that ``contextvars.Context``; without
  it, in a copy of the caller's context taken at scheduling time;
* ``call_soon_threadsafe`` wakes a loop that is sleeping in its poll;
* a closed loop refuses work with ``RuntimeError('Event loop is closed')``.
"""
import asyncio
import contextvars
import sys
import threading

import pytest

from aio_harness import known_difference, run

# gh-130145: from 3.13.0 (gh-110771 split run_forever() into
# _run_forever_setup/_run_forever_cleanup) until 3.13.3, run_forever()
# runs its cleanup even when the "already running" / "another loop is
# running" check fails, which clears the running loop of the loop that *is*
# running.  evloop.EventLoop carries the fix; the stdlib loop of those
# releases does not.
STDLIB_RUN_FOREVER_CLEARS_RUNNING_LOOP = (3, 13) <= sys.version_info < (3, 13, 3)
RUN_FOREVER_BUG = ("gh-130145: CPython 3.13.0-3.13.2's run_forever() forgets the "
                   "running loop when it refuses to run")

var = contextvars.ContextVar("var", default="default")


def test_call_soon_is_fifo(loop):
    order = []
    for i in range(100):
        loop.call_soon(order.append, i)
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert order == list(range(100))


def test_call_soon_passes_args(loop):
    seen = []
    loop.call_soon(lambda *a: seen.append(a), 1, "two", None)
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert seen == [(1, "two", None)]


def test_scheduled_during_callback_runs_next_iteration(loop):
    order = []

    def first():
        order.append("first")
        loop.call_soon(order.append, "nested")

    loop.call_soon(first)
    loop.call_soon(order.append, "second")
    # stop() is queued before "nested" exists: this iteration is the last.
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert order == ["first", "second"]

    loop.call_soon(loop.stop)
    loop.run_forever()
    assert order == ["first", "second", "nested"]


def test_stop_finishes_the_current_iteration(loop):
    order = []

    def stopper():
        loop.stop()
        order.append("stopper")
        loop.call_soon(order.append, "after-stop")

    loop.call_soon(stopper)
    loop.call_soon(order.append, "same-iteration")
    loop.run_forever()
    assert order == ["stopper", "same-iteration"]
    assert not loop.is_running()

    # The callback scheduled after stop() is still queued, not lost.
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert order == ["stopper", "same-iteration", "after-stop"]


def test_stop_before_run_forever_runs_one_iteration(loop):
    order = []

    def cb(i):
        order.append(i)
        loop.call_soon(order.append, f"next-{i}")

    loop.call_soon(cb, 1)
    loop.call_soon(cb, 2)
    loop.stop()
    loop.run_forever()
    assert order == [1, 2]

    loop.stop()
    loop.run_forever()
    assert order == [1, 2, "next-1", "next-2"]


def test_stop_before_run_forever_with_nothing_scheduled_returns(loop):
    loop.stop()
    loop.run_forever()
    assert not loop.is_running()
    # And the loop is usable again afterwards.
    assert run(loop, asyncio.sleep(0, "ok")) == "ok"


def test_run_forever_twice_after_stop(loop):
    count = []
    for _ in range(3):
        loop.call_soon(count.append, 1)
        loop.call_soon(loop.stop)
        loop.run_forever()
    assert len(count) == 3


def test_is_running(loop):
    seen = []
    loop.call_soon(lambda: seen.append(loop.is_running()))
    loop.call_soon(loop.stop)
    assert not loop.is_running()
    loop.run_forever()
    assert seen == [True]
    assert not loop.is_running()


def test_call_soon_returns_a_cancellable_handle(loop):
    order = []
    h1 = loop.call_soon(order.append, 1)
    h2 = loop.call_soon(order.append, 2)
    h3 = loop.call_soon(order.append, 3)
    assert not h2.cancelled()
    h2.cancel()
    assert h2.cancelled()
    h2.cancel()  # idempotent
    assert h2.cancelled()
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert order == [1, 3]
    assert not h1.cancelled() and not h3.cancelled()


def test_cancel_handle_from_an_earlier_callback(loop):
    order = []
    later = []
    loop.call_soon(lambda: later[0].cancel())
    later.append(loop.call_soon(order.append, "cancelled"))
    loop.call_soon(order.append, "kept")
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert order == ["kept"]


def named_callback():
    pass


def test_handle_repr(loop):
    h = loop.call_soon(named_callback)
    assert "named_callback" in repr(h)
    h.cancel()
    assert "cancelled" in repr(h)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="Handle.get_context() is new in 3.12")
def test_handle_get_context(loop):
    ctx = contextvars.copy_context()
    h = loop.call_soon(named_callback, context=ctx)
    assert h.get_context() is ctx
    th = loop.call_later(0, named_callback, context=ctx)
    assert th.get_context() is ctx
    h.cancel()
    th.cancel()


def test_call_soon_with_context(loop):
    ctx = contextvars.copy_context()
    ctx.run(var.set, "in-ctx")
    seen = []

    def look(tag):
        seen.append((tag, var.get()))
        var.set(f"set-by-{tag}")

    loop.call_soon(look, "soon", context=ctx)
    loop.call_soon(look, "default")
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert seen == [("soon", "in-ctx"), ("default", "default")]
    # The callback ran *in* ctx: what it set is visible there, not here.
    assert ctx[var] == "set-by-soon"
    assert var.get() == "default"


def test_call_soon_copies_the_current_context_at_call_time(loop):
    seen = []
    token = var.set("outer")
    try:
        loop.call_soon(lambda: seen.append(var.get()))
    finally:
        var.reset(token)
    var_at_run = var.get()
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert seen == ["outer"]
    assert var_at_run == "default"


def test_call_later_and_call_at_with_context(loop):
    ctx = contextvars.copy_context()
    ctx.run(var.set, "timer-ctx")
    seen = []
    loop.call_later(0, lambda: seen.append(("later", var.get())), context=ctx)
    loop.call_at(loop.time(), lambda: seen.append(("at", var.get())), context=ctx)
    run(loop, asyncio.sleep(0.01))
    assert sorted(seen) == [("at", "timer-ctx"), ("later", "timer-ctx")]


def test_call_soon_threadsafe_wakes_a_sleeping_loop(loop):
    fut = loop.create_future()
    sleeping = threading.Event()

    def worker():
        # The loop has nothing to do but wait (the only timer is run()'s
        # 10 s safety timeout): only the wakeup can make it run this.
        sleeping.wait(5)
        loop.call_soon_threadsafe(fut.set_result, "woken")

    loop.call_soon(sleeping.set)
    t = threading.Thread(target=worker)
    t.start()
    try:
        assert run(loop, fut) == "woken"
    finally:
        t.join()


def test_call_soon_threadsafe_from_many_threads(loop):
    n_threads, per_thread = 8, 200
    results = []
    done = loop.create_future()

    def record(tid, i):
        results.append((tid, i))
        if len(results) == n_threads * per_thread and not done.done():
            done.set_result(None)

    def worker(tid):
        for i in range(per_thread):
            loop.call_soon_threadsafe(record, tid, i)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    try:
        run(loop, done)
    finally:
        for t in threads:
            t.join()
    assert len(results) == n_threads * per_thread
    for tid in range(n_threads):
        # FIFO per thread.
        assert [i for t, i in results if t == tid] == list(range(per_thread))


def test_call_soon_threadsafe_with_context(loop):
    ctx = contextvars.copy_context()
    ctx.run(var.set, "ts-ctx")
    fut = loop.create_future()

    def worker():
        loop.call_soon_threadsafe(lambda: fut.set_result(var.get()), context=ctx)

    t = threading.Thread(target=worker)
    t.start()
    try:
        assert run(loop, fut) == "ts-ctx"
    finally:
        t.join()


# -- closed loops ---------------------------------------------------------------


def test_closed_loop_refuses_work(loop):
    loop.close()
    assert loop.is_closed()
    loop.close()  # idempotent
    for call in (
        lambda: loop.call_soon(print),
        lambda: loop.call_soon_threadsafe(print),
        lambda: loop.call_later(1, print),
        lambda: loop.call_at(loop.time() + 1, print),
        lambda: loop.run_forever(),
    ):
        with pytest.raises(RuntimeError, match="Event loop is closed"):
            call()
    coro = asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        loop.run_until_complete(coro)
    coro.close()


def test_closed_loop_refuses_create_task(loop):
    loop.close()
    coro = asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        loop.create_task(coro)
    coro.close()


def test_closed_loop_add_reader_raises(loop):
    import socket
    a, b = socket.socketpair()
    try:
        loop.close()
        with pytest.raises(RuntimeError, match="Event loop is closed"):
            loop.add_reader(a, print)
        with pytest.raises(RuntimeError, match="Event loop is closed"):
            loop.add_writer(a, print)
    finally:
        a.close()
        b.close()


def test_close_while_running_raises(loop):
    async def main():
        with pytest.raises(RuntimeError, match="Cannot close a running event loop"):
            loop.close()
        return "still running"

    assert run(loop, main()) == "still running"
    assert not loop.is_closed()


def test_close_discards_pending_callbacks(loop):
    ran = []
    loop.call_soon(ran.append, 1)
    loop.call_later(0, ran.append, 2)
    loop.close()
    assert loop.is_closed()
    assert ran == []


def test_run_forever_while_running_raises(loop, loop_name, request):
    if STDLIB_RUN_FOREVER_CLEARS_RUNNING_LOOP:
        known_difference(request, loop_name, RUN_FOREVER_BUG, on="asyncio")

    async def main():
        with pytest.raises(RuntimeError, match="already running"):
            loop.run_forever()
        # The refused call left the running loop as it was.
        assert loop.is_running()
        assert asyncio.get_running_loop() is loop
        coro = asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="already running"):
            loop.run_until_complete(coro)
        coro.close()

    run(loop, main())


def test_run_while_another_loop_runs_raises(loop, loop_factory, loop_name, request):
    if STDLIB_RUN_FOREVER_CLEARS_RUNNING_LOOP:
        known_difference(request, loop_name, RUN_FOREVER_BUG, on="asyncio")
    other = loop_factory()
    try:
        async def main():
            with pytest.raises(RuntimeError, match="another loop is running"):
                other.run_forever()
            assert asyncio.get_running_loop() is loop
            assert not other.is_running()

        run(loop, main())
    finally:
        other.close()


def test_run_until_complete_with_future_of_another_loop_raises(loop, loop_factory):
    other = loop_factory()
    try:
        fut = other.create_future()
        with pytest.raises(ValueError, match="different loop"):
            loop.run_until_complete(fut)
        fut.cancel()
    finally:
        other.close()


def test_run_until_complete_returns_result_and_raises_exception(loop):
    async def ok():
        await asyncio.sleep(0)
        return 42

    async def bad():
        await asyncio.sleep(0)
        raise ZeroDivisionError

    assert loop.run_until_complete(ok()) == 42
    with pytest.raises(ZeroDivisionError):
        loop.run_until_complete(bad())


def test_run_until_complete_stopped_early_raises(loop):
    async def forever():
        loop.stop()
        await asyncio.sleep(3600)

    task = loop.create_task(forever())
    with pytest.raises(RuntimeError, match="Event loop stopped before Future completed"):
        loop.run_until_complete(task)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        loop.run_until_complete(task)


def test_get_running_loop_and_get_event_loop(loop):
    async def main():
        assert asyncio.get_running_loop() is loop
        assert asyncio.get_event_loop() is loop
        return asyncio.current_task().get_loop()

    assert run(loop, main()) is loop
    with pytest.raises(RuntimeError, match="no running event loop"):
        asyncio.get_running_loop()


def test_time_is_monotonic_clock(loop):
    import time
    a = loop.time()
    b = time.monotonic()
    c = loop.time()
    assert a <= b <= c


def test_one_iteration_runs_ready_then_io_then_timers(loop):
    """asyncio's _run_once: callbacks already queued run first, then the
    I/O callbacks of this poll, then the timers that expired."""
    import socket
    a, b = socket.socketpair()
    a.setblocking(False)
    order = []

    def on_read():
        order.append("io")
        a.recv(10)
        loop.remove_reader(a)

    def setup():
        loop.call_soon(order.append, "ready")
        b.send(b"x")
        loop.call_at(loop.time() - 1, order.append, "timer")

    try:
        loop.add_reader(a, on_read)
        loop.call_soon(setup)
        run(loop, asyncio.sleep(0.02))
    finally:
        loop.remove_reader(a)
        a.close()
        b.close()
    assert order == ["ready", "io", "timer"]


def test_call_soon_from_io_and_timer_callbacks_runs_next_iteration(loop):
    import socket
    a, b = socket.socketpair()
    a.setblocking(False)
    order = []

    def on_read():
        a.recv(10)
        loop.remove_reader(a)
        order.append("io")
        loop.call_soon(order.append, "soon-from-io")

    def on_timer():
        order.append("timer")
        loop.call_soon(order.append, "soon-from-timer")

    def setup():
        b.send(b"x")
        loop.call_at(loop.time() - 1, on_timer)

    try:
        loop.add_reader(a, on_read)
        loop.call_soon(setup)
        run(loop, asyncio.sleep(0.02))
    finally:
        loop.remove_reader(a)
        a.close()
        b.close()
    assert order == ["io", "timer", "soon-from-io", "soon-from-timer"]


def test_stop_before_run_forever_polls_io_once(loop):
    """asyncio's documented rule: stop() before run_forever() polls once
    with a zero timeout and runs the I/O callbacks that poll produced."""
    import socket
    a, b = socket.socketpair()
    a.setblocking(False)
    order = []

    def on_read():
        order.append(a.recv(10))

    try:
        loop.add_reader(a, on_read)
        b.send(b"io")
        loop.stop()
        loop.run_forever()
    finally:
        loop.remove_reader(a)
        a.close()
        b.close()
    assert order == [b"io"]
