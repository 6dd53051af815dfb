"""Bad input: wrong types, unknown flag bits, invalid timeouts and fds the
backend refuses.  The object API raises TypeError/ValueError naming the
argument, OSError with errno for system refusals (DESIGN.md "Errors and bad
input"; the stub's conventions).

libevent itself returns -1 (event_assign with EV_SIGNAL|EV_READ,
event_base_once with EV_PERSIST, epoll_ctl EPERM on a regular file,
select's FD_SETSIZE); these tests pin the Python mapping of each.
"""
import errno
import os
import resource
import signal
import socket

import pytest

import evloop
from evloop import (
    EV_PERSIST,
    EV_READ,
    EV_SIGNAL,
    EV_TIMEOUT,
    EV_WRITE,
    EVLOOP_ONCE,
    Event,
    EventBase,
    EventConfig,
)
from helpers import Trace, any_base, guard, nb_socketpair  # noqa: F401  (fixtures)


def noop(fd, what, arg):
    pass


# -- Event() arguments ---------------------------------------------------------------

@pytest.mark.parametrize("fd", ["x", 1.5, None, b"3", object()])
def test_event_fd_wrong_type(any_base, fd):
    with pytest.raises(TypeError, match="fd"):
        Event(any_base, fd, EV_READ, noop)


def test_event_fd_object_without_int_fileno(any_base):
    class Bad:
        def fileno(self):
            return "nope"

    with pytest.raises(TypeError, match="fd|fileno"):
        Event(any_base, Bad(), EV_READ, noop)


def test_event_negative_fd(any_base):
    with pytest.raises(ValueError, match="fd"):
        Event(any_base, -5, EV_READ, noop).add()


@pytest.mark.parametrize("what", ["r", 1.0, None])
def test_event_what_wrong_type(any_base, what):
    with pytest.raises(TypeError, match="what"):
        Event(any_base, -1, what, noop)


@pytest.mark.parametrize("what", [0x100, 0x200 | EV_READ, -1])
def test_event_what_unknown_bits(any_base, what):
    with pytest.raises(ValueError, match="what"):
        Event(any_base, -1, what, noop)


@pytest.mark.parametrize("cb", [42, "cb", None])
def test_event_callback_not_callable(any_base, cb):
    with pytest.raises(TypeError, match="callback"):
        Event(any_base, -1, 0, cb)


@pytest.mark.parametrize("base_arg", [None, "base", 0])
def test_event_base_wrong_type(base_arg):
    with pytest.raises(TypeError, match="base"):
        Event(base_arg, -1, 0, noop)


@pytest.mark.parametrize("extra", [EV_READ, EV_WRITE, evloop.EV_CLOSED])
def test_signal_with_io_flags(any_base, extra):
    with pytest.raises(ValueError):
        Event(any_base, signal.SIGUSR1, EV_SIGNAL | extra, noop)


def test_assign_validates_like_new(any_base):
    ev = Event.timer(any_base, noop)
    with pytest.raises(ValueError):
        ev.assign(any_base, signal.SIGUSR1, EV_SIGNAL | EV_READ, noop)
    with pytest.raises(TypeError, match="callback"):
        ev.assign(any_base, -1, 0, 3)
    with pytest.raises(TypeError, match="fd"):
        ev.assign(any_base, "x", EV_READ, noop)
    # the failed assigns left the event usable as it was
    assert ev.get_assignment() == (any_base, -1, 0, noop, None)


@pytest.mark.parametrize("signum", [0, -1, 10000])
def test_signal_number_out_of_range(any_base, signum):
    with pytest.raises(ValueError):
        Event.signal(any_base, signum, noop).add()


def test_timer_and_signal_constructor_types(any_base):
    with pytest.raises(TypeError, match="callback"):
        Event.timer(any_base, "nope")
    with pytest.raises(TypeError):
        Event.signal(any_base, "SIGUSR1", noop)


# -- timeouts --------------------------------------------------------------------

@pytest.mark.parametrize("tv", ["x", b"1", [1, 0], object(), (1, "x")])
def test_timeout_wrong_type(any_base, tv):
    ev = Event.timer(any_base, noop)
    with pytest.raises(TypeError, match="timeout"):
        ev.add(tv)
    assert ev.pending(EV_TIMEOUT) == 0


