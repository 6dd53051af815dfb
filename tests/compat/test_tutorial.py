"""Run the libevent tutorial's programs (examples/tutorial/) as subprocesses.

Each test checks what the tutorial says its program does, on every backend:
the backend is chosen the way libevent lets a user choose it, through the
EVENT_NOEPOLL / EVENT_NOPOLL environment variables (``backend_env``), and
every program prints the method it got.  Sockets are 127.0.0.1, every wait
is bounded by a timeout and nothing about time is asserted; the ``proc`` and
``clients`` fixtures (example_runner.py) kill the servers and close the
connections at teardown.
"""
import errno
import os
import re
import socket
import struct

import pytest

from example_runner import TUTORIAL, backend_env, recv_exactly, recv_until_eof, run

BASE_EXAMPLE = os.path.join(TUTORIAL, "event_base_example.py")
SOCKET_SERVER = os.path.join(TUTORIAL, "socket_server.py")
BEV_SERVER = os.path.join(TUTORIAL, "bufferevent_server.py")
LINGER_0 = struct.pack("ii", 1, 0)  # close() sends a reset, not a FIN


def start(proc, script, backend, port=0):
    p = proc(script, port, **backend_env(backend))
    info = p.header("PORT", "METHOD")
    assert info["METHOD"] == backend
    return p, int(info["PORT"])


def stop(p):
    rc, out, err = p.stop()
    assert rc == 0, err
    assert err == ""
    return out


# -- 2.5: event_base_example.py ------------------------------------------------

def test_event_base_example(backend):
    res = run(BASE_EXAMPLE, **backend_env(backend))
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    # No event was registered, so event_base_dispatch() returned at once, 1.
    assert res.stdout.splitlines() == [
        "init a event_base!", "METHOD:%s" % backend, "event_base_dispatch returned 1"]


# -- 4: socket_server.py --------------------------------------------------------

def test_socket_server_greets_echoes_and_prints(backend, proc, clients):
    p, port = start(proc, SOCKET_SERVER, backend)
    c = clients(port)
    assert recv_exactly(c, 20) == b"Welcome to My socket"
    c.sendall(b"hello, libevent")
    assert recv_exactly(c, 15) == b"hello, libevent"
    assert p.readline() == "hello, libevent"  # do_read's printf("%s\n", buf)
    c.sendall(b"a second message")
    assert recv_exactly(c, 16) == b"a second message"
    assert p.readline() == "a second message"
    # A second client is served by the same persistent accept event.
    d = clients(port)
    assert recv_exactly(d, 20) == b"Welcome to My socket"
    d.sendall(b"from d")
    assert recv_exactly(d, 6) == b"from d"
    assert p.readline() == "from d"
    assert stop(p) == ""


def test_socket_server_keeps_the_tutorials_flaw_bounded(backend, proc, clients):
    # Chapter 5's complaint: when a client leaves, do_read "keeps looping"
    # and never knows.  The port keeps that, but gives up after 1000 spins.
    p, port = start(proc, SOCKET_SERVER, backend)
    c = clients(port)
    assert recv_exactly(c, 20) == b"Welcome to My socket"
    c.sendall(b"bye")
    assert recv_exactly(c, 3) == b"bye"
    assert p.readline() == "bye"
    connected = p.n_fds()
    c.close()
    assert re.fullmatch(r"do_read: fd \d+ read nothing 1000 times; gave up", p.readline())
    assert p.n_fds() == connected - 1  # the fd closed once it gave up
    assert stop(p) == ""


