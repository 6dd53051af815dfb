"""Life cycle of loops and transports, as asyncio has it: what the first
import of a program does to asyncio's task bookkeeping, the contexts a
protocol's callbacks run in, Unix server socket files, fork, loops that
are dropped without close(), and a loop's EventBase.

Every test runs on the stdlib loop and on evloop unless it is about an
evloop-only object (``loop.event_base``); forks are real (``os.fork`` and
multiprocessing's fork start method) and every wait is bounded.
"""
import asyncio
import contextvars
import gc
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings

import pytest
from aio_harness import known_difference, run

import evloop

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _python(code, *args, timeout=60):
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, PYTHONPATH=ROOT), check=False)


def _fd_set():
    return {fd for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}")}


def _fd_count():
    return len(os.listdir("/proc/self/fd"))


# -- the first import of a program -----------------------------------------------------

# argv[1]: the module the program imports first; argv[2]: the loop it runs.
FIRST_IMPORT = r"""
import sys
if sys.argv[1] == "evloop":
    import evloop              # before anything has imported asyncio
import asyncio
if sys.argv[2] == "evloop":
    import evloop
    make = evloop.new_event_loop
else:
    make = asyncio.SelectorEventLoop

async def child():
    return asyncio.current_task()

async def main():
    me = asyncio.current_task()
    other = asyncio.create_task(child())
    seen = [me is not None, me in asyncio.all_tasks(), (await other) is other]
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(10):     # "Timeout should be used inside a task"
            await asyncio.sleep(0)
    return seen

loop = make()
try:
    print(loop.run_until_complete(main()))
finally:
    loop.close()
"""


def test_tasks_know_themselves_when_the_loop_package_is_imported_first(loop_name):
    # gunicorn (27) imports the worker class, evloop.workers, before
    # anything imports asyncio; uvicorn's shutdown then failed with
    # "Timeout should be used inside a task".
    r = _python(FIRST_IMPORT, loop_name, loop_name)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[0] == "[True, True, True]", r.stderr


def test_importing_evloop_first_leaves_the_stdlib_loop_intact():
    r = _python(FIRST_IMPORT, "evloop", "asyncio")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[0] == "[True, True, True]", r.stderr
