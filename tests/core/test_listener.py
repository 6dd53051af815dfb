"""evloop.Listener: libevent 2.1's evconnlistener (reference 2.16), on every
backend.

Listeners bind 127.0.0.1 port 0 (or a unix path under tmp_path); clients are
plain blocking sockets.  Assertions are on what was accepted, in which
order and how often, never on elapsed time; every wait is bounded by a
guard timer.
"""
import errno
import gc
import os
import resource
import socket

import pytest

from evloop import (
    Listener,
    EVLOOP_NONBLOCK, EVLOOP_ONCE,
    LEV_OPT_BIND_IPV6ONLY, LEV_OPT_CLOSE_ON_EXEC, LEV_OPT_CLOSE_ON_FREE,
    LEV_OPT_DEFERRED_ACCEPT, LEV_OPT_DISABLED, LEV_OPT_LEAVE_SOCKETS_BLOCKING,
    LEV_OPT_REUSEABLE, LEV_OPT_REUSEABLE_PORT, LEV_OPT_THREADSAFE,
)

from helpers import guard


class Accepts:
    """The accept callback: records (fd, address, arg) and keeps the fds to
    close them at the end."""

    def __init__(self, then=None):
        self.calls = []
        self.then = then
        self.listener = None

    def __call__(self, listener, fd, address, arg):
        self.listener = listener
        self.calls.append((fd, address, arg))
        if self.then is not None:
            self.then(listener, fd)

    @property
    def fds(self):
        return [c[0] for c in self.calls]

    def close(self):
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass


@pytest.fixture
def accepts():
    a = Accepts()
    yield a
    a.close()


@pytest.fixture
def clients():
    made = []

    def connect(port):
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        made.append(c)
        return c
    yield connect
    for c in made:
        c.close()


def port_of(lev):
    s = socket.socket(fileno=lev.get_fd())
    try:
        return s.getsockname()[1]
    finally:
        s.detach()


def passes(base, n=5):
    for _ in range(n):
        base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK)


def loop_until(base, cond, seconds=10.0):
    g = guard(base, seconds)
    try:
        while not cond():
            base.loop(EVLOOP_ONCE)
            if base.got_break():
                break
    finally:
        g.delete()
    assert cond(), "the awaited condition never became true"


def fd_is_open(fd):
    try:
        os.fstat(fd)
    except OSError as exc:
        assert exc.errno == errno.EBADF
        return False
    return True


# -- accepting ---------------------------------------------------------------------------

def test_bind_accepts_with_address_and_arg(base, accepts, clients):
    lev = Listener.bind(base, accepts, "ARG", 0, -1, ("127.0.0.1", 0))
    try:
        assert lev.get_base() is base
        assert lev.get_fd() >= 0
        c = clients(port_of(lev))
        loop_until(base, lambda: accepts.calls)
        fd, address, arg = accepts.calls[0]
        assert accepts.listener is lev
        assert arg == "ARG"
        assert address == c.getsockname()
        assert os.get_blocking(fd) is False  # non-blocking by default
        os.write(fd, b"welcome")
        assert c.recv(100) == b"welcome"
        assert "Listener" in repr(lev)
    finally:
        lev.free()


def test_accepts_every_queued_connection(base, accepts, clients):
    lev = Listener.bind(base, accepts, None, 0, 16, ("127.0.0.1", 0))
    try:
        port = port_of(lev)
        cs = [clients(port) for _ in range(5)]
        loop_until(base, lambda: len(accepts.calls) == 5)
        assert sorted(a for _, a, _ in accepts.calls) == sorted(c.getsockname() for c in cs)
    finally:
        lev.free()


def test_leave_sockets_blocking(base, accepts, clients):
    lev = Listener.bind(base, accepts, None, LEV_OPT_LEAVE_SOCKETS_BLOCKING, -1,
                        ("127.0.0.1", 0))
    try:
        clients(port_of(lev))
        loop_until(base, lambda: accepts.calls)
        assert os.get_blocking(accepts.fds[0]) is True
    finally:
        lev.free()


