"""Debug mode and odd inputs behave as asyncio's, on both loops.

* Debug mode (``set_debug(True)``, ``Runner(debug=True)``,
  ``PYTHONASYNCIODEBUG=1``, ``-X dev``) works wherever asyncio's does, and
  the source tracebacks of handles and tasks end at the line of user code
  that made them, as deep as asyncio's (``constants.DEBUG_STACK_DEPTH``
  minus the frames of asyncio's own that asyncio trims).
* The slow-callback warning names what asyncio's ``_run_once`` names
  (``base_events._format_handle``): the task for a task step, the
  ``TimerHandle`` for a timer.
* ``Handle`` and ``TimerHandle`` reprs are asyncio's (``when=``, ``created
  at``), and both can be weakly referenced.
"""
import asyncio
import gc
import inspect
import logging
import os
import re
import socket
import subprocess
import sys
import time
import weakref
from asyncio import constants, format_helpers

import pytest

from aio_harness import run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY311 = sys.version_info >= (3, 11)
# Python 3.13's asyncio shows a callback's arguments in reprs only in debug mode.
ARGS_ONLY_IN_DEBUG = "debug" in inspect.signature(
    format_helpers._format_callback_source).parameters


def _here():
    """The caller's line number."""
    return inspect.currentframe().f_back.f_lineno


def _run_program(program, loop_name, *args, env=None, timeout=60):
    """Run ``program`` (text) in a fresh interpreter with the loop name as
    its first argument; (returncode, stdout, stderr)."""
    full_env = dict(os.environ, PYTHONPATH=ROOT)
    full_env.pop("PYTHONASYNCIODEBUG", None)
    full_env.pop("PYTHONDEVMODE", None)
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, *args, "-c", program, loop_name],
                          capture_output=True, text=True, env=full_env, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def _marker_lines(program):
    """{name: line} of the ``# @name`` markers of ``program``."""
    lines = {}
    for number, text in enumerate(program.splitlines(), 1):
        m = re.search(r"# @(\w+)", text)
        if m:
            lines[m.group(1)] = number
    return lines


# -- debug mode works ---------------------------------------------------------------


@pytest.mark.skipif(not PY311, reason="asyncio.Runner is new in 3.11")
def test_runner_debug_true(loop_factory):
    async def main():
        await asyncio.sleep(0)
        return asyncio.get_running_loop().get_debug()

    with asyncio.Runner(loop_factory=loop_factory, debug=True) as runner:
        assert runner.run(main()) is True


DEBUG_ENV_PROGRAM = r"""
import asyncio, sys
import evloop
factory = asyncio.SelectorEventLoop if sys.argv[1] == "asyncio" else evloop.new_event_loop

async def main():
    await asyncio.sleep(0.001)
    t = asyncio.get_running_loop().create_task(asyncio.sleep(0, "ok"))
    return asyncio.get_running_loop().get_debug(), await t

if sys.version_info >= (3, 11):
    with asyncio.Runner(loop_factory=factory) as runner:
        print(*runner.run(main()))
else:
    loop = factory()
    try:
        print(*loop.run_until_complete(main()))
    finally:
        loop.close()
"""


@pytest.mark.parametrize("how", ["PYTHONASYNCIODEBUG", "-X dev"])
def test_debug_mode_from_the_environment(loop_name, how):
    if how == "-X dev":
        rc, out, err = _run_program(DEBUG_ENV_PROGRAM, loop_name, "-X", "dev")
    else:
        rc, out, err = _run_program(DEBUG_ENV_PROGRAM, loop_name,
                                    env={"PYTHONASYNCIODEBUG": "1"})
    assert (rc, out, err) == (0, "True ok\n", "")


# -- source tracebacks ----------------------------------------------------------------


MODULE_LEVEL_PROGRAM = r"""
import asyncio, sys
import evloop
factory = asyncio.SelectorEventLoop if sys.argv[1] == "asyncio" else evloop.new_event_loop
loop = factory()
loop.set_debug(True)
made = {}
made["call_soon"] = loop.call_soon(print, "soon")  # @call_soon
made["call_later"] = loop.call_later(0, print, "later")  # @call_later
made["call_at"] = loop.call_at(loop.time(), print, "at")  # @call_at
made["call_soon_threadsafe"] = loop.call_soon_threadsafe(print, "threadsafe")  # @call_soon_threadsafe
async def coro():
    pass
made["create_task"] = loop.create_task(coro())  # @create_task
for name, obj in made.items():
    tb = obj._source_traceback
    print(name, len(tb), tb[-1].name, tb[-1].lineno)
loop.run_until_complete(made["create_task"])
loop.close()
"""


