"""Calling ``__init__`` again, or never: the objects of the libevent face
that own C state (timer heap slots, evmap entries, fds, token buckets,
cached chunk pointers).

Python lets anyone call ``obj.__init__(...)`` a second time, or make an
object with ``cls.__new__(cls)`` and never initialise it.  Each class
decides (docs/design.md, "Bad input"):

* ``Event.__init__`` is ``assign()``: allowed on an idle event, RuntimeError
  on a pending, active or finalizing one (libevent's event_assign check);
  re-initialising a pending event used to put it in the timer heap twice,
  and after ``delete()`` the heap pointed at freed memory and ``dispatch()``
  never returned;
* ``EventBase``, ``Bufferevent`` (and its pairs and filters), ``Listener``,
  ``RateLimitGroup`` and the immutable ``TokenBucketCfg`` refuse a second
  ``__init__`` with RuntimeError, also after ``free()``;
* ``EvbufferPtr.__init__`` is safe: it forgets the chunk it had cached;
* an object that was never initialised refuses to be used instead of
  reading NULL or garbage.

The scenarios that used to crash or hang run in a subprocess
(helpers.run_isolated), so a regression fails one test.
"""
import socket

import pytest

from evloop import (EV_PERSIST, EV_READ, EV_TIMEOUT, EV_WRITE, EVLOOP_NONBLOCK, EVLOOP_ONCE,
                    Bufferevent, Event)
from helpers import Trace, any_base, run_isolated  # noqa: F401  (fixtures)

PRELUDE = """
import errno, os, signal, socket
import evloop
from evloop import *

def raises(exc, fn, *args, match=None):
    try:
        fn(*args)
    except exc as e:
        if match is not None:
            assert match in str(e), (match, str(e))
        return e
    raise AssertionError(f"{fn!r}{args!r} did not raise {exc.__name__}")

def noop(*args):
    pass

def fds():
    return set(os.listdir("/proc/self/fd"))
"""


# -- Event: __init__ again is assign() ------------------------------------------------

ARM = {
    # how to make the event pending, active or finalizing
    "timer": "ev = Event.timer(base, noop); ev.add(10)",
    "io": "ev = Event(base, a, EV_READ | EV_PERSIST, noop); ev.add()",
    "io+timer": "ev = Event(base, a, EV_READ, noop); ev.add(10)",
    "active": "ev = Event.timer(base, noop); ev.active(EV_TIMEOUT)",
    "common": "ev = Event.timer(base, noop); ev.add(base.init_common_timeout(10))",
    "signal": "ev = Event.signal(base, signal.SIGUSR1, noop); ev.add()",
    "finalizing": "ev = Event.timer(base, noop); ev.finalize(lambda e, arg: None)",
}


@pytest.mark.parametrize("state", sorted(ARM))
def test_event_reinit_refused_while_held(state):
    out = run_isolated(PRELUDE + f"""
base = EventBase()
a, b = socket.socketpair()
{ARM[state]}
before = (ev.get_assignment(), ev.flags, ev.pending())
raises(RuntimeError, ev.__init__, base, -1, 0, noop)
raises(RuntimeError, ev.assign, base, -1, 0, noop)
assert (ev.get_assignment(), ev.flags, ev.pending()) == before
base._validate()
# issue 10's sequence: re-init (refused now), re-add, delete, dispatch
if {state!r} != "finalizing":
    ev.add(0.01)
    base._validate()
    ev.delete()
base._validate()
base.loopexit(0.02)
assert base.dispatch() in (0, 1)
base._validate()
base.free()
a.close(); b.close()
print("ok")
""")
    assert out.split() == ["ok"]


