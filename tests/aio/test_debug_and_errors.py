"""Debug mode and the exception-handler API, on both loops.

* ``set_debug(True)``: ``call_soon`` from a foreign thread while the loop
  runs raises ``RuntimeError``; a coroutine given as a callback raises
  ``TypeError``; a callback slower than ``slow_callback_duration`` is
  logged as a warning on the ``asyncio`` logger.
* The exception handler: ``set/get_exception_handler``,
  ``default_exception_handler`` logs on the ``asyncio`` logger, a raising
  callback (soon, timer, reader) reaches the handler and the loop keeps
  running.
"""
import asyncio
import contextvars
import logging
import socket
import sys
import threading
import time

import pytest

from aio_harness import run


# -- debug mode -------------------------------------------------------------------


def test_set_debug(loop):
    assert loop.get_debug() in (False, True)
    loop.set_debug(True)
    assert loop.get_debug() is True
    loop.set_debug(False)
    assert loop.get_debug() is False


def test_debug_call_soon_from_another_thread_raises(loop):
    loop.set_debug(True)
    errors = []

    def worker():
        for call in (lambda: loop.call_soon(print),
                     lambda: loop.call_later(1, print),
                     lambda: loop.call_at(loop.time() + 1, print)):
            try:
                call()
            except RuntimeError as exc:
                errors.append(str(exc))

    async def main():
        t = threading.Thread(target=worker)
        t.start()
        while t.is_alive():
            await asyncio.sleep(0.001)
        t.join()

    run(loop, main())
    assert len(errors) == 3
    assert all("Non-thread-safe operation" in e for e in errors)


def test_debug_call_soon_threadsafe_from_another_thread_is_fine(loop):
    loop.set_debug(True)
    fut = loop.create_future()

    async def main():
        t = threading.Thread(target=lambda: loop.call_soon_threadsafe(fut.set_result, 1))
        t.start()
        try:
            return await fut
        finally:
            t.join()

    assert run(loop, main()) == 1


def test_debug_call_soon_with_a_coroutine_raises(loop):
    loop.set_debug(True)

    async def coro_fn():
        pass

    with pytest.raises(TypeError, match="coroutines cannot be used with call_soon"):
        loop.call_soon(coro_fn)
    coro = coro_fn()
    with pytest.raises(TypeError, match="coroutines cannot be used with call_soon"):
        loop.call_soon(coro)
    with pytest.raises(TypeError, match="coroutines cannot be used with call_(later|at)"):
        loop.call_later(1, coro)
    with pytest.raises(TypeError, match="coroutines cannot be used with call_at"):
        loop.call_at(loop.time() + 1, coro)
    coro.close()


def test_debug_slow_callback_is_logged(loop, caplog):
    loop.set_debug(True)
    loop.slow_callback_duration = 0.01

    def slow_callback():
        time.sleep(0.05)

    with caplog.at_level(logging.WARNING, logger="asyncio"):
        loop.call_soon(slow_callback)
        run(loop, asyncio.sleep(0.01))
    slow = [r for r in caplog.records
            if r.name == "asyncio" and r.levelno == logging.WARNING
            and "Executing" in r.getMessage() and "slow_callback" in r.getMessage()]
    assert slow, [r.getMessage() for r in caplog.records]
    assert "took" in slow[0].getMessage()


def test_debug_slow_timer_callback_is_logged(loop, caplog):
    loop.set_debug(True)
    loop.slow_callback_duration = 0.01

    def slow_timer():
        time.sleep(0.05)

    with caplog.at_level(logging.WARNING, logger="asyncio"):
        loop.call_later(0, slow_timer)
        run(loop, asyncio.sleep(0.02))
    assert any("slow_timer" in r.getMessage() and "took" in r.getMessage()
               for r in caplog.records if r.name == "asyncio")


def test_debug_handle_has_source_traceback(loop):
    loop.set_debug(True)
    h = loop.call_soon(print)
    assert h._source_traceback
    h.cancel()


