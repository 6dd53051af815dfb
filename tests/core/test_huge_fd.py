"""Huge fd numbers (issue 10, item 14).

The evmap is a table indexed by fd.  ``Event.add()`` on an fd >= 2**30 used
to spin forever in C (the int doubling of the table size overflowed), and a
never-opened fd of 5,000,000 grew the process by 192 MB (20,000,000: 768 MB)
before the backend said EBADF.  Now an fd beyond the table must be open
before the table grows for it; otherwise add() raises OSError(EBADF), and
evloop.compat's event_add returns -1.

Every scenario runs in a subprocess with a timeout (a regression spins or
eats memory), and the memory check is the peak RSS (ru_maxrss), not a time.
"""
import os
import resource
import socket

import pytest

from evloop import EV_WRITE, EVLOOP_ONCE, Event
from helpers import Trace, guard, run_isolated

SOFT, HARD = resource.getrlimit(resource.RLIMIT_NOFILE)
HUGE_FDS = [2**30, 2**30 + 1, 2**31 - 1, 5_000_000, 20_000_000]
if HARD != resource.RLIM_INFINITY and HARD < 2**31 - 1:
    HUGE_FDS += [HARD, HARD + 1]

SCENARIO = """
import errno, os, resource, sys
import evloop
from evloop import *

def peak_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

cfg = EventConfig()
for m in supported_methods():
    if m != {backend!r}:
        cfg.avoid_method(m)
base = EventBase(cfg)
assert base.get_method() == {backend!r}
start = peak_kb()
for fd in {fds!r}:
    for how in ("add", "add+timeout", "once", "bufferevent"):
        try:
            if how == "add":
                ev = Event(base, fd, EV_READ, lambda *a: None)
                ev.add()
            elif how == "add+timeout":
                ev = Event(base, fd, EV_READ | EV_WRITE, lambda *a: None)
                ev.add(5)
            elif how == "once":
                base.once(fd, EV_READ, lambda *a: None)
            else:
                bev = Bufferevent(base, fd)
                try:
                    bev.enable(EV_READ)
                finally:
                    bev.free()
        except OSError as exc:
            assert exc.errno == errno.EBADF, (fd, how, exc)
        else:
            raise AssertionError(f"{{how}} on fd {{fd}} did not raise")
        if how.startswith("add"):
            assert ev.pending() == 0
    base._validate()
grown_mb = (peak_kb() - start) / 1024
assert grown_mb < 16, f"the process grew by {{grown_mb:.0f}} MB"
assert base.loop() == 1          # nothing was left registered
base.free()
print("ok")
"""


@pytest.mark.parametrize("backend", ["epoll", "poll", "select"])
def test_huge_fd_is_ebadf(backend):
    out = run_isolated(SCENARIO.format(backend=backend, fds=HUGE_FDS), timeout=60)
    assert out.split() == ["ok"]


def test_huge_fd_in_compat_is_minus_one():
    out = run_isolated("""
import logging, resource
logging.disable(logging.WARNING)          # compat logs each failure
from evloop.compat import *
base = event_base_new()
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for fd in %r:
    ev = event_new(base, fd, EV_READ, lambda *a: None, None)
    assert ev is not None
    assert event_add(ev, None) == -1
    assert event_add(ev, (1, 0)) == -1
    assert event_pending(ev, EV_READ | EV_TIMEOUT, None) == 0
    assert event_base_once(base, fd, EV_READ, lambda *a: None, None, None) == -1
    event_free(ev)
assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start) < 16 * 1024
assert event_base_loop(base, EVLOOP_NONBLOCK) == 1
event_base_free(base)
print("ok")
""" % (HUGE_FDS,), timeout=60)
    assert out.split() == ["ok"]


@pytest.mark.parametrize("backend", ["epoll", "poll"])
def test_open_fd_near_the_limit_still_works(make_base, backend):
    # The check must not refuse a real fd just because it is high: one
    # below the soft limit (the highest the process can open) works.
    target = SOFT - 1
    if target < 1024 or target > 1_000_000:
        pytest.skip(f"RLIMIT_NOFILE soft limit {SOFT} is not a usable test value")
    base = make_base()
    a, b = socket.socketpair()
    with a, b:
        os.dup2(a.fileno(), target)
        try:
            trace = Trace()
            ev = Event(base, target, EV_WRITE, trace.cb("w"))
            ev.add()
            base._validate()
            g = guard(base)
            base.loop(EVLOOP_ONCE)
            g.delete()
            assert trace.calls[0][:3] == ("w", target, EV_WRITE)
        finally:
            os.close(target)