def test_event_reinit_when_idle_is_assign(any_base, pair):
    a, _ = pair
    trace = Trace()
    ev = Event.timer(any_base, trace.cb("old"))
    ev.add(0)
    any_base.loop()
    ev.__init__(any_base, a, EV_WRITE, trace.cb("new"))
    assert ev.get_assignment() == (any_base, a.fileno(), EV_WRITE, ev.callback, None)
    ev.add()
    any_base.loop()
    assert [(name, what) for name, _, what, _ in trace.calls] == [
        ("old", EV_TIMEOUT), ("new", EV_WRITE)]
    any_base._validate()


def test_running_internal_event_cannot_be_reassigned(any_base):
    # A pair's deferred-callback event is idle while it runs (it is not
    # persistent), and get_running_event() hands it out: re-assigning it
    # would hijack the bufferevent.
    a, b = Bufferevent.pair(any_base)
    seen = []

    def readcb(bev, arg):
        ev = any_base.get_running_event()
        with pytest.raises(RuntimeError, match="evloop"):
            ev.assign(any_base, -1, 0, lambda *args: None)
        with pytest.raises(RuntimeError, match="evloop"):
            ev.__init__(any_base, -1, 0, lambda *args: None)
        seen.append(bev.read(100))

    b.setcb(readcb, None, None)
    b.enable(EV_READ)
    a.write(b"one")
    any_base.loop(EVLOOP_NONBLOCK)
    a.write(b"two")
    any_base.loop(EVLOOP_NONBLOCK)
    assert seen == [b"one", b"two"]
    a.free()
    b.free()


def test_foreach_event_cannot_reassign_internal_events(any_base):
    s1, s2 = socket.socketpair()
    with s1, s2:
        got = []
        bev = Bufferevent(any_base, s1.fileno())
        bev.setcb(lambda b, arg: got.append(b.read(10)), None, None)
        bev.enable(EV_READ)
        evs = []
        any_base.foreach_event(lambda base, ev, arg: evs.append(ev))
        assert len(evs) == 1            # the bufferevent's read event
        bev.disable(EV_READ)            # idle now, but still the bufferevent's
        with pytest.raises(RuntimeError, match="evloop"):
            evs[0].assign(any_base, -1, 0, lambda *args: None)
        bev.enable(EV_READ)
        s2.send(b"x")
        any_base.loop(EVLOOP_ONCE)
        assert got == [b"x"]
        bev.free()


# -- EventBase: one __init__ only -----------------------------------------------------

def test_base_reinit_after_free_refused():
    out = run_isolated(PRELUDE + """
before = fds()
b = EventBase()
b.free()
assert fds() == before
raises(RuntimeError, b.__init__)
raises(RuntimeError, b.__init__, EventConfig())
assert b.closed
assert fds() == before, "re-init opened descriptors"
raises(RuntimeError, b.loop, EVLOOP_NONBLOCK)
raises(RuntimeError, Event.timer, b, noop)
print("ok")
""")
    assert out.split() == ["ok"]


def test_base_reinit_while_live_refused():
    out = run_isolated(PRELUDE + """
b = EventBase()
ev = Event.timer(b, noop)
ev.add(10)
open_fds = fds()
raises(RuntimeError, b.__init__)
assert fds() == open_fds
assert not b.closed and ev.pending(EV_TIMEOUT) == EV_TIMEOUT
b._validate()
ev.delete()
assert b.loop() == 1
b.free()
print("ok")
""")
    assert out.split() == ["ok"]


def test_base_never_initialised():
    out = run_isolated(PRELUDE + """
b = EventBase.__new__(EventBase)
assert b.closed
assert "freed" in repr(b) or "not initialised" in repr(b)
raises(RuntimeError, b.get_method)
raises(RuntimeError, b.get_features)
raises(RuntimeError, lambda: b.method)
raises(RuntimeError, b.loop)
raises(RuntimeError, b.dispatch)
raises(RuntimeError, b.reinit)
raises(RuntimeError, Event.timer, b, noop)
raises(RuntimeError, Bufferevent, b)
b.free()
b._validate()
# a base whose first __init__ failed before it owned anything may be
# initialised again; one that works refuses a third
before = fds()
cfg = EventConfig()
for m in supported_methods():
    cfg.avoid_method(m)
b = EventBase.__new__(EventBase)
raises(OSError, b.__init__, cfg)
assert b.closed and fds() == before
b.__init__()
raises(RuntimeError, b.__init__)
ev = Event.timer(b, lambda *args: b.loopbreak())
ev.add(0)
assert b.loop() == 0
b.free()
assert fds() == before
print("ok")
""")
    assert out.split() == ["ok"]


