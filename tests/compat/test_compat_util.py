"""evloop.compat.util: libevent's util.h (evutil_*) under its C names.

Good input gives libevent's results; bad input gives -1 / None / 0 with the
reason logged on 'evloop.compat' and nothing raised.
"""
import errno
import os
import select
import socket
import time

import pytest

from evloop.compat import (
    evutil_closesocket,
    evutil_gettime_monotonic,
    evutil_gettimeofday,
    evutil_inet_ntop,
    evutil_inet_pton,
    evutil_make_listen_socket_reuseable,
    evutil_make_listen_socket_reuseable_port,
    evutil_make_socket_closeonexec,
    evutil_make_socket_nonblocking,
    evutil_parse_sockaddr_port,
    evutil_socket_error_to_string,
    evutil_socket_geterror,
    evutil_socketpair,
    evutil_timeradd,
    evutil_timerclear,
    evutil_timercmp,
    evutil_timerisset,
    evutil_timersub,
)


def failures(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "evloop.compat"]


@pytest.fixture
def pipe():
    r, w = os.pipe()
    yield r, w
    os.close(r)
    os.close(w)


def closed_fd():
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    return r


# -- sockets -----------------------------------------------------------------------

def test_socketpair_gives_two_connected_fds():
    rc, fds = evutil_socketpair(socket.AF_UNIX, socket.SOCK_STREAM, 0)
    assert rc == 0
    a, b = fds
    assert isinstance(a, int) and isinstance(b, int)
    try:
        os.write(a, b"over")
        assert os.read(b, 10) == b"over"
    finally:
        assert evutil_closesocket(a) == 0
        assert evutil_closesocket(b) == 0


def test_socketpair_bad_family(caplog):
    assert evutil_socketpair(12345, socket.SOCK_STREAM, 0) == (-1, None)
    assert evutil_socketpair("unix", socket.SOCK_STREAM, 0) == (-1, None)
    assert len(failures(caplog)) == 2


def test_closesocket(caplog):
    rc, (a, b) = evutil_socketpair(socket.AF_UNIX, socket.SOCK_STREAM, 0)
    assert evutil_closesocket(a) == 0
    assert evutil_closesocket(a) == -1  # already closed: EBADF
    sock = socket.socket(fileno=b)
    assert evutil_closesocket(sock) == 0  # a socket object is closed through close()
    assert sock.fileno() == -1
    assert evutil_closesocket(sock) == -1
    assert evutil_closesocket(-1) == -1
    assert evutil_closesocket("fd") == -1
    assert len(failures(caplog)) == 4


def test_make_socket_nonblocking(caplog):
    a, b = socket.socketpair()
    with a, b:
        assert evutil_make_socket_nonblocking(a.fileno()) == 0
        assert os.get_blocking(a.fileno()) is False
        assert evutil_make_socket_nonblocking(b) == 0  # fileno() objects too
        assert os.get_blocking(b.fileno()) is False
    assert evutil_make_socket_nonblocking(closed_fd()) == -1
    assert evutil_make_socket_nonblocking(-1) == -1
    assert evutil_make_socket_nonblocking(None) == -1
    assert len(failures(caplog)) == 3


def test_make_socket_closeonexec(pipe, caplog):
    r, _ = pipe
    os.set_inheritable(r, True)
    assert evutil_make_socket_closeonexec(r) == 0
    assert os.get_inheritable(r) is False
    assert evutil_make_socket_closeonexec(closed_fd()) == -1
    assert len(failures(caplog)) == 1


def test_make_listen_socket_reuseable(pipe, caplog):
    with socket.socket() as s:
        assert evutil_make_listen_socket_reuseable(s) == 0
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0
        assert evutil_make_listen_socket_reuseable_port(s.fileno()) == 0
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) != 0
        s.bind(("127.0.0.1", 0))
        s.listen(1)
    r, _ = pipe
    assert evutil_make_listen_socket_reuseable(r) == -1  # ENOTSOCK
    assert evutil_make_listen_socket_reuseable_port(r) == -1
    assert evutil_make_listen_socket_reuseable(closed_fd()) == -1
    assert len(failures(caplog)) == 3
    os.fstat(r)  # the pipe fd was borrowed, not closed


def test_socket_geterror_reports_pending_error():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    # Nothing listens on ``port`` any more: a non-blocking connect fails later.
    with socket.socket() as s:
        s.setblocking(False)
        rc = s.connect_ex(("127.0.0.1", port))
        if rc == errno.EINPROGRESS:  # the usual case: the error comes later
            select.select([], [s], [], 30)
            rc = evutil_socket_geterror(s)
        assert rc == errno.ECONNREFUSED
        assert evutil_socket_error_to_string(rc) == os.strerror(errno.ECONNREFUSED)


def test_socket_geterror_after_a_failed_call():
    assert evutil_make_socket_nonblocking(closed_fd()) == -1
    assert evutil_socket_geterror(-1) == errno.EBADF
    assert "Bad file descriptor" in evutil_socket_error_to_string(errno.EBADF)


def test_socket_error_to_string_bad_input(caplog):
    assert evutil_socket_error_to_string("EBADF") is None
    assert len(failures(caplog)) == 1