@pytest.mark.parametrize("tv", [-1, -0.001, (-1, 0), (0, -1), (0, 1_000_000), (1, 2_000_000)])
def test_timeout_invalid_value(any_base, tv):
    ev = Event.timer(any_base, noop)
    with pytest.raises(ValueError, match="timeout"):
        ev.add(tv)
    assert ev.pending(EV_TIMEOUT) == 0


@pytest.mark.parametrize("tv", [(0, 999_999), (0, 0), 0, 0.0])
def test_timeout_edge_values_accepted(any_base, tv):
    ev = Event.timer(any_base, noop)
    ev.add(tv)
    assert ev.pending(EV_TIMEOUT) == EV_TIMEOUT
    ev.delete()


@pytest.mark.parametrize("tv", ["x", -1, (0, 1_000_000)])
def test_timeout_checked_everywhere(any_base, tv):
    exc = TypeError if isinstance(tv, str) else ValueError
    with pytest.raises(exc, match="timeout"):
        any_base.once(-1, EV_TIMEOUT, noop, None, tv)
    with pytest.raises(exc):
        any_base.loopexit(tv)
    with pytest.raises(exc):
        any_base.init_common_timeout(tv)
    assert any_base.loop() == 1  # nothing was registered by the failures


# -- fds the backend refuses ---------------------------------------------------------

def _closed_fd():
    r, w = os.pipe()
    os.close(w)
    os.close(r)
    with pytest.raises(OSError):
        os.fstat(r)
    return r


def test_closed_fd_on_add(base):
    fd = _closed_fd()
    ev = Event(base, fd, EV_READ, noop)
    with pytest.raises(OSError) as info:
        ev.add()
    assert info.value.errno == errno.EBADF
    assert ev.pending(EV_READ) == 0
    assert base.loop() == 1


def test_closed_fd_on_once(base):
    fd = _closed_fd()
    with pytest.raises(OSError) as info:
        base.once(fd, EV_READ, noop)
    assert info.value.errno == errno.EBADF


def test_regular_file_on_epoll(base, backend, tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"data")
    with open(path, "rb") as f:
        trace = Trace()
        ev = Event(base, f, EV_READ, trace.cb("r"))
        if backend == "epoll":
            # epoll_ctl refuses regular files: no EV_FEATURE_FDS
            with pytest.raises(OSError) as info:
                ev.add()
            assert info.value.errno == errno.EPERM
            assert ev.pending(EV_READ) == 0
        else:
            # poll and select watch any fd: a regular file is always ready
            ev.add()
            base.loop()
            assert trace.whats == [EV_READ]


def _high_fd(target=1100):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft <= target:
        pytest.skip(f"RLIMIT_NOFILE {soft} too low for an fd >= 1024")
    return target


def test_fd_over_fd_setsize(base, backend):
    target = _high_fd()
    a, b = nb_socketpair()
    with a, b:
        os.dup2(a.fileno(), target)
        try:
            trace = Trace()
            ev = Event(base, target, EV_WRITE, trace.cb("w"))
            if backend == "select":
                with pytest.raises(ValueError, match="fd"):
                    ev.add()
                assert ev.pending(EV_WRITE) == 0
            else:
                ev.add()
                g = guard(base)
                base.loop(EVLOOP_ONCE)
                g.delete()
                assert trace.calls[0][:3] == ("w", target, EV_WRITE)
        finally:
            os.close(target)


def test_add_after_fd_refused_can_be_reassigned(base, pair):
    a, _ = pair
    fd = _closed_fd()
    ev = Event(base, fd, EV_READ, noop)
    with pytest.raises(OSError):
        ev.add()
    trace = Trace()
    ev.assign(base, a, EV_WRITE, trace.cb("w"))
    ev.add()
    base.loop()
    assert trace.whats == [EV_WRITE]


# -- once(), loop(), base methods ---------------------------------------------------------

def test_once_argument_types(any_base):
    with pytest.raises(TypeError, match="fd"):
        any_base.once("x", EV_READ, noop)
    with pytest.raises(TypeError, match="what"):
        any_base.once(-1, "r", noop)
    with pytest.raises(TypeError, match="callback"):
        any_base.once(-1, EV_TIMEOUT, 5)
    with pytest.raises(ValueError, match="what"):
        any_base.once(-1, 0x1000, noop)
    with pytest.raises(ValueError):
        any_base.once(-1, EV_TIMEOUT | EV_PERSIST, noop)
    assert any_base.loop() == 1