def test_accepted_fds_are_close_on_exec(base, accepts, clients):
    lev = Listener.bind(base, accepts, None, LEV_OPT_CLOSE_ON_EXEC, -1, ("127.0.0.1", 0))
    try:
        clients(port_of(lev))
        loop_until(base, lambda: accepts.calls)
        assert os.get_inheritable(accepts.fds[0]) is False
    finally:
        lev.free()


def test_disabled_flag_then_enable(base, accepts, clients):
    lev = Listener.bind(base, accepts, None, LEV_OPT_DISABLED, -1, ("127.0.0.1", 0))
    try:
        clients(port_of(lev))
        passes(base)
        assert accepts.calls == []  # queued in the kernel, not accepted
        lev.enable()
        loop_until(base, lambda: accepts.calls)
        assert len(accepts.calls) == 1
    finally:
        lev.free()


def test_disable_and_enable(base, accepts, clients):
    lev = Listener.bind(base, accepts, None, 0, -1, ("127.0.0.1", 0))
    try:
        port = port_of(lev)
        lev.disable()
        lev.disable()  # twice is fine
        clients(port)
        passes(base)
        assert accepts.calls == []
        lev.enable()
        loop_until(base, lambda: accepts.calls)
        lev.disable()
        clients(port)
        passes(base)
        assert len(accepts.calls) == 1
        lev.enable()
        loop_until(base, lambda: len(accepts.calls) == 2)
    finally:
        lev.free()


def test_callback_that_disables_stops_the_accept_loop(base, clients):
    acc = Accepts(then=lambda lev, fd: lev.disable())
    lev = Listener.bind(base, acc, None, 0, 16, ("127.0.0.1", 0))
    try:
        port = port_of(lev)
        clients(port)
        clients(port)
        loop_until(base, lambda: acc.calls)
        passes(base)
        assert len(acc.calls) == 1  # libevent stops accepting once disabled
        acc.then = None
        lev.enable()
        loop_until(base, lambda: len(acc.calls) == 2)
    finally:
        lev.free()
        acc.close()


def test_callback_that_frees_the_listener(base, clients):
    acc = Accepts(then=lambda lev, fd: lev.free())
    lev = Listener.bind(base, acc, None, 0, 16, ("127.0.0.1", 0))
    fd = lev.get_fd()
    port = port_of(lev)
    clients(port)
    clients(port)
    try:
        loop_until(base, lambda: acc.calls)
        passes(base)
        assert len(acc.calls) == 1
        assert lev.get_fd() == -1
        assert not fd_is_open(fd)  # bind() made it: closed by free()
        with pytest.raises(RuntimeError):
            lev.enable()
    finally:
        lev.free()
        acc.close()


def test_set_cb_replaces_callback_and_arg(base, accepts, clients):
    first = Accepts()
    lev = Listener.bind(base, first, 1, 0, -1, ("127.0.0.1", 0))
    try:
        port = port_of(lev)
        clients(port)
        loop_until(base, lambda: first.calls)
        lev.set_cb(accepts, 2)
        clients(port)
        loop_until(base, lambda: accepts.calls)
        assert [c[2] for c in first.calls] == [1]
        assert [c[2] for c in accepts.calls] == [2]
    finally:
        lev.free()
        first.close()


def test_set_cb_none_closes_accepted_connections(base, accepts, clients):
    lev = Listener.bind(base, accepts, None, 0, -1, ("127.0.0.1", 0))
    try:
        lev.set_cb(None)
        c = clients(port_of(lev))
        c.settimeout(0.2)
        passes(base)
        assert c.recv(10) == b""  # closed by the listener: EOF
    finally:
        lev.free()


