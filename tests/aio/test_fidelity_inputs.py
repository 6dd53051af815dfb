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


# -- closed socket objects given to the watcher API -----------------------------------


def _noop():
    pass


def _invalid_fd(call, *args):
    with pytest.raises(ValueError, match=r"^Invalid file descriptor: -1$"):
        call(*args)


@pytest.mark.parametrize("kind", ["reader", "writer"])
def test_remove_by_closed_socket_object(loop, pair, kind):
    sock = pair[0]
    getattr(loop, f"add_{kind}")(sock, _noop)
    sock.close()
    assert getattr(loop, f"remove_{kind}")(sock) is True
    _invalid_fd(getattr(loop, f"remove_{kind}"), sock)


@pytest.mark.parametrize("kind", ["reader", "writer"])
def test_closed_socket_registered_by_fd_is_not_found_by_object(loop, pair, kind):
    sock = pair[0]
    fd = sock.fileno()
    getattr(loop, f"add_{kind}")(fd, _noop)
    sock.close()
    _invalid_fd(getattr(loop, f"remove_{kind}"), sock)
    assert getattr(loop, f"remove_{kind}")(fd) is True


def test_unregistered_closed_socket(loop, pair):
    sock = pair[0]
    sock.close()
    _invalid_fd(loop.remove_reader, sock)
    _invalid_fd(loop.remove_writer, sock)
    _invalid_fd(loop.add_reader, sock, _noop)
    _invalid_fd(loop.add_writer, sock, _noop)


def test_add_same_direction_again_by_closed_socket_object(loop, pair):
    # The selector key changes only its data: no system call, no error.
    sock = pair[0]
    loop.add_reader(sock, _noop)
    sock.close()
    assert loop.add_reader(sock, print) is None
    assert loop.remove_reader(sock) is True


def test_remove_one_direction_of_a_closed_socket_watched_both_ways(loop, pair):
    # The selector modifies the epoll registration of the closed fd (EBADF)
    # and forgets the whole key.
    sock = pair[0]
    loop.add_reader(sock, _noop)
    loop.add_writer(sock, _noop)
    sock.close()
    with pytest.raises(OSError) as info:
        loop.remove_reader(sock)
    assert info.value.errno == errno.EBADF
    _invalid_fd(loop.remove_writer, sock)
    _invalid_fd(loop.remove_reader, sock)


def test_add_other_direction_by_closed_socket_object(loop, pair):
    sock = pair[0]
    loop.add_reader(sock, _noop)
    sock.close()
    with pytest.raises(OSError) as info:
        loop.add_writer(sock, _noop)
    assert info.value.errno == errno.EBADF
    _invalid_fd(loop.remove_reader, sock)


SOCK_CALLS = [
    ("sock_recv", lambda s: (s, 10)),
    ("sock_recv_into", lambda s: (s, bytearray(10))),
    ("sock_recvfrom", lambda s: (s, 10)),
    ("sock_recvfrom_into", lambda s: (s, bytearray(10))),
    ("sock_sendall", lambda s: (s, b"data")),
    ("sock_sendto", lambda s: (s, b"data", ("127.0.0.1", 9))),
    ("sock_accept", lambda s: (s,)),
    ("sock_connect", lambda s: (s, ("127.0.0.1", 9))),
]


@pytest.mark.parametrize("method,args", SOCK_CALLS, ids=[c[0] for c in SOCK_CALLS])
def test_sock_methods_on_a_closed_socket(loop, loop_name, method, args):
    if not hasattr(loop, method):
        pytest.skip(f"asyncio has no {method} before Python 3.11")
    family_type = socket.SOCK_DGRAM if method in ("sock_sendto", "sock_recvfrom",
                                                  "sock_recvfrom_into") else socket.SOCK_STREAM
    sock = socket.socket(socket.AF_INET, family_type)
    sock.setblocking(False)
    sock.close()
    for debug in (False, True):
        loop.set_debug(debug)
        with pytest.raises(OSError) as info:
            run(loop, getattr(loop, method)(*args(sock)))
        assert info.value.errno == errno.EBADF


# -- BufferedProtocol.get_buffer() misbehaving ------------------------------------------


class _BadBuffers(asyncio.BufferedProtocol):
    def __init__(self, loop, get_buffer):
        self._get_buffer = get_buffer
        self.get_buffer_calls = 0
        self.transport = None
        self.lost = loop.create_future()

    def connection_made(self, transport):
        self.transport = transport

    def get_buffer(self, sizehint):
        self.get_buffer_calls += 1
        return self._get_buffer()

    def buffer_updated(self, nbytes):  # pragma: no cover - never reached
        raise AssertionError("buffer_updated with a bad buffer")

    def connection_lost(self, exc):
        self.lost.set_result(exc)


def _raise():
    raise ZeroDivisionError("no buffer")


BAD_BUFFERS = [
    # (get_buffer, exception type, message of the exception handler call)
    ("bytes", lambda: b"read-only", TypeError, "Fatal read error on socket transport"),
    ("readonly-memoryview", lambda: memoryview(b"read-only"), TypeError,
     "Fatal read error on socket transport"),
    ("not-a-buffer", lambda: [0] * 8, TypeError, "Fatal read error on socket transport"),
    ("empty", lambda: bytearray(), RuntimeError, "Fatal error: protocol.get_buffer() call failed."),
    ("raises", _raise, ZeroDivisionError, "Fatal error: protocol.get_buffer() call failed."),
]


@pytest.mark.parametrize("get_buffer,exc_type,message", [b[1:] for b in BAD_BUFFERS],
                         ids=[b[0] for b in BAD_BUFFERS])
def test_bad_get_buffer_is_reported_once_and_closes(loop, exc_calls, pair, get_buffer,
                                                    exc_type, message):
    a, b = pair
    proto = _BadBuffers(loop, get_buffer)

    async def main():
        await loop.connect_accepted_socket(lambda: proto, a)
        b.send(b"some data")
        return await proto.lost

    exc = run(loop, main())
    assert isinstance(exc, exc_type)
    calls = exc_calls.consume()
    assert [(c["message"], c["exception"]) for c in calls] == [(message, exc)]
    assert calls[0]["protocol"] is proto and calls[0]["transport"] is proto.transport
    assert proto.get_buffer_calls == 1
    assert proto.transport.is_closing()
    if exc_type is TypeError:
        # socket.recv_into()'s own error, as asyncio's transport gets it
        assert "read-write bytes-like object" in str(exc)