# -- Bufferevent, Listener: one __init__ only -----------------------------------------

def test_bufferevent_reinit_refused():
    out = run_isolated(PRELUDE + """
base = EventBase()
a, b = socket.socketpair()
c, d = socket.socketpair()
a.setblocking(False)
got = []
bev = Bufferevent(base, a.fileno())
bev.setcb(lambda bev, arg: got.append(bev.read(100)), None, None)
bev.enable(EV_READ)
raises(RuntimeError, bev.__init__, base, c.fileno(), BEV_OPT_CLOSE_ON_FREE)
raises(RuntimeError, bev.__init__, base)
assert bev.getfd() == a.fileno()
base._validate()
b.send(b"still mine")
base.loop(EVLOOP_ONCE)
assert got == [b"still mine"], got
bev.free()
raises(RuntimeError, bev.__init__, base, c.fileno())
base._validate()
p, q = Bufferevent.pair(base)
raises(RuntimeError, p.__init__, base, c.fileno())
f = Bufferevent.filter(p, None, None)
raises(RuntimeError, f.__init__, base, c.fileno())
f.free(); p.free(); q.free()
os.fstat(c.fileno())          # never taken over, never closed
base.free()
for s in (a, b, c, d):
    s.close()
print("ok")
""")
    assert out.split() == ["ok"]


def test_bufferevent_never_initialised():
    out = run_isolated(PRELUDE + """
for cls in (Bufferevent, type(Bufferevent.filter(Bufferevent.pair(EventBase())[0], None, None))):
    bev = cls.__new__(cls)
    raises(RuntimeError, bev.get_priority)
    raises(RuntimeError, bev.priority_set, 0)
    raises(RuntimeError, bev.enable, EV_READ)
    raises(RuntimeError, bev.write, b"x")
    raises(RuntimeError, bev.set_timeouts, 1, 1)
    raises(RuntimeError, bev.set_rate_limit, None)
    assert bev.getfd() == -1 and bev.get_underlying() is None
    repr(bev)
    bev.free()
print("ok")
""")
    assert out.split() == ["ok"]


def test_listener_reinit_refused():
    out = run_isolated(PRELUDE + """
base = EventBase()
accepted = []
def cb(lev, fd, addr, arg):
    accepted.append(fd)
    os.close(fd)
    base.loopbreak()
lev = Listener.bind(base, cb, None, LEV_OPT_REUSEABLE, -1, ("127.0.0.1", 0))
port = socket.socket(fileno=os.dup(lev.get_fd()))
addr = port.getsockname()
port.close()
other = socket.socket()
other.bind(("127.0.0.1", 0))
raises(RuntimeError, lev.__init__, base, cb, None, 0, -1, other)
raises(RuntimeError, lev.__init__, base, None, None, 0, 0, lev.get_fd())
base._validate()
c = socket.create_connection(addr)
base.dispatch()
assert len(accepted) == 1
c.close()
lev.free()
raises(RuntimeError, lev.__init__, base, cb, None, 0, -1, other)
other.close()
l2 = Listener.__new__(Listener)
raises(RuntimeError, l2.enable)
l2.free()
base.free()
print("ok")
""")
    assert out.split() == ["ok"]


# -- rate limits ------------------------------------------------------------------------