def test_set_cb_none_then_a_callback_again(base, accepts, clients):
    lev = Listener.bind(base, accepts, None, 0, -1, ("127.0.0.1", 0))
    try:
        lev.set_cb(None)
        passes(base)
        lev.set_cb(accepts, "back")
        clients(port_of(lev))
        loop_until(base, lambda: accepts.calls)
        assert accepts.calls[0][2] == "back"
    finally:
        lev.free()


def test_listener_created_with_no_callback_is_disabled(base, accepts, clients):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    lev = Listener(base, None, None, LEV_OPT_CLOSE_ON_FREE, 8, s.detach())
    try:
        c = clients(port_of(lev))
        passes(base)
        lev.set_cb(accepts, None)
        loop_until(base, lambda: accepts.calls)
        assert accepts.calls[0][1] == c.getsockname()
    finally:
        lev.free()


# -- sockets, backlog, close-on-free -------------------------------------------------------

def test_listener_on_existing_socket_without_close_on_free(base, accepts, clients):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    fd = s.detach()
    lev = Listener(base, accepts, None, 0, 8, fd)  # backlog > 0: it calls listen()
    try:
        assert lev.get_fd() == fd
        clients(port_of(lev))
        loop_until(base, lambda: accepts.calls)
    finally:
        lev.free()
    assert lev.get_fd() == -1
    assert fd_is_open(fd)  # not the listener's to close
    os.close(fd)


def test_listener_on_existing_socket_with_close_on_free(base):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    fd = s.detach()
    lev = Listener(base, lambda *a: None, None, LEV_OPT_CLOSE_ON_FREE, -1, fd)
    lev.free()
    assert not fd_is_open(fd)
    lev.free()  # idempotent


def test_listener_on_a_socket_object(base, accepts, clients):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    lev = Listener(base, accepts, None, 0, 0, s)  # backlog 0: already listening
    try:
        assert lev.get_fd() == s.fileno()
        clients(s.getsockname()[1])
        loop_until(base, lambda: accepts.calls)
    finally:
        lev.free()
        s.close()


def test_bind_owns_its_socket(base):
    lev = Listener.bind(base, lambda *a: None, None, 0, -1, ("127.0.0.1", 0))
    fd = lev.get_fd()
    lev.free()
    assert not fd_is_open(fd)


def test_bind_options_set_socket_options(base):
    lev = Listener.bind(base, lambda *a: None, None,
                        LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_DEFERRED_ACCEPT
                        | LEV_OPT_THREADSAFE, -1, ("127.0.0.1", 0))
    s = socket.socket(fileno=lev.get_fd())
    try:
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) == 1
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) > 0
    finally:
        s.detach()
        lev.free()


def test_bind_ipv6only(base):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        lev = Listener.bind(base, lambda *a: None, None, LEV_OPT_BIND_IPV6ONLY, -1, ("::1", 0))
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    s = socket.socket(fileno=lev.get_fd())
    try:
        assert s.family == socket.AF_INET6
        assert s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
    finally:
        s.detach()
        lev.free()


def test_bind_unix_socket(base, accepts, tmp_path):
    path = str(tmp_path / "lev.sock")
    lev = Listener.bind(base, accepts, None, 0, -1, path)
    c = socket.socket(socket.AF_UNIX)
    try:
        c.connect(path)
        loop_until(base, lambda: accepts.calls)
        os.write(accepts.fds[0], b"unix")
        assert c.recv(10) == b"unix"
    finally:
        c.close()
        lev.free()


def test_bind_address_in_use_raises_and_leaks_nothing(base):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        with pytest.raises(OSError) as info:
            Listener.bind(base, lambda *a: None, None, 0, -1, taken.getsockname())
        assert info.value.errno == errno.EADDRINUSE
    finally:
        taken.close()


# -- accept errors: EMFILE back-off ------------------------------------------------------------