def test_module_level_source_tracebacks(loop_name):
    rc, out, err = _run_program(MODULE_LEVEL_PROGRAM, loop_name)
    assert rc == 0, err
    lines = _marker_lines(MODULE_LEVEL_PROGRAM)
    got = {}
    for row in out.splitlines():
        if row.split()[0] in lines:
            name, depth, func, lineno = row.split()
            got[name] = (int(depth), func, int(lineno))
    # One frame: the module's own line.
    assert got == {name: (1, "<module>", line) for name, line in lines.items()}
    assert sorted(out.splitlines()[-4:]) == ["at", "later", "soon", "threadsafe"]


def _nest(depth, fn):
    """Call fn() from ``depth`` extra nested frames (a stack deeper than
    DEBUG_STACK_DEPTH); return its result."""
    if depth == 0:
        return fn()
    return _nest(depth - 1, fn)


def _made_at(loop, method, *args):
    """Call ``loop.<method>(*args, print)`` from a deep stack; (handle, line)."""
    box = []

    def maker():
        box.append(_here() + 1)
        return getattr(loop, method)(*args, print)

    return _nest(constants.DEBUG_STACK_DEPTH + 5, maker), box[0]


# (method, its arguments before the callback, how many frames of asyncio's
# own its source traceback trims from constants.DEBUG_STACK_DEPTH:
# Handle/TimerHandle.__init__ starts from its caller's frame, and each
# asyncio method then deletes its own)
HANDLE_MAKERS = [
    ("call_soon", (), 2),
    ("call_soon_threadsafe", (), 2),
    ("call_at", (1e6,), 2),
    ("call_later", (60,), 3),
]


@pytest.mark.parametrize("method,args,trimmed", HANDLE_MAKERS, ids=[m[0] for m in HANDLE_MAKERS])
def test_handle_source_traceback_starts_at_the_users_line(loop, method, args, trimmed):
    loop.set_debug(True)
    h, line = _made_at(loop, method, *args)
    tb = h._source_traceback
    h.cancel()
    assert (tb[-1].filename, tb[-1].name, tb[-1].lineno) == (__file__, "maker", line)
    assert tb[-2].name == "_nest"
    assert len(tb) == constants.DEBUG_STACK_DEPTH - trimmed


def test_task_source_traceback_starts_at_the_users_line(loop):
    # The case: set_debug() then create_task() in a function.
    async def coro():
        return 5

    def start():
        loop.set_debug(True)
        return loop.create_task(coro()), _here()

    def outer():
        return start(), _here()

    (task, line), outer_line = outer()
    tb = task._source_traceback
    assert (tb[-1].filename, tb[-1].name, tb[-1].lineno) == (__file__, "start", line)
    assert (tb[-2].name, tb[-2].lineno) == ("outer", outer_line)
    assert run(loop, task) == 5


def test_timer_handle_keeps_its_source_traceback(loop):
    loop.set_debug(True)
    fired = loop.create_future()
    th = loop.call_later(0, fired.set_result, None); line = _here()  # noqa: E702
    run(loop, fired)
    # After it ran, and after cancel(), as asyncio's TimerHandle.
    assert th._source_traceback[-1].lineno == line
    th.cancel()
    assert th._source_traceback[-1].lineno == line


# -- reprs ----------------------------------------------------------------------------


def _noop():
    pass


NOOP_AT = f"{__file__}:{_noop.__code__.co_firstlineno}"


def test_handle_repr_in_debug_mode(loop):
    loop.set_debug(True)
    h = loop.call_soon(_noop); line = _here()  # noqa: E702
    assert repr(h) == f"<Handle _noop() at {NOOP_AT} created at {__file__}:{line}>"
    h.cancel()
    assert repr(h) == f"<Handle cancelled _noop() at {NOOP_AT} created at {__file__}:{line}>"


