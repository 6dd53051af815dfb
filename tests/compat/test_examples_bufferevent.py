"""Run the bufferevent examples as real subprocesses on 127.0.0.1.

examples/compat/rot13_server_bufferevent.py (the libevent book's "simpler
ROT13 server"), chat_server.py and hostname_client.py are written against
evloop.compat.  Every wait is bounded by a timeout (nothing about time is
asserted) and every subprocess is killed at teardown (the ``proc`` fixture of
``example_runner.py``).
"""
import errno
import os
import socket
import subprocess
import sys

import pytest

from example_runner import COMPAT, ROOT, TIMEOUT, env, recv_exactly, rot13

ECHO = os.path.join(COMPAT, "rot13_server_bufferevent.py")
CHAT = os.path.join(COMPAT, "chat_server.py")
CLIENT = os.path.join(COMPAT, "hostname_client.py")


def start_echo(proc):
    p = proc(ECHO, 0)
    method, port = p.readline(), p.readline()
    assert method.startswith("METHOD:") and method[7:] in ("epoll", "poll", "select")
    assert port.startswith("PORT:")
    return p, int(port[5:])


# -- rot13_server_bufferevent.py --------------------------------------------------------

def test_rot13_server(proc, clients):
    p, port = start_echo(proc)
    c = clients(port)
    c.sendall(b"Hello, World!\n")
    assert recv_exactly(c, 14) == b"Uryyb, Jbeyq!\n"
    c.sendall(b"abc\nXYZ 123\nsplit ")  # two lines and a half in one send
    assert recv_exactly(c, 12) == b"nop\nKLM 123\n"
    c.sendall(b"line\n")
    assert recv_exactly(c, 11) == b"fcyvg yvar\n"
    big = b"".join(b"line %d of many\n" % i for i in range(500))
    c.sendall(big)
    assert recv_exactly(c, len(big)) == rot13(big)
    rc, out, err = p.stop()
    assert rc == 0, err
    assert "event_base_dispatch returned 0; bye" in out


def test_rot13_server_passes_an_overlong_line_through(proc, clients):
    p, port = start_echo(proc)
    c = clients(port)
    c.sendall(b"a" * 20000)  # no newline: more than MAX_LINE (16384)
    # The high watermark stops reading at MAX_LINE; readcb then flushes it.
    assert recv_exactly(c, 16385) == b"n" * 16384 + b"\n"
    c.sendall(b"\n")
    assert recv_exactly(c, 3617) == b"n" * 3616 + b"\n"
    rc, out, err = p.stop()
    assert rc == 0, err


def test_rot13_server_frees_the_bufferevent_on_disconnect(proc, clients):
    p, port = start_echo(proc)
    # A first connection, so lazily created fds (e.g. epoll's) exist already.
    c = clients(port)
    c.sendall(b"warm up\n")
    recv_exactly(c, 8)
    c.close()
    assert p.readline() == "FREED 1"
    baseline = p.n_fds()
    cs = [clients(port) for _ in range(3)]
    for i, c in enumerate(cs):
        c.sendall(b"client %d\n" % i)
    for i, c in enumerate(cs):
        assert recv_exactly(c, 9) == rot13(b"client %d\n" % i)
    assert p.n_fds() == baseline + 3  # one socket per connection
    cs[1].close()  # EOF
    assert p.readline() == "FREED 2"
    cs[0].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
    cs[0].close()  # reset: BEV_EVENT_ERROR
    assert p.readline() == "FREED 3"
    cs[2].shutdown(socket.SHUT_WR)  # half-close: EOF too
    assert p.readline() == "FREED 4"
    assert p.n_fds() == baseline  # every bufferevent freed, every socket closed
    rc, out, err = p.stop()
    assert rc == 0, err
    assert out.strip().endswith("bye")


# -- chat_server.py ----------------------------------------------------------------------

def test_chat_server_broadcasts_lines_to_the_others(proc, clients):
    p = proc(CHAT, 0)
    port_line = p.readline()
    assert port_line.startswith("PORT:")
    port = int(port_line[5:])
    a, b, c = (clients(port) for _ in range(3))
    assert [p.readline() for _ in range(3)] == ["JOIN 1", "JOIN 2", "JOIN 3"]
    a.sendall(b"hello everyone\r\n")
    assert recv_exactly(b, 15) == b"hello everyone\n"
    assert recv_exactly(c, 15) == b"hello everyone\n"
    b.sendall(b"one\ntwo\nthr")  # two lines and a partial one
    assert recv_exactly(a, 8) == b"one\ntwo\n"
    assert recv_exactly(c, 8) == b"one\ntwo\n"
    b.sendall(b"ee\n")
    assert recv_exactly(c, 6) == b"three\n"
    assert recv_exactly(a, 6) == b"three\n"
    # The sender never gets its own lines back.
    a.setblocking(False)
    with pytest.raises(BlockingIOError):
        a.recv(100)
    a.setblocking(True)
    c.close()
    assert p.readline() == "LEAVE 3"
    b.sendall(b"c left\n")
    assert recv_exactly(a, 7) == b"c left\n"
    rc, out, err = p.stop()
    assert rc == 0, err
    assert out.strip().endswith("chat: bye")


def test_chat_server_needs_a_port():
    res = subprocess.run([sys.executable, CHAT], capture_output=True, text=True,
                         env=env(), cwd=ROOT, timeout=TIMEOUT)
    assert res.returncode != 0
    assert "usage" in res.stderr


# -- hostname_client.py -----------------------------------------------------------------

def run_client(*args):
    return subprocess.run([sys.executable, CLIENT, *map(str, args)], capture_output=True,
                          text=True, env=env(), cwd=ROOT, timeout=TIMEOUT)


def test_hostname_client_talks_to_the_rot13_server(proc):
    p, port = start_echo(proc)
    res = run_client("localhost", port, "Hello from the client")
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.splitlines() == ["CONNECTED", "REPLY:Uryyb sebz gur pyvrag"]
    assert p.readline() == "FREED 1"  # the client closed its connection
    rc, out, err = p.stop()
    assert rc == 0, err


def test_hostname_client_reports_a_lookup_failure():
    res = run_client("nonexistent.invalid", 80)
    assert res.returncode == 1, res.stdout + res.stderr
    assert res.stdout.startswith("DNS error ")


def test_hostname_client_reports_connection_refused():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nobody listens there
    res = run_client("127.0.0.1", port)
    assert res.returncode == 1, res.stdout + res.stderr
    assert res.stdout.strip() == "connect error: %s" % os.strerror(errno.ECONNREFUSED)


def test_bufferevent_examples_are_short():
    for path in (ECHO, CHAT, CLIENT):
        with open(path) as f:
            assert len(f.read().splitlines()) < 150, path