def test_fast_callbacks_are_not_logged_without_debug(loop, caplog):
    loop.set_debug(False)
    loop.slow_callback_duration = 0.0
    with caplog.at_level(logging.DEBUG, logger="asyncio"):
        loop.call_soon(lambda: None)
        run(loop, asyncio.sleep(0))
    assert not [r for r in caplog.records if "Executing" in r.getMessage()]


def test_debug_never_awaited_coroutine_in_debug_mode_logs_nothing_extra(loop, caplog):
    # Debug mode runs normal programs unchanged.
    loop.set_debug(True)

    async def main():
        await asyncio.sleep(0)
        t = asyncio.ensure_future(asyncio.sleep(0, 5))
        return await t

    with caplog.at_level(logging.WARNING, logger="asyncio"):
        assert run(loop, main()) == 5
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- exception handler ----------------------------------------------------------


def test_exception_handler_defaults_to_none(loop_factory):
    lp = loop_factory()
    try:
        assert lp.get_exception_handler() is None
    finally:
        lp.close()


def test_set_and_get_exception_handler(loop, exc_calls):
    assert loop.get_exception_handler() is exc_calls

    def handler(lp, ctx):
        pass

    loop.set_exception_handler(handler)
    assert loop.get_exception_handler() is handler
    loop.set_exception_handler(None)
    assert loop.get_exception_handler() is None
    with pytest.raises(TypeError):
        loop.set_exception_handler("not callable")
    loop.set_exception_handler(exc_calls)