def test_rate_limit_objects_reinit_refused():
    out = run_isolated(PRELUDE + """
base = EventBase()
cfg = TokenBucketCfg(10, 20, 30, 40, 0.5)
raises(RuntimeError, cfg.__init__, 1, 1, 1, 1)
assert (cfg.read_rate, cfg.read_burst, cfg.write_rate, cfg.write_burst, cfg.tick_len) == \\
    (10, 20, 30, 40, 0.5)
g = RateLimitGroup(base, cfg)
a, b = socket.socketpair()
bev = Bufferevent(base, a.fileno())
g.add(bev)
raises(RuntimeError, g.__init__, base, cfg)
assert g.get_members() == [bev]
g.remove(bev)
bev.free()
g.free()
raises(RuntimeError, g.__init__, base, cfg)
base._validate()
base.free()
a.close(); b.close()
print("ok")
""")
    assert out.split() == ["ok"]


def test_rate_limit_objects_never_initialised():
    # A TokenBucketCfg that was never initialised has a 0 ms tick: using it
    # divided by zero (SIGFPE).
    out = run_isolated(PRELUDE + """
base = EventBase()
bad = TokenBucketCfg.__new__(TokenBucketCfg)
repr(bad)
raises(ValueError, RateLimitGroup, base, bad, match="cfg")
a, b = socket.socketpair()
bev = Bufferevent(base, a.fileno())
raises(ValueError, bev.set_rate_limit, bad, match="cfg")
g = RateLimitGroup(base, TokenBucketCfg(10, 10, 10, 10))
raises(ValueError, g.set_cfg, bad, match="cfg")
g.free()
bev.free()
g2 = RateLimitGroup.__new__(RateLimitGroup)
repr(g2)
raises(RuntimeError, g2.set_min_share, 3)
raises(RuntimeError, g2.add, Bufferevent(base))
raises(RuntimeError, g2.set_cfg, TokenBucketCfg(1, 1, 1, 1))
raises(RuntimeError, g2.decrement_read, 1)
g2.free()
base.free()
a.close(); b.close()
print("ok")
""")
    assert out.split() == ["ok"]


# -- buffer pointers, common timeouts --------------------------------------------------

def test_evbuffer_ptr_reinit_forgets_its_chunk():
    # The pointer cached the chunk of its old position; __init__ moved the
    # position only, and copyout_from() read past the chain (SIGSEGV).
    out = run_isolated(PRELUDE + """
buf = Evbuffer()
for i in range(5):
    buf.add(bytes([65 + i]) * 3000)       # five referenced chunks
p = buf.search(b"E")
assert p.pos == 12000
p.__init__(0)
assert p.pos == 0
data = buf.copyout_from(p, 15000)
assert data == b"".join(bytes([65 + i]) * 3000 for i in range(5))
p.__init__(3001)
assert buf.copyout_from(p, 2) == b"BB"
p.__init__()
raises(ValueError, buf.copyout_from, p, 1)
buf._validate()
print("ok")
""")
    assert out.split() == ["ok"]


def test_common_timeout_not_made_by_a_base(any_base):
    from evloop import CommonTimeout
    tok = CommonTimeout.__new__(CommonTimeout)
    ev = Event.timer(any_base, lambda *args: None)
    with pytest.raises(ValueError, match="timeout"):
        ev.add(tok)
    with pytest.raises(ValueError, match="timeout"):
        any_base.once(-1, EV_TIMEOUT, lambda *args: None, None, tok)
    assert ev.pending() == 0
    assert any_base.loop() == 1


def test_persist_event_reinit_keeps_base_consistent(any_base, pair):
    # Re-init of an idle persistent event that has run: its interval and
    # common-timeout token are forgotten, as event_assign forgets them.
    a, _ = pair
    trace = Trace()
    ev = Event(any_base, a, EV_WRITE | EV_PERSIST, trace.cb("w", lambda *x: ev.delete()))
    ev.add(5)
    any_base.loop()
    ev.__init__(any_base, -1, 0, trace.cb("t"))
    ev.add(0)
    any_base.loop()
    assert trace.names == ["w", "t"]
    assert ev.pending() == 0
    any_base._validate()