# -- time ------------------------------------------------------------------------

def test_gettimeofday():
    before = time.time()
    rc, (sec, usec) = evutil_gettimeofday()
    assert rc == 0
    assert isinstance(sec, int) and isinstance(usec, int)
    assert 0 <= usec < 1_000_000
    assert abs(sec + usec / 1e6 - before) < 60
    assert evutil_gettimeofday(None)[0] == 0


def test_gettime_monotonic():
    rc, first = evutil_gettime_monotonic()
    rc2, second = evutil_gettime_monotonic(None)
    assert rc == rc2 == 0
    assert 0 <= first[1] < 1_000_000
    assert second >= first


def test_timeradd_and_timersub_normalize():
    assert evutil_timeradd((1, 600000), (2, 500000)) == (4, 100000)
    assert evutil_timeradd((0, 0), (0, 999999)) == (0, 999999)
    assert evutil_timersub((3, 100000), (1, 500000)) == (1, 600000)
    assert evutil_timersub((1, 0), (1, 0)) == (0, 0)
    assert evutil_timersub((0, 0), (0, 1)) == (-1, 999999)


def test_timerclear_and_isset():
    assert evutil_timerclear((5, 5)) == (0, 0)
    assert evutil_timerclear() == (0, 0)
    assert evutil_timerisset((0, 0)) == 0
    assert evutil_timerisset((0, 1)) == 1
    assert evutil_timerisset((1, 0)) == 1


def test_timercmp():
    assert evutil_timercmp((1, 0), (0, 999999), ">") == 1
    assert evutil_timercmp((1, 0), (1, 0), "==") == 1
    assert evutil_timercmp((1, 0), (1, 0), "!=") == 0
    assert evutil_timercmp((1, 5), (1, 6), "<") == 1
    assert evutil_timercmp((1, 5), (1, 5), "<=") == 1
    assert evutil_timercmp((2, 0), (1, 5), ">=") == 1
    import operator
    assert evutil_timercmp((0, 1), (0, 2), operator.lt) == 1


def test_timer_macros_bad_input(caplog):
    assert evutil_timeradd((1, 0), 1.5) is None
    assert evutil_timersub("a", (1, 0)) is None
    assert evutil_timerisset(None) == 0
    assert evutil_timercmp((1, 0), (1, 0), "<>") == 0
    assert evutil_timercmp((1.0, 0), (1, 0), "==") == 0
    assert len(failures(caplog)) == 5


# -- addresses ---------------------------------------------------------------------

def test_inet_pton_and_ntop():
    assert evutil_inet_pton(socket.AF_INET, "127.0.0.1") == (1, b"\x7f\x00\x00\x01")
    rc, packed = evutil_inet_pton(socket.AF_INET6, "::1")
    assert rc == 1 and packed == b"\x00" * 15 + b"\x01"
    assert evutil_inet_ntop(socket.AF_INET6, packed) == "::1"
    assert evutil_inet_ntop(socket.AF_INET, b"\x0a\x00\x00\x02") == "10.0.0.2"
    assert evutil_inet_pton(socket.AF_INET, "256.0.0.1") == (0, None)
    assert evutil_inet_pton(socket.AF_INET, "1.2.3") == (0, None)
    assert evutil_inet_pton(socket.AF_INET6, "1.2.3.4") == (0, None)


def test_inet_bad_input(caplog):
    assert evutil_inet_pton(12345, "1.2.3.4") == (-1, None)
    assert evutil_inet_pton(socket.AF_INET, 1234) == (-1, None)
    assert evutil_inet_ntop(socket.AF_INET, b"\x01\x02") is None
    assert evutil_inet_ntop(12345, b"\x01\x02\x03\x04") is None
    assert len(failures(caplog)) == 4


@pytest.mark.parametrize("text, expected", [
    ("127.0.0.1", ("127.0.0.1", 0)),
    ("127.0.0.1:8080", ("127.0.0.1", 8080)),
    ("1.2.3.4:65535", ("1.2.3.4", 65535)),
    ("[::1]", ("::1", 0, 0, 0)),
    ("[::1]:80", ("::1", 80, 0, 0)),
    ("::1", ("::1", 0, 0, 0)),
    ("ffff::1", ("ffff::1", 0, 0, 0)),
    ("1.2.3.4:80x", ("1.2.3.4", 80)),  # atoi(), as libevent
])
def test_parse_sockaddr_port(text, expected):
    assert evutil_parse_sockaddr_port(text) == (0, expected)


@pytest.mark.parametrize("text", [
    "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:x", "1.2.3.4:", "[::1", "[::1]:0",
    "localhost", "1.2.3", "", "[1.2.3.4]:80", 80, None,
])
def test_parse_sockaddr_port_rejects(text, caplog):
    assert evutil_parse_sockaddr_port(text) == (-1, None)
    assert len(failures(caplog)) == 1


def test_parsed_address_binds():
    rc, addr = evutil_parse_sockaddr_port("127.0.0.1")
    assert rc == 0
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(addr)
        assert s.getsockname()[0] == "127.0.0.1"
