"""Small helpers shared by the libevent-semantics tests in ``tests/core``.

They play the role of the little callbacks of libevent's ``test/regress.c``
(``simple_read_cb``, ``timeout_cb``, ...): record who ran, with which
``what``, in which order, so a test can assert on the *order* of callbacks
rather than on wall-clock time.
"""
import os
import socket
import subprocess
import sys
import textwrap

import pytest

import evloop


class Trace:
    """An ordered log of callback invocations.

    ``trace.cb(name)`` returns an event callback ``(fd, what, arg)`` that
    appends ``(name, fd, what, arg)``; ``trace.names`` is the list of names
    in call order.  ``then`` is an optional action run after recording
    (to delete, re-add, break, ...).
    """

    def __init__(self):
        self.calls = []

    def cb(self, name, then=None):
        def callback(fd, what, arg):
            self.calls.append((name, fd, what, arg))
            if then is not None:
                then(fd, what, arg)

        callback.__name__ = f"cb_{name}"
        return callback

    @property
    def names(self):
        return [c[0] for c in self.calls]

    @property
    def whats(self):
        return [c[2] for c in self.calls]

    def count(self, name):
        return self.names.count(name)


def guard(base, seconds=2.0):
    """A safety timer that breaks the loop if the awaited event never comes,
    so a broken implementation fails the test instead of hanging it.

    The caller must ``delete()`` it afterwards when it matters that nothing
    is left registered (a pending guard keeps ``loop()`` from returning 1).
    """
    ev = evloop.Event.timer(base, lambda fd, what, arg: base.loopbreak())
    ev.add(seconds)
    return ev


def nb_socketpair():
    """A connected AF_UNIX pair, both ends non-blocking (libevent's tests
    use evutil_socketpair + evutil_make_socket_nonblocking)."""
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


def drain(sock):
    """Read everything currently buffered on a non-blocking socket."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            return data
        if not chunk:
            return data
        data += chunk


@pytest.fixture
def any_base():
    """One default EventBase, for checks that do not depend on the backend
    (argument validation), so they are not run three times over."""
    with evloop.EventBase() as b:
        yield b


def same_now(base, arm):
    """Run ``arm()`` from inside a callback, where every ``add(timeout)``
    computes its deadline from the same cached "now" (libevent's time
    cache).  Ordering tests use it so that the test process being
    descheduled between two adds cannot reorder deadlines a few ms apart.
    The arming timer itself is due at once and runs before anything armed.
    """
    evloop.Event.timer(base, lambda fd, what, arg: arm()).add(0)


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_isolated(code, timeout=60):
    """Run ``code`` in a fresh interpreter on the in-tree evloop and return
    its stdout.  For scenarios that used to crash or hang the process: a
    regression then fails this one test (non-zero exit, signal, or the
    timeout) instead of taking pytest down with it."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    try:
        res = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                             capture_output=True, text=True, env=env, cwd=ROOT,
                             timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the scenario hung (killed after {timeout}s); "
                    f"output so far: {exc.stdout!r} {exc.stderr!r}")
    if res.returncode != 0:
        pytest.fail(f"the scenario failed with exit status {res.returncode}:\n"
                    f"{res.stdout}\n{res.stderr}")
    return res.stdout