def test_default_exception_handler_logs(loop, caplog):
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        try:
            raise ValueError("the detail")
        except ValueError as exc:
            loop.default_exception_handler({"message": "boom message", "exception": exc})
    records = [r for r in caplog.records if r.name == "asyncio"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert "boom message" in records[0].getMessage()
    assert records[0].exc_info[1].args == ("the detail",)


def test_call_exception_handler_without_handler_logs(loop, exc_calls, caplog):
    loop.set_exception_handler(None)
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        loop.call_exception_handler({"message": "no handler set", "extra_key": 7})
    loop.set_exception_handler(exc_calls)
    msgs = [r.getMessage() for r in caplog.records if r.name == "asyncio"]
    assert any("no handler set" in m and "extra_key" in m for m in msgs)


def test_call_exception_handler_with_handler(loop, exc_calls):
    loop.call_exception_handler({"message": "custom", "value": 1})
    calls = exc_calls.consume()
    assert calls == [{"message": "custom", "value": 1}]


def test_raising_callback_goes_to_handler_and_loop_keeps_running(loop, exc_calls):
    order = []

    def bad():
        order.append("bad")
        raise ZeroDivisionError("in callback")

    loop.call_soon(bad)
    loop.call_soon(order.append, "after")
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert order == ["bad", "after"]
    calls = exc_calls.consume()
    assert len(calls) == 1
    ctx = calls[0]
    assert isinstance(ctx["exception"], ZeroDivisionError)
    assert ctx["message"].startswith("Exception in callback")
    assert "bad" in ctx["message"]
    assert "handle" in ctx
    # And the loop is fine afterwards.
    assert run(loop, asyncio.sleep(0, "alive")) == "alive"


def test_raising_timer_callback_goes_to_handler(loop, exc_calls):
    order = []

    def bad_timer():
        raise KeyError("timer")

    loop.call_later(0, bad_timer)
    loop.call_later(0.01, order.append, "later")
    run(loop, asyncio.sleep(0.03))
    assert order == ["later"]
    calls = exc_calls.consume()
    assert len(calls) == 1
    assert isinstance(calls[0]["exception"], KeyError)


def test_raising_reader_callback_goes_to_handler(loop, exc_calls):
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    fired = []

    def bad_reader():
        fired.append(a.recv(100))
        loop.remove_reader(a)
        raise RuntimeError("reader failed")

    try:
        loop.add_reader(a, bad_reader)
        b.send(b"x")
        run(loop, asyncio.sleep(0.02))
    finally:
        loop.remove_reader(a)
        a.close()
        b.close()
    assert fired == [b"x"]
    calls = exc_calls.consume()
    assert len(calls) == 1
    assert isinstance(calls[0]["exception"], RuntimeError)


_where = contextvars.ContextVar("_where", default="outside")


def test_exception_handler_runs_in_the_failing_callbacks_context(loop, exc_calls):
    # gh-96704 (3.12): call_exception_handler runs a custom handler in the
    # failing handle's context (handle.get_context().run); before 3.12 in
    # the context the loop runs in, since Handle._run reports the error
    # after context.run() returned.
    seen = []

    def handler(lp, context):
        seen.append(_where.get())
        exc_calls(lp, context)

    loop.set_exception_handler(handler)
    ctx = contextvars.copy_context()
    ctx.run(_where.set, "callback")

    def bad():
        raise ZeroDivisionError("in callback")

    loop.call_soon(bad, context=ctx)
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert [type(c["exception"]) for c in exc_calls.consume()] == [ZeroDivisionError]
    assert seen == ["callback" if sys.version_info >= (3, 12) else "outside"]
    assert _where.get() == "outside"


def test_exception_handler_that_raises_is_logged(loop, exc_calls, caplog):
    def broken_handler(lp, ctx):
        raise ValueError("handler is broken")

    loop.set_exception_handler(broken_handler)
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        loop.call_soon(lambda: 1 / 0)
        loop.call_soon(loop.stop)
        loop.run_forever()
    loop.set_exception_handler(exc_calls)
    msgs = [r.getMessage() for r in caplog.records if r.name == "asyncio"]
    assert any("Unhandled error in exception handler" in m for m in msgs)


def test_unretrieved_task_exception_reaches_handler(loop, exc_calls):
    async def fails():
        raise OSError("never retrieved")

    async def main():
        loop.create_task(fails())
        await asyncio.sleep(0.01)

    run(loop, main())
    import gc
    gc.collect()
    calls = exc_calls.consume()
    assert len(calls) == 1
    assert calls[0]["message"] == "Task exception was never retrieved"
    assert isinstance(calls[0]["exception"], OSError)


def test_keyboard_interrupt_in_callback_propagates(loop):
    def interrupt():
        raise KeyboardInterrupt

    loop.call_soon(interrupt)
    with pytest.raises(KeyboardInterrupt):
        loop.run_forever()
    assert not loop.is_running()
    # The loop can run again.
    assert run(loop, asyncio.sleep(0, 1)) == 1


def test_system_exit_in_callback_propagates(loop):
    loop.call_soon(lambda: (_ for _ in ()).throw(SystemExit(3)))
    with pytest.raises(SystemExit):
        loop.run_forever()
    assert not loop.is_running()


def test_callbacks_queued_behind_a_keyboard_interrupt_still_run(loop):
    """KeyboardInterrupt escaping a call_soon callback must not strand the
    rest of that batch: the next iteration runs it."""
    order = []

    def interrupt():
        raise KeyboardInterrupt

    loop.call_soon(interrupt)
    loop.call_soon(order.append, "after")
    with pytest.raises(KeyboardInterrupt):
        loop.run_forever()
    assert order == []
    # One more iteration: asyncio runs what was left in the ready queue.
    loop.stop()
    loop.run_forever()
    assert order == ["after"]


def test_future_set_by_a_callback_queued_behind_an_interrupt(loop):
    """After the interrupt, run_until_complete(fut) must not sleep until a
    timer when the callback that sets fut is already queued."""
    fut = loop.create_future()

    def interrupt():
        raise KeyboardInterrupt

    loop.call_soon(interrupt)
    loop.call_soon(fut.set_result, "set")
    with pytest.raises(KeyboardInterrupt):
        loop.run_forever()
    # No new call_soon from here on: a timer is the only safety net.
    guard = loop.call_later(0.5, loop.stop)
    try:
        result = loop.run_until_complete(fut)
    except RuntimeError:   # stopped by the guard: the callback never ran
        result = None
    finally:
        guard.cancel()
    assert result == "set"
