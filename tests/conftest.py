"""Shared fixtures for the whole suite.

* ``backend``: parametrizes a test over every backend evloop has here
  (epoll, poll, select), as libevent's test.sh reruns its suite per method.
* ``base``: an ``EventBase`` on that backend, freed at teardown.
* ``make_base(method=None, **flags)``: factory for extra bases.
* ``pair`` (alias ``sockpair``): a non-blocking socketpair, closed at teardown.
* every test is checked for leaked file descriptors.
"""
import gc
import os
import socket

import pytest

import evloop

BACKENDS = ["epoll", "poll", "select"]


def base_for(method, flags=0):
    """An EventBase forced onto ``method`` the way libevent's tests do it:
    by avoiding every other method."""
    cfg = evloop.EventConfig()
    for m in evloop.supported_methods():
        if m != method:
            cfg.avoid_method(m)
    if flags:
        cfg.set_flag(flags)
    base = evloop.EventBase(cfg)
    assert base.get_method() == method
    return base


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def make_base(backend):
    made = []

    def factory(method=None, flags=0):
        b = base_for(method or backend, flags)
        made.append(b)
        return b

    yield factory
    for b in made:
        b.free()


@pytest.fixture
def base(make_base):
    return make_base()


@pytest.fixture
def pair():
    """A connected AF_UNIX socketpair ``(a, b)``, both ends non-blocking
    (libevent's tests use evutil_socketpair + evutil_make_socket_nonblocking),
    closed at teardown: the one socketpair fixture of the suite."""
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    with a, b:
        yield a, b


@pytest.fixture
def sockpair(pair):
    """``pair`` under the name the buffer tests use."""
    return pair


def _open_fds():
    try:
        return set(os.listdir("/proc/self/fd"))
    except FileNotFoundError:  # pragma: no cover - Linux only
        return set()


@pytest.fixture(autouse=True)
def no_fd_leaks(request):
    """Fail a test that leaves file descriptors open (uvloop's _testbase
    does the same for handles)."""
    if request.node.get_closest_marker("allow_fd_leak"):
        yield
        return
    before = _open_fds()
    yield
    leaked = _open_fds() - before
    if leaked:
        # Only pay for a collection when something looks leaked: objects
        # in reference cycles close their descriptors when collected.
        gc.collect()
        leaked = _open_fds() - before
    # /proc listing itself opens an fd that is gone by now; anything else
    # still open was created by the test and not closed.
    leaked = {fd for fd in leaked if os.path.exists(f"/proc/self/fd/{fd}")}
    if leaked:
        targets = {}
        for fd in leaked:
            try:
                targets[fd] = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                pass
        if targets:
            pytest.fail(f"file descriptors leaked by the test: {targets}")