def test_loop_flags_wrong_type(any_base):
    with pytest.raises(TypeError, match="flags"):
        any_base.loop("once")


def test_priority_arguments_wrong_type(any_base):
    with pytest.raises(TypeError):
        any_base.priority_init("3")
    ev = Event.timer(any_base, noop)
    with pytest.raises(TypeError):
        ev.priority_set("0")


def test_active_res_wrong_type(any_base):
    ev = Event.timer(any_base, noop)
    with pytest.raises(TypeError, match="res"):
        ev.active("r")
    assert ev.pending(EV_TIMEOUT | EV_READ) == 0


def test_active_by_fd_wrong_types(any_base):
    with pytest.raises(TypeError, match="fd"):
        any_base.active_by_fd("x", EV_READ)
    with pytest.raises(TypeError, match="events"):
        any_base.active_by_fd(0, "r")


def test_active_by_signal_wrong_type(any_base):
    with pytest.raises(TypeError, match="sig"):
        any_base.active_by_signal("SIGUSR1")


def test_handlers_must_be_callable(any_base):
    with pytest.raises(TypeError):
        any_base.set_exception_handler(42)
    with pytest.raises(TypeError):
        any_base.foreach_event(42)
    ev = Event.timer(any_base, noop)
    with pytest.raises(TypeError):
        ev.finalize(42)
    ev.add(10)
    assert ev.pending(EV_TIMEOUT) == EV_TIMEOUT  # the failed finalize did nothing
    ev.delete()


def test_get_num_events_wrong_type(any_base):
    with pytest.raises(TypeError):
        any_base.get_num_events("added")


def test_dump_events_to_non_file(any_base):
    with pytest.raises((TypeError, AttributeError)):
        any_base.dump_events(42)


# -- EventConfig / EventBase ------------------------------------------------------------

def test_config_types():
    cfg = EventConfig()
    with pytest.raises(TypeError):
        cfg.avoid_method(1)
    with pytest.raises(TypeError):
        cfg.require_features("et")
    with pytest.raises(TypeError):
        cfg.set_flag("nolock")


@pytest.mark.parametrize("bits", [0x10, 0x100, -1])
def test_config_unknown_feature_bits(bits):
    with pytest.raises(ValueError):
        EventConfig().require_features(bits)


@pytest.mark.parametrize("bits", [0x100, 0x1000, -1])
def test_config_unknown_flag_bits(bits):
    with pytest.raises(ValueError):
        EventConfig().set_flag(bits)


def test_base_config_wrong_type():
    with pytest.raises(TypeError, match="config"):
        EventBase("epoll")


def test_nothing_leaked_by_failures(any_base):
    # after all the refusals above, a plain round trip still works
    trace = Trace()
    Event.timer(any_base, trace.cb("t")).add(0)
    assert any_base.loop() == 1
    assert trace.names == ["t"]


# -- huge ints, bools, NaN: every argument by name (issue 10) ---------------------
#
# Each entry: (argument name, call(ctx, value), what +2**64 and -2**64 must
# do: "E" ValueError naming the argument, "ok" accepted (the value clamps or
# means "no limit", as documented).  Nothing may raise a bare OverflowError
# (C conversion) or MemoryError, and a bool is never taken for an int.

class Ctx:
    def __init__(self, base, sock):
        self.base = base
        self.ev = Event.timer(base, noop)
        self.sev = Event(base, sock, EV_READ, noop)
        self.bev = evloop.Bufferevent(base, sock.fileno())
        self.bev.set_rate_limit(evloop.TokenBucketCfg(10, 10, 10, 10))
        self.pa, self.pb = evloop.Bufferevent.pair(base)
        self.group = evloop.RateLimitGroup(base, evloop.TokenBucketCfg(10, 10, 10, 10))
        self.buf = evloop.Evbuffer()
        self.buf.add(b"line\nmore")
        self.sock = sock

    def close(self):
        for obj in (self.bev, self.pa, self.pb, self.group, self.ev, self.sev):
            obj.free()


def _listener(ctx, flags=0, backlog=0):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        evloop.Listener(ctx.base, None, None, flags, backlog, s).free()
    finally:
        s.close()


