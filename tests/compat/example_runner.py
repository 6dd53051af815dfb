"""The example runner shared by the tests that run ``examples/`` as programs
(``test_examples.py``, ``test_examples_bufferevent.py``, ``test_tutorial.py``);
``tests/compat/conftest.py`` makes its fixtures visible to them.

* ``run(script, *args, **env)``: run a script to its end (``subprocess.run``);
* ``Proc`` / the ``proc`` fixture: a running script whose stdout is read line
  by line, each read bounded by ``TIMEOUT``; ``n_fds()`` counts its open
  descriptors (``/proc/<pid>/fd``); the fixture kills and reaps whatever is
  still running at teardown, so no test leaves a process or a pipe behind;
* the ``clients`` fixture: TCP connections to 127.0.0.1, closed at teardown;
* ``backend_env(method)``: the environment that makes libevent (and evloop)
  choose ``method``: ``EVENT_NOEPOLL`` for poll, ``EVENT_NOEPOLL`` and
  ``EVENT_NOPOLL`` for select, as libevent's ``test/test.sh`` does it;
* ``recv_exactly``, ``recv_lines``, ``recv_until_eof``, ``rot13``.

Every wait is bounded by a timeout; nothing about time is asserted.  The
scripts always get ``PYTHONPATH`` = the repository and none of the
``EVENT_*`` variables of the calling environment except those asked for.
"""
import codecs
import os
import select
import signal
import socket
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")
COMPAT = os.path.join(EXAMPLES, "compat")
TUTORIAL = os.path.join(EXAMPLES, "tutorial")
TIMEOUT = 60
_EVENT_VARS = ("EVENT_NOEPOLL", "EVENT_NOPOLL", "EVENT_NOSELECT", "EVENT_SHOW_METHOD")


def env(**extra):
    e = dict(os.environ, PYTHONPATH=ROOT, **extra)
    for name in _EVENT_VARS:
        if name not in extra:
            e.pop(name, None)
    return e


def backend_env(method):
    """The EVENT_NO* variables under which the preferred backend is ``method``."""
    return {"epoll": {},
            "poll": {"EVENT_NOEPOLL": "1"},
            "select": {"EVENT_NOEPOLL": "1", "EVENT_NOPOLL": "1"}}[method]


def run(script, *args, **extra_env):
    return subprocess.run([sys.executable, script, *map(str, args)], capture_output=True,
                          text=True, env=env(**extra_env), cwd=ROOT, timeout=TIMEOUT)


class Proc:
    """A subprocess whose stdout is read line by line with a timeout."""

    def __init__(self, script, *args, **extra_env):
        self.p = subprocess.Popen([sys.executable, script, *map(str, args)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  bufsize=0, env=env(**extra_env), cwd=ROOT)
        self.lines = []

    def readline(self):
        ready, _, _ = select.select([self.p.stdout], [], [], TIMEOUT)
        assert ready, "no output from %r within %ss; so far: %r" % (
            self.p.args, TIMEOUT, self.lines)
        line = self.p.stdout.readline().decode()
        assert line, "the process exited early: %r; stderr: %r" % (
            self.lines, self.p.stderr.read().decode())
        self.lines.append(line)
        return line.rstrip("\n")

    def header(self, *keys):
        """Read one ``KEY:value`` line per key (in any order); {key: value}."""
        info = {}
        for _ in keys:
            key, sep, value = self.readline().partition(":")
            assert sep and key in keys and key not in info, (key, self.lines)
            info[key] = value
        return info

    def n_fds(self):
        return len(os.listdir("/proc/%d/fd" % self.p.pid))

    def finish(self):
        """Wait for the exit; returns (returncode, rest of stdout, stderr)."""
        out, err = self.p.communicate(timeout=TIMEOUT)
        return self.p.returncode, out.decode(), err.decode()

    def stop(self, sig=signal.SIGTERM):
        """Send ``sig``, then finish()."""
        self.p.send_signal(sig)
        return self.finish()

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.communicate()  # reaps it and closes the pipes


@pytest.fixture
def proc():
    made = []

    def start(script, *args, **extra_env):
        p = Proc(script, *args, **extra_env)
        made.append(p)
        return p

    yield start
    for p in made:
        p.close()


@pytest.fixture
def clients():
    made = []

    def connect(port):
        c = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        made.append(c)
        return c

    yield connect
    for c in made:
        c.close()


def rot13(data):
    return codecs.encode(data.decode("ascii"), "rot13").encode("ascii")


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection; got %r" % data[-80:]
        data += chunk
    return data


def recv_lines(sock, n):
    data = b""
    while data.count(b"\n") < n:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection; got %r" % data
        data += chunk
    return data


def recv_until_eof(sock):
    """Everything the peer sends until it closes the connection."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
