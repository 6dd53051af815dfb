"""Odd inputs get asyncio's answers, on both loops.

* NaN deadlines (``call_at(nan)``, ``call_later(nan)``, ``asyncio.sleep(nan)``):
  asyncio 3.10-3.12 runs such a timer as soon as it is the earliest in its
  heap (``max(0, nan - now)`` is 0, and ``nan >= end_time`` is false);
  3.13's ``_run_once`` computes ``nan`` as the select timeout and
  ``selectors`` raises ``ValueError`` from ``run_forever`` whenever it is
  the earliest timer and nothing else is ready, and 3.13's
  ``asyncio.sleep(nan)`` raises ``ValueError`` itself.  Never a frozen
  loop.  (These run in a subprocess with a timeout: a frozen loop cannot
  hang the suite.)
* A closed socket object given to add_reader/add_writer/remove_reader/
  remove_writer: the selector finds its registration by the object
  (``selectors._BaseSelectorImpl._fileobj_lookup``); an unregistered one is
  ``ValueError("Invalid file descriptor: -1")``.  The ``sock_*`` methods
  fail with ``EBADF``.
* A BufferedProtocol whose ``get_buffer()`` returns a read-only buffer, an
  empty one, or raises: one exception-handler call with asyncio's message,
  and the transport is closed (``connection_lost(exc)``).
"""
import asyncio
import errno
import os
import socket
import subprocess
import sys

import pytest

from aio_harness import run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY313 = sys.version_info >= (3, 13)


def _run_program(program, loop_name, timeout=30):
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("PYTHONASYNCIODEBUG", None)
    proc = subprocess.run([sys.executable, "-c", program, loop_name], capture_output=True,
                          text=True, env=env, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


# -- NaN deadlines ------------------------------------------------------------------


NAN_PROGRAM = r"""
import asyncio, math, sys
import evloop
factory = asyncio.SelectorEventLoop if sys.argv[1] == "asyncio" else evloop.new_event_loop
nan = float("nan")

def outcome(fn):
    try:
        return repr(fn())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"

def scenario(name, body):
    loop = factory()
    try:
        print(name, body(loop), flush=True)
    finally:
        loop.close()

def while_busy(method):
    # A NaN timer made while a callback is ready.
    def body(loop):
        ran = []
        h = getattr(loop, method)(nan, ran.append, "nan")
        assert math.isnan(h.when())
        loop.run_until_complete(asyncio.sleep(0.01))
        return ran
    return body

def sleep_nan(loop):
    return outcome(lambda: loop.run_until_complete(asyncio.sleep(nan, "slept")))

def alone(loop):
    # The NaN timer is the earliest and nothing else is ready.
    ran = []
    h = loop.call_at(nan, ran.append, "nan")
    results = []
    for _ in range(2):
        loop.call_later(0.01, loop.stop)
        results.append(outcome(loop.run_forever))
    h.cancel()
    loop.call_later(0.01, loop.stop)
    results.append(outcome(loop.run_forever))
    return results, ran

scenario("call_at", while_busy("call_at"))
scenario("call_later", while_busy("call_later"))
scenario("sleep", sleep_nan)
scenario("alone", alone)
"""


def test_nan_deadlines(loop_name):
    rc, out, err = _run_program(NAN_PROGRAM, loop_name)
    assert rc == 0, err
    got = dict(line.split(" ", 1) for line in out.splitlines())
    if PY313:
        nan_timeout = "ValueError: cannot convert float NaN to integer"
        expected = {
            "call_at": "['nan']",
            "call_later": "['nan']",
            "sleep": "ValueError: Invalid delay: NaN (not a number)",
            "alone": str(([nan_timeout, nan_timeout, "None"], [])),
        }
    else:
        expected = {
            "call_at": "['nan']",
            "call_later": "['nan']",
            "sleep": "'slept'",
            "alone": str((["None", "None", "None"], ["nan"])),
        }
    assert got == expected