INT_ARGS = [
    ("fd", lambda c, v: Event(c.base, v, EV_READ, noop), "E", "E"),
    ("what", lambda c, v: Event(c.base, -1, v, noop), "E", "E"),
    ("signum", lambda c, v: Event.signal(c.base, v, noop), "E", "E"),
    ("timeout", lambda c, v: c.ev.add(v), "ok", "E"),
    ("timeout", lambda c, v: c.ev.add((v, 0)), "ok", "E"),
    ("res", lambda c, v: c.ev.active(v), "E", "E"),
    ("ncalls", lambda c, v: c.ev.active(EV_TIMEOUT, v), "E", "E"),
    ("what", lambda c, v: c.ev.pending(v), "E", "E"),
    ("priority", lambda c, v: c.ev.priority_set(v), "E", "E"),
    ("flags", lambda c, v: c.base.loop(v), "E", "E"),
    ("npriorities", lambda c, v: c.base.priority_init(v), "E", "E"),
    ("fd", lambda c, v: c.base.once(v, EV_READ, noop), "E", "E"),
    ("timeout", lambda c, v: c.base.loopexit(v), "ok", "E"),
    ("duration", lambda c, v: c.base.init_common_timeout(v), "ok", "E"),
    ("flags", lambda c, v: c.base.get_num_events(v), "E", "E"),
    ("flags", lambda c, v: c.base.get_max_events(v), "E", "E"),
    ("fd", lambda c, v: c.base.active_by_fd(v, EV_READ), "E", "E"),
    ("events", lambda c, v: c.base.active_by_fd(0, v), "E", "E"),
    ("sig", lambda c, v: c.base.active_by_signal(v), "E", "E"),
    ("features", lambda c, v: EventConfig().require_features(v), "E", "E"),
    ("flag", lambda c, v: EventConfig().set_flag(v), "E", "E"),
    ("max_interval", lambda c, v: EventConfig().set_max_dispatch_interval(v, -1, 0), "ok", "E"),
    ("max_callbacks", lambda c, v: EventConfig().set_max_dispatch_interval(None, v, 0),
     "E", "ok"),
    ("min_priority", lambda c, v: EventConfig().set_max_dispatch_interval(None, -1, v),
     "E", "ok"),
    ("fd", lambda c, v: evloop.Bufferevent(c.base, v), "E", "E"),
    ("options", lambda c, v: evloop.Bufferevent(c.base, -1, v), "E", "E"),
    ("options", lambda c, v: evloop.Bufferevent.pair(c.base, v), "E", "E"),
    ("iotype", lambda c, v: c.bev.trigger(v), "E", "E"),
    ("options", lambda c, v: c.bev.trigger(EV_READ, v), "E", "E"),
    ("what", lambda c, v: c.bev.trigger_event(v), "E", "E"),
    ("options", lambda c, v: c.bev.trigger_event(evloop.BEV_EVENT_EOF, v), "E", "E"),
    ("what", lambda c, v: c.bev.enable(v), "E", "E"),
    ("what", lambda c, v: c.bev.disable(v), "E", "E"),
    ("events", lambda c, v: c.bev.setwatermark(v, 0, 0), "E", "E"),
    ("lowmark", lambda c, v: c.bev.setwatermark(EV_WRITE, v, 0), "ok", "E"),
    ("highmark", lambda c, v: c.bev.setwatermark(EV_WRITE, 0, v), "ok", "E"),
    ("events", lambda c, v: c.bev.getwatermark(v), "E", "E"),
    ("timeout_read", lambda c, v: c.bev.set_timeouts(v, None), "ok", "E"),
    ("timeout_write", lambda c, v: c.bev.set_timeouts(None, v), "ok", "E"),
    ("size", lambda c, v: c.bev.read(v), "ok", "E"),
    ("iotype", lambda c, v: c.pa.flush(v, evloop.BEV_FLUSH), "E", "E"),
    ("mode", lambda c, v: c.pa.flush(EV_WRITE, v), "E", "E"),
    ("priority", lambda c, v: c.bev.priority_set(v), "E", "E"),
    ("size", lambda c, v: c.bev.set_max_single_read(v), "ok", "ok"),
    ("size", lambda c, v: c.bev.set_max_single_write(v), "ok", "ok"),
    ("decr", lambda c, v: c.bev.decrement_read_limit(v), "E", "E"),
    ("decr", lambda c, v: c.bev.decrement_write_limit(v), "E", "E"),
    ("port", lambda c, v: c.bev.socket_connect_hostname(socket.AF_INET, "localhost", v),
     "E", "E"),
    ("read_rate", lambda c, v: evloop.TokenBucketCfg(v, 10, 10, 10), "E", "E"),
    ("write_burst", lambda c, v: evloop.TokenBucketCfg(10, 10, 10, v), "E", "E"),
    ("tick_len", lambda c, v: evloop.TokenBucketCfg(10, 10, 10, 10, v), "ok", "E"),
    ("share", lambda c, v: c.group.set_min_share(v), "E", "E"),
    ("decr", lambda c, v: c.group.decrement_read(v), "E", "E"),
    ("decr", lambda c, v: c.group.decrement_write(v), "E", "E"),
    ("flags", lambda c, v: _listener(c, flags=v), "E", "E"),
    ("backlog", lambda c, v: _listener(c, backlog=v), "E", "ok"),
    ("n", lambda c, v: c.buf.copyout(v), "ok", "E"),
    ("n", lambda c, v: c.buf.pullup(v), "ok", "E"),
    ("n", lambda c, v: c.buf.set_max_read(v), "E", "E"),
    ("style", lambda c, v: c.buf.readln(v), "E", "E"),
    ("howmuch", lambda c, v: c.buf.read(c.sock, v), "ok", "E"),
    ("pos", lambda c, v: evloop.EvbufferPtr(v), "ok", "E"),
]
INT_IDS = [f"{i}-{name}" for i, (name, *_) in enumerate(INT_ARGS)]