def test_emfile_calls_errorcb_backs_off_and_recovers(base, accepts, clients):
    lev = Listener.bind(base, accepts, "ARG", 0, -1, ("127.0.0.1", 0))
    errors = []
    lev.set_error_cb(lambda lis, arg: errors.append((lis, lis.last_error, arg)))
    c = clients(port_of(lev))  # queued before the fd table fills up
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    fillers = []
    try:
        highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
        resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 1, hard))
        while True:  # fill every hole below the limit: accept() must fail
            try:
                fillers.append(os.dup(0))
            except OSError as exc:
                assert exc.errno == errno.EMFILE
                break
        for _ in range(30):
            base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK)
        assert accepts.calls == []
        assert 1 <= len(errors) <= 3, len(errors)  # backs off: no busy loop
        assert errors[0] == (lev, errno.EMFILE, "ARG")
        assert lev.last_error == errno.EMFILE
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    loop_until(base, lambda: accepts.calls)  # fds available again: accepts
    assert accepts.calls[0][1] == c.getsockname()
    lev.free()


def test_set_error_cb_none(base):
    lev = Listener.bind(base, lambda *a: None, None, 0, -1, ("127.0.0.1", 0))
    lev.set_error_cb(lambda lis, arg: None)
    lev.set_error_cb(None)
    lev.free()


# -- bad input ------------------------------------------------------------------------------

def test_bad_arguments(base):
    cb = lambda *a: None  # noqa: E731
    with pytest.raises(TypeError):
        Listener.bind("not a base", cb, None, 0, -1, ("127.0.0.1", 0))
    with pytest.raises(ValueError):
        Listener.bind(base, cb, None, 1 << 12, -1, ("127.0.0.1", 0))  # unknown flag
    with pytest.raises(ValueError):
        Listener.bind(base, cb, None, -1, -1, ("127.0.0.1", 0))
    with pytest.raises(TypeError):
        Listener.bind(base, cb, None, "0", -1, ("127.0.0.1", 0))
    with pytest.raises(TypeError):
        Listener.bind(base, "cb", None, 0, -1, ("127.0.0.1", 0))
    with pytest.raises(TypeError):
        Listener.bind(base, cb, None, 0, "16", ("127.0.0.1", 0))
    with pytest.raises(TypeError):
        Listener.bind(base, cb, None, 0, -1, 8080)  # not an address
    with pytest.raises(TypeError):
        Listener(base, cb, None, 0, -1, "not a socket")
    with pytest.raises(ValueError):
        Listener(base, cb, None, 0, -1, -1)
    with pytest.raises(OSError):
        Listener(base, cb, None, 0, -1, 999_999)  # not an open fd
    lev = Listener.bind(base, cb, None, 0, -1, ("127.0.0.1", 0))
    try:
        with pytest.raises(TypeError):
            lev.set_cb(42)
        with pytest.raises(TypeError):
            lev.set_error_cb("errorcb")
    finally:
        lev.free()


def test_failed_listen_leaves_the_callers_fd_alone(base):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # listen(): EOPNOTSUPP
    try:
        with pytest.raises(OSError):
            Listener(base, lambda *a: None, None, 0, 5, u.fileno())
        gc.collect()
        assert fd_is_open(u.fileno())
    finally:
        if fd_is_open(u.fileno()):
            u.close()
        else:
            u.detach()  # already closed behind its back: forget it


def test_use_after_free_raises_runtime_error(base):
    lev = Listener.bind(base, lambda *a: None, None, 0, -1, ("127.0.0.1", 0))
    lev.free()
    assert lev.get_fd() == -1
    assert "freed" in repr(lev)
    for call in (lev.enable, lev.disable, lambda: lev.set_cb(None),
                 lambda: lev.set_error_cb(None)):
        with pytest.raises(RuntimeError):
            call()


def test_listener_on_a_freed_base(make_base):
    b = make_base()
    lev = Listener.bind(b, lambda *a: None, None, 0, -1, ("127.0.0.1", 0))
    b.free()
    with pytest.raises(RuntimeError):
        Listener.bind(b, lambda *a: None, None, 0, -1, ("127.0.0.1", 0))
    with pytest.raises(RuntimeError):
        lev.enable()
    lev.free()