def test_socket_server_listening_port_is_reuseable(backend, proc, clients):
    # evutil_make_listen_socket_reuseable(): the server's side of a connection
    # it closed first lingers in TIME_WAIT, which only SO_REUSEADDR binds over.
    p, port = start(proc, SOCKET_SERVER, backend)
    c = clients(port)
    assert recv_exactly(c, 20) == b"Welcome to My socket"
    stop(p)  # the exit closes the server's end first
    assert recv_until_eof(c) == b""
    c.close()
    plain = socket.socket()
    try:
        with pytest.raises(OSError):  # the precondition: the port is in use
            plain.bind(("127.0.0.1", port))
    finally:
        plain.close()
    p2, port2 = start(proc, SOCKET_SERVER, backend, port)
    assert port2 == port
    d = clients(port)
    assert recv_exactly(d, 20) == b"Welcome to My socket"
    stop(p2)


# -- 5: bufferevent_server.py -----------------------------------------------------

GREETING = b"Welcome to My socket\n"


def test_bufferevent_server_echoes_whole_lines(backend, proc, clients):
    p, port = start(proc, BEV_SERVER, backend)
    c = clients(port)
    assert recv_exactly(c, len(GREETING)) == GREETING
    for piece in (b"hel", b"lo wor", b"ld\nsecond li", b"ne\n"):  # split lines
        c.sendall(piece)
    assert recv_exactly(c, 24) == b"hello world\nsecond line\n"
    assert [p.readline(), p.readline()] == ["hello world", "second line"]
    c.sendall(b"one\ntwo\nthree\n")  # stuck together
    assert recv_exactly(c, 14) == b"one\ntwo\nthree\n"
    assert [p.readline() for _ in range(3)] == ["one", "two", "three"]
    # A partial line is held back, not echoed: when the client ends its side
    # after it, the server notices the EOF and closes with nothing sent.
    c.sendall(b"no end of line")
    c.shutdown(socket.SHUT_WR)
    assert recv_until_eof(c) == b""
    assert p.readline() == "client closed the connection"
    assert stop(p) == ""


def test_bufferevent_server_notices_disconnects_and_frees(backend, proc, clients):
    p, port = start(proc, BEV_SERVER, backend)
    # A first client, so that whatever is created lazily exists already.
    c = clients(port)
    assert recv_exactly(c, len(GREETING)) == GREETING
    c.close()
    assert p.readline() == "client closed the connection"
    idle = p.n_fds()

    cs = [clients(port) for _ in range(50)]
    for i, c in enumerate(cs):
        assert recv_exactly(c, len(GREETING)) == GREETING
        c.sendall(b"client %02d " % i)
        c.sendall(b"says hi\n")
    for i, c in enumerate(cs):
        assert recv_exactly(c, 18) == b"client %02d says hi\n" % i
    assert sorted(p.readline() for _ in cs) == ["client %02d says hi" % i for i in range(50)]
    assert p.n_fds() == idle + 50  # one socket per connection

    for i, c in enumerate(cs):
        if i % 2:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_0)
        c.close()
    notices = sorted(p.readline() for _ in cs)
    assert notices == (["client closed the connection"] * 25
                       + ["client connection error: %s" % os.strerror(errno.ECONNRESET)] * 25)
    assert p.n_fds() == idle  # every bufferevent freed, every socket closed
    assert stop(p) == ""


@pytest.mark.parametrize("script", [SOCKET_SERVER, BEV_SERVER], ids=["chapter4", "chapter5"])
def test_servers_say_bind_error_for_a_port_in_use(script):
    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)  # even SO_REUSEADDR cannot bind over a listening socket
        res = run(script, taken.getsockname()[1])
    finally:
        taken.close()
    assert res.returncode == 1, res.stdout + res.stderr
    assert res.stdout == "bind error\n"


def test_tutorial_examples_are_short_and_say_what_they_port():
    names = sorted(n for n in os.listdir(TUTORIAL) if n.endswith(".py"))
    assert names == ["bufferevent_server.py", "event_base_example.py", "socket_server.py"]
    for name in names:
        with open(os.path.join(TUTORIAL, name), encoding="utf-8") as f:
            text = f.read()
        assert len(text.splitlines()) <= 160, name
        assert re.match(r'"""[^\n]*tutorial', text), name