@pytest.fixture
def ctx(any_base, pair):
    a, b = pair
    b.send(b"x" * 10)              # so that reads on a do not block
    c = Ctx(any_base, a)
    yield c
    c.close()


def _outcome(call, ctx, value, argname):
    """None if the call was accepted, else the (TypeError/ValueError) it
    raised, which must name the argument."""
    try:
        call(ctx, value)
    except (TypeError, ValueError) as exc:
        if type(exc) is OverflowError or argname not in str(exc):
            pytest.fail(f"{argname}={value!r}: {type(exc).__name__}({exc}) does not name "
                        f"the argument")
        return exc
    except (OSError, RuntimeError):
        return None            # got past the argument checks
    except BaseException as exc:
        pytest.fail(f"{argname}={value!r}: {type(exc).__name__}({exc})")
    return None


@pytest.mark.parametrize("argname, call, big, small", INT_ARGS, ids=INT_IDS)
def test_huge_ints_named(ctx, argname, call, big, small):
    for value, want in ((2**64, big), (-2**64, small)):
        exc = _outcome(call, ctx, value, argname)
        if want == "E":
            assert isinstance(exc, ValueError), f"{argname}={value!r} was accepted"
        else:
            assert exc is None, f"{argname}={value!r}: {exc!r}"
    ctx.ev.delete()


@pytest.mark.parametrize("argname, call, big, small", INT_ARGS, ids=INT_IDS)
def test_bools_are_not_ints(ctx, argname, call, big, small):
    exc = _outcome(call, ctx, True, argname)
    assert isinstance(exc, TypeError), f"{argname}=True: {exc!r}"
    ctx.ev.delete()


def test_trigger_event_unknown_bits(any_base):
    a, b = evloop.Bufferevent.pair(any_base)
    seen = []
    a.setcb(None, None, lambda bev, what, arg: seen.append(what))
    for what in (-1, 0x100, 0x8000):
        with pytest.raises(ValueError, match="what"):
            a.trigger_event(what)
    a.trigger_event(evloop.BEV_EVENT_EOF | evloop.BEV_EVENT_READING)
    any_base.loop(evloop.EVLOOP_NONBLOCK)
    assert seen == [evloop.BEV_EVENT_EOF | evloop.BEV_EVENT_READING]
    a.free()
    b.free()


def test_decrement_saturates_instead_of_wrapping(any_base, pair):
    # A bucket pushed past the ssize_t range by decrements stays empty (it
    # used to wrap to a huge positive value and unsuspend the bufferevent).
    a, _ = pair
    bev = evloop.Bufferevent(any_base, a.fileno())
    bev.set_rate_limit(evloop.TokenBucketCfg(10, 10, 10, 10, 100.0))
    big = 2**63 - 1
    for _ in range(4):
        bev.decrement_read_limit(big)
    assert bev.get_read_limit() < 0
    bev.decrement_read_limit(-1)
    assert bev.get_read_limit() < 0
    for _ in range(4):
        bev.decrement_write_limit(-big)
    assert bev.get_write_limit() > 0
    bev.free()