def test_timer_handle_repr(loop):
    loop.set_debug(False)
    th = loop.call_at(12345.5, _noop)
    assert repr(th) == f"<TimerHandle when=12345.5 _noop() at {NOOP_AT}>"
    th.cancel()
    assert repr(th) == "<TimerHandle cancelled when=12345.5>"


def test_timer_handle_repr_in_debug_mode(loop):
    loop.set_debug(True)
    th = loop.call_at(12345.5, _noop); line = _here()  # noqa: E702
    created = f"created at {__file__}:{line}"
    assert repr(th) == f"<TimerHandle when=12345.5 _noop() at {NOOP_AT} {created}>"
    th.cancel()
    assert repr(th) == f"<TimerHandle cancelled when=12345.5 _noop() at {NOOP_AT} {created}>"


def test_timer_handle_repr_after_it_ran(loop):
    fired = loop.create_future()
    th = loop.call_later(0, fired.set_result, 1)
    run(loop, fired)
    args = "()" if ARGS_ONLY_IN_DEBUG and not loop.get_debug() else "(1)"
    assert repr(th).startswith(f"<TimerHandle when={th.when()} Future.set_result{args}")
    if hasattr(th, "get_context"):      # Python 3.12+
        assert th.get_context() is not None


# -- slow callbacks ------------------------------------------------------------------


def _slow_warnings(caplog):
    return [r.getMessage() for r in caplog.records
            if r.name == "asyncio" and r.levelno == logging.WARNING
            and r.getMessage().startswith("Executing ")]


@pytest.fixture
def slow_debug_loop(loop, caplog):
    loop.set_debug(True)
    loop.slow_callback_duration = 0.02
    caplog.set_level(logging.WARNING, logger="asyncio")
    return loop


def test_slow_task_step_names_the_task(slow_debug_loop, caplog):
    loop = slow_debug_loop

    async def slow_coro():
        time.sleep(0.05)                       # the first step
        await asyncio.sleep(0)
        time.sleep(0.05)                       # after a bare yield
        fut = loop.create_future()
        loop.call_soon(fut.set_result, None)
        await fut
        time.sleep(0.05)                       # woken by a future

    run(loop, loop.create_task(slow_coro(), name="slowpoke"))
    warnings = _slow_warnings(caplog)
    assert len(warnings) == 3, warnings
    for msg in warnings:
        assert msg.startswith("Executing <Task "), msg
        assert "name='slowpoke'" in msg and "slow_coro()" in msg, msg
        assert re.search(r" took \d+\.\d{3} seconds$", msg), msg


def test_slow_timer_names_the_timer_handle(slow_debug_loop, caplog):
    loop = slow_debug_loop

    def slow_timer():
        time.sleep(0.05)

    th = loop.call_later(0, slow_timer); line = _here()  # noqa: E702
    run(loop, asyncio.sleep(0.1))
    warnings = _slow_warnings(caplog)
    assert len(warnings) == 1, warnings
    at = f"{__file__}:{slow_timer.__code__.co_firstlineno}"
    assert warnings[0].startswith(
        f"Executing <TimerHandle when={th.when()} "
        f"{slow_timer.__qualname__}() at {at} created at {__file__}:{line}> took "), warnings


def test_slow_callback_names_the_handle(slow_debug_loop, caplog):
    loop = slow_debug_loop

    def slow_callback(arg):
        time.sleep(0.05)

    loop.call_soon(slow_callback, 7); line = _here()  # noqa: E702
    run(loop, asyncio.sleep(0.01))
    warnings = _slow_warnings(caplog)
    assert len(warnings) == 1, warnings
    at = f"{__file__}:{slow_callback.__code__.co_firstlineno}"
    assert warnings[0].startswith(
        f"Executing <Handle {slow_callback.__qualname__}(7) at {at} "
        f"created at {__file__}:{line}> took "), warnings


# -- weak references -------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda loop, cb: loop.call_soon(cb),
    lambda loop, cb: loop.call_later(0, cb),
    lambda loop, cb: loop.call_at(loop.time(), cb),
], ids=["call_soon", "call_later", "call_at"])
def test_handles_are_weakly_referenceable(loop, make):
    ran = loop.create_future()
    h = make(loop, lambda: ran.set_result(None))
    ref = weakref.ref(h)
    assert ref() is h
    del h
    run(loop, ran)
    run(loop, asyncio.sleep(0))
    gc.collect()
    assert ref() is None


# -- transports closed at module level in debug mode -----------------------------------


