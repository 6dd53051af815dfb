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
from helpers import Trace, any_base, guard, nb_socketpair, pair  # noqa: F401  (fixtures)


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