# -- NaN and infinite timeouts -------------------------------------------------------

def _bev_timeouts(base, value, which):
    bev, other = evloop.Bufferevent.pair(base)
    try:
        if which == "read":
            bev.set_timeouts(value, None)
        else:
            bev.set_timeouts(None, value)
    finally:
        bev.free()
        other.free()


TIMEOUT_APIS = [
    ("timeout", lambda b, v: Event.timer(b, noop).add(v)),
    ("timeout", lambda b, v: b.once(-1, EV_TIMEOUT, noop, None, v)),
    ("timeout", lambda b, v: b.loopexit(v)),
    ("duration", lambda b, v: b.init_common_timeout(v)),
    ("max_interval", lambda b, v: EventConfig().set_max_dispatch_interval(v, -1, 0)),
    ("timeout_read", lambda b, v: _bev_timeouts(b, v, "read")),
    ("timeout_write", lambda b, v: _bev_timeouts(b, v, "write")),
    ("tick_len", lambda b, v: evloop.TokenBucketCfg(10, 10, 10, 10, v)),
]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")],
                         ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("argname, call", TIMEOUT_APIS,
                         ids=[f"{i}-{n}" for i, (n, _) in enumerate(TIMEOUT_APIS)])
def test_non_finite_timeouts_refused(any_base, argname, call, value):
    # A NaN deadline became INT64_MIN and the backend wait wrapped; an
    # infinite one is spelled None here.
    with pytest.raises(ValueError, match=argname):
        call(any_base, value)
    assert any_base.loop(evloop.EVLOOP_NONBLOCK) == 1   # nothing got registered
    any_base._validate()


def test_huge_finite_timeout_clamps(any_base):
    ev = Event.timer(any_base, noop)
    ev.add(1e300)
    flags, when = ev.pending(EV_TIMEOUT, want_tv=True)
    assert flags == EV_TIMEOUT and when > 50 * 365 * 86400
    ev.delete()


# -- a finalizer that raises while the base is freed ------------------------------------

def _raising_finalizer(seen, exc):
    def fin(ev, arg):
        seen.append(ev)
        raise exc
    return fin


def test_free_raises_a_finalizers_exception():
    seen = []
    base = EventBase()
    ev = Event.timer(base, noop)
    ev.finalize(_raising_finalizer(seen, ZeroDivisionError("fin")))
    with pytest.raises(ZeroDivisionError, match="fin"):
        base.free()
    assert seen == [ev]
    assert base.closed         # the teardown completed; no descriptor left open
    base.free()                # and it is not raised twice


def test_free_runs_every_finalizer_when_one_raises():
    seen = []
    base = EventBase()
    evs = [Event.timer(base, noop) for _ in range(3)]
    evs[0].finalize(_raising_finalizer(seen, KeyError("first")))
    evs[1].finalize(lambda ev, arg: seen.append(ev))
    evs[2].finalize(_raising_finalizer(seen, KeyError("other")))
    with pytest.raises(KeyError):
        base.free()
    assert sorted(map(id, seen)) == sorted(map(id, evs))
    assert base.closed


def test_free_sends_a_finalizers_exception_to_the_handler():
    seen = []
    handled = []
    base = EventBase()
    base.set_exception_handler(lambda b, ev, exc: handled.append((b, ev, exc)))
    ev = Event.timer(base, noop)
    err = ValueError("fin")
    ev.finalize(_raising_finalizer(seen, err))
    base.free()
    assert handled == [(base, ev, err)]


def test_free_from_a_callback_raises_from_loop():
    base = EventBase()
    seen = []
    fin_ev = Event.timer(base, noop)

    def free_it(fd, what, arg):
        # pending when free() is called: the teardown at loop exit runs it
        fin_ev.finalize(_raising_finalizer(seen, ZeroDivisionError("fin")))
        base.free()

    base.once(-1, EV_TIMEOUT, free_it)
    with pytest.raises(ZeroDivisionError):
        base.loop()
    assert seen == [fin_ev]
    assert base.closed