TRANSPORTS_PROGRAM = r"""
import asyncio, socket, sys
import evloop
factory = asyncio.SelectorEventLoop if sys.argv[1] == "asyncio" else evloop.new_event_loop
loop = factory()
print("debug", loop.get_debug(), flush=True)

class Proto(asyncio.BaseProtocol):
    def __init__(self):
        self.got = loop.create_future()
        self.lost = loop.create_future()
    def datagram_received(self, data, addr):
        self.got.set_result(data)
    def data_received(self, data):
        self.got.set_result(data)
    def connection_lost(self, exc):
        self.lost.set_result(exc)

def wait(fut):
    return loop.run_until_complete(asyncio.wait_for(fut, 10))

for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
    a, b = socket.socketpair(socket.AF_UNIX, kind)
    if kind == socket.SOCK_DGRAM:
        tr, pr = loop.run_until_complete(loop.create_datagram_endpoint(Proto, sock=a))
    else:
        tr, pr = loop.run_until_complete(loop.connect_accepted_socket(Proto, a))
    b.send(b"hello")
    print(kind.name, "got", wait(pr.got), flush=True)
    tr.close()                       # module level: the shallowest stack
    print(kind.name, "lost", wait(pr.lost), a.fileno(), flush=True)
    b.close()
loop.run_until_complete(loop.shutdown_default_executor())
loop.close()
print("closed", flush=True)
"""


def test_transports_closed_at_module_level_in_debug_mode(loop_name):
    # A datagram endpoint on one end of an AF_UNIX socketpair, closed from
    # module level with PYTHONASYNCIODEBUG=1 (the debug traceback of the
    # close's call_soon once failed there, leaving the transport half
    # closed).  A subprocess with a timeout: a hang fails, never blocks.
    rc, out, err = _run_program(TRANSPORTS_PROGRAM, loop_name,
                                env={"PYTHONASYNCIODEBUG": "1"})
    assert (rc, err) == (0, "")
    assert out.splitlines() == [
        "debug True",
        "SOCK_DGRAM got b'hello'",
        "SOCK_DGRAM lost None -1",
        "SOCK_STREAM got b'hello'",
        "SOCK_STREAM lost None -1",
        "closed",
    ]


class _LostRaises(asyncio.Protocol, asyncio.DatagramProtocol):
    def __init__(self, loop):
        self.lost_called = loop.create_future()

    def connection_lost(self, exc):
        self.lost_called.set_result(exc)
        raise ZeroDivisionError("connection_lost failed")


@pytest.mark.parametrize("kind", ["datagram", "stream"])
def test_exception_in_the_close_path_blocks_nothing(loop, exc_calls, kind):
    # connection_lost raising: reported once, the socket is still closed,
    # the loop keeps running and its teardown finishes (fd-leak check).
    loop.set_debug(True)
    a, b = socket.socketpair(socket.AF_UNIX,
                             socket.SOCK_DGRAM if kind == "datagram" else socket.SOCK_STREAM)

    async def main():
        proto = _LostRaises(loop)
        if kind == "datagram":
            tr, _ = await loop.create_datagram_endpoint(lambda: proto, sock=a)
        else:
            tr, _ = await loop.connect_accepted_socket(lambda: proto, a)
        tr.close()
        await proto.lost_called
        await asyncio.sleep(0.01)
        return a.fileno()

    try:
        assert run(loop, main()) == -1
    finally:
        b.close()
    calls = exc_calls.consume()
    assert len(calls) == 1, calls
    assert calls[0]["message"].startswith("Exception in callback ")
    assert isinstance(calls[0]["exception"], ZeroDivisionError)


def test_raising_timer_is_reported_with_its_timer_handle(loop, exc_calls):
    # asyncio runs the TimerHandle itself: the context names it, and in
    # debug mode the default handler's handle_traceback is its traceback.
    loop.set_debug(True)

    def failing_timer():
        raise ZeroDivisionError

    th = loop.call_later(0, failing_timer)
    run(loop, asyncio.sleep(0.01))
    calls = exc_calls.consume()
    assert len(calls) == 1, calls
    assert calls[0]["handle"] is th
    assert calls[0]["message"].startswith(f"Exception in callback {failing_timer.__qualname__}()")
    assert calls[0]["source_traceback"] is th._source_traceback
