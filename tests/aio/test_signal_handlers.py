"""add_signal_handler / remove_signal_handler on both loops (SIGUSR1 and
SIGUSR2 sent to this process; the handlers run from the loop, never from
the C signal handler)."""
import asyncio
import os
import signal
import threading

import pytest

from aio_harness import run


@pytest.fixture(autouse=True)
def _restore_signals():
    saved = {s: signal.getsignal(s) for s in (signal.SIGUSR1, signal.SIGUSR2)}
    yield
    for s, h in saved.items():
        signal.signal(s, h)


def test_signal_handler_runs_in_the_loop(loop):
    got = loop.create_future()

    def on_usr1(*args):
        if not got.done():
            got.set_result((args, asyncio.get_running_loop() is loop))

    loop.add_signal_handler(signal.SIGUSR1, on_usr1, "a", 2)
    loop.call_soon(os.kill, os.getpid(), signal.SIGUSR1)
    args, in_loop = run(loop, got)
    assert args == ("a", 2)
    assert in_loop
    assert loop.remove_signal_handler(signal.SIGUSR1) is True
    assert loop.remove_signal_handler(signal.SIGUSR1) is False


def test_signal_sent_while_loop_sleeps(loop):
    got = loop.create_future()
    loop.add_signal_handler(signal.SIGUSR1, lambda: got.done() or got.set_result("usr1"))
    ready = threading.Event()

    def worker():
        ready.wait(5)
        os.kill(os.getpid(), signal.SIGUSR1)

    loop.call_soon(ready.set)
    t = threading.Thread(target=worker)
    t.start()
    try:
        assert run(loop, got) == "usr1"
    finally:
        t.join()
        loop.remove_signal_handler(signal.SIGUSR1)


def test_two_signals_two_handlers(loop):
    seen = set()
    done = loop.create_future()

    def on(sig):
        seen.add(sig)
        if seen == {"usr1", "usr2"} and not done.done():
            done.set_result(None)

    loop.add_signal_handler(signal.SIGUSR1, on, "usr1")
    loop.add_signal_handler(signal.SIGUSR2, on, "usr2")
    loop.call_soon(os.kill, os.getpid(), signal.SIGUSR1)
    loop.call_soon(os.kill, os.getpid(), signal.SIGUSR2)
    run(loop, done)
    assert seen == {"usr1", "usr2"}
    assert loop.remove_signal_handler(signal.SIGUSR1)
    assert loop.remove_signal_handler(signal.SIGUSR2)


def test_replacing_a_signal_handler(loop):
    calls = []
    got = loop.create_future()
    loop.add_signal_handler(signal.SIGUSR1, calls.append, "old")
    loop.add_signal_handler(signal.SIGUSR1, lambda: got.done() or got.set_result("new"))
    loop.call_soon(os.kill, os.getpid(), signal.SIGUSR1)
    assert run(loop, got) == "new"
    assert calls == []
    assert loop.remove_signal_handler(signal.SIGUSR1) is True


def test_remove_restores_default_disposition(loop):
    assert signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL
    loop.add_signal_handler(signal.SIGUSR1, print)
    assert signal.getsignal(signal.SIGUSR1) != signal.SIG_DFL
    loop.remove_signal_handler(signal.SIGUSR1)
    assert signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL


def test_close_removes_signal_handlers(loop):
    loop.add_signal_handler(signal.SIGUSR2, print)
    loop.close()
    assert signal.getsignal(signal.SIGUSR2) == signal.SIG_DFL


def test_raising_signal_handler_goes_to_exception_handler(loop, exc_calls):
    def bad():
        raise ValueError("in signal handler")

    after = loop.create_future()
    loop.add_signal_handler(signal.SIGUSR1, bad)
    loop.call_soon(os.kill, os.getpid(), signal.SIGUSR1)
    loop.call_later(0.02, after.set_result, "alive")
    assert run(loop, after) == "alive"
    loop.remove_signal_handler(signal.SIGUSR1)
    calls = exc_calls.consume()
    assert len(calls) == 1
    assert isinstance(calls[0]["exception"], ValueError)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSTOP])
def test_uncatchable_signal_raises_runtime_error(loop, sig):
    with pytest.raises(RuntimeError):
        loop.add_signal_handler(sig, print)
    assert loop.remove_signal_handler(sig) is False


def test_coroutine_callback_raises_type_error(loop):
    async def handler():
        pass

    with pytest.raises(TypeError):
        loop.add_signal_handler(signal.SIGUSR1, handler)
    coro = handler()
    with pytest.raises(TypeError):
        loop.add_signal_handler(signal.SIGUSR1, coro)
    coro.close()
    assert signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL


@pytest.mark.parametrize("sig", [0, -1, signal.NSIG, 10_000])
def test_invalid_signal_number_raises_value_error(loop, sig):
    with pytest.raises(ValueError):
        loop.add_signal_handler(sig, print)
    with pytest.raises(ValueError):
        loop.remove_signal_handler(sig)


def test_signal_must_be_an_int(loop):
    with pytest.raises(TypeError):
        loop.add_signal_handler("SIGUSR1", print)


def test_add_signal_handler_outside_main_thread_raises(loop):
    errors = []

    def worker():
        try:
            loop.add_signal_handler(signal.SIGUSR1, print)
        except Exception as exc:   # noqa: BLE001 - recorded and checked below
            errors.append(exc)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert len(errors) == 1
    assert isinstance(errors[0], RuntimeError)
    assert signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL
