"""EventBase and EventConfig: backends, features, environment overrides,
time, fork/reinit and the lifecycle of bases and events.

Ports the spirit of libevent's regress.c main/ cases ``methods``,
``version``, ``base_features``, ``base_environ``, ``event_base_new``,
``free_active_base``, ``gettimeofday_cached``, ``fork`` and ``finalize/``.
"""
import gc
import os
import time
import warnings

import pytest

import evloop
from evloop import (
    EV_FEATURE_EARLY_CLOSE,
    EV_FEATURE_ET,
    EV_FEATURE_FDS,
    EV_FEATURE_O1,
    EV_PERSIST,
    EV_READ,
    EV_TIMEOUT,
    EV_WRITE,
    EVENT_BASE_FLAG_IGNORE_ENV,
    EVLOOP_NONBLOCK,
    EVLOOP_ONCE,
    Event,
    EventBase,
    EventConfig,
)
from helpers import Trace, any_base, guard  # noqa: F401  (fixtures)

EXPECTED_FEATURES = {
    "epoll": EV_FEATURE_ET | EV_FEATURE_O1 | EV_FEATURE_EARLY_CLOSE,
    "poll": EV_FEATURE_FDS | EV_FEATURE_EARLY_CLOSE,
    "select": EV_FEATURE_FDS,
}

ENV_VARS = ("EVENT_NOEPOLL", "EVENT_NOPOLL", "EVENT_NOSELECT",
            "EVENT_SHOW_METHOD", "EVENT_PRECISE_TIMER")


@pytest.fixture
def clean_env(monkeypatch):
    """No EVENT_* override leaks in from the caller's environment."""
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


# -- constants -----------------------------------------------------------------

def test_constants_keep_libevent_values():
    assert (evloop.EV_TIMEOUT, evloop.EV_READ, evloop.EV_WRITE, evloop.EV_SIGNAL,
            evloop.EV_PERSIST, evloop.EV_ET, evloop.EV_FINALIZE,
            evloop.EV_CLOSED) == (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)
    assert (evloop.EVLOOP_ONCE, evloop.EVLOOP_NONBLOCK,
            evloop.EVLOOP_NO_EXIT_ON_EMPTY) == (1, 2, 4)
    assert (EV_FEATURE_ET, EV_FEATURE_O1, EV_FEATURE_FDS,
            EV_FEATURE_EARLY_CLOSE) == (1, 2, 4, 8)
    assert (evloop.EVENT_BASE_FLAG_NOLOCK, evloop.EVENT_BASE_FLAG_IGNORE_ENV,
            evloop.EVENT_BASE_FLAG_STARTUP_IOCP, evloop.EVENT_BASE_FLAG_NO_CACHE_TIME,
            evloop.EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST,
            evloop.EVENT_BASE_FLAG_PRECISE_TIMER) == (1, 2, 4, 8, 0x10, 0x20)
    assert (evloop.EVENT_BASE_COUNT_ACTIVE, evloop.EVENT_BASE_COUNT_VIRTUAL,
            evloop.EVENT_BASE_COUNT_ADDED) == (1, 2, 4)
    assert evloop.EVENT_MAX_PRIORITIES == 256
    assert (evloop.EVLIST_TIMEOUT, evloop.EVLIST_INSERTED, evloop.EVLIST_SIGNAL,
            evloop.EVLIST_ACTIVE, evloop.EVLIST_INTERNAL, evloop.EVLIST_ACTIVE_LATER,
            evloop.EVLIST_FINALIZING, evloop.EVLIST_INIT) == (
                1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80)


def test_version():
    assert evloop.LIBEVENT_VERSION == "2.1.12-stable"
    assert evloop.LIBEVENT_VERSION_NUMBER == 0x02010C00


# -- backends and features (regress.c: methods, base_features) ------------------

def test_supported_methods_fastest_first():
    methods = evloop.supported_methods()
    assert isinstance(methods, list)
    assert methods == ["epoll", "poll", "select"]


def test_get_method(base, backend):
    assert base.get_method() == backend
    assert base.method == backend


def test_get_features(base, backend):
    assert base.get_features() == EXPECTED_FEATURES[backend]


def test_default_base_is_epoll(clean_env):
    with EventBase() as b:
        assert b.get_method() == "epoll"


def test_require_et_gives_epoll(clean_env):
    cfg = EventConfig()
    cfg.require_features(EV_FEATURE_ET)
    with EventBase(cfg) as b:
        assert b.get_method() == "epoll"
        assert b.get_features() & EV_FEATURE_ET


def test_require_fds_skips_epoll(clean_env):
    # epoll cannot watch regular files, so it lacks EV_FEATURE_FDS.
    cfg = EventConfig()
    cfg.require_features(EV_FEATURE_FDS)
    with EventBase(cfg) as b:
        assert b.get_method() == "poll"


def test_require_fds_and_early_close_gives_poll(clean_env):
    cfg = EventConfig()
    cfg.avoid_method("epoll")
    cfg.require_features(EV_FEATURE_FDS | EV_FEATURE_EARLY_CLOSE)
    with EventBase(cfg) as b:
        assert b.get_method() == "poll"


def test_require_features_replaces_previous_mask(clean_env):
    cfg = EventConfig()
    cfg.require_features(EV_FEATURE_FDS)
    cfg.require_features(EV_FEATURE_ET)
    with EventBase(cfg) as b:
        assert b.get_method() == "epoll"


def test_require_et_with_epoll_avoided_fails(clean_env):
    cfg = EventConfig()
    cfg.avoid_method("epoll")
    cfg.require_features(EV_FEATURE_ET)
    with pytest.raises(OSError):
        EventBase(cfg)


def test_avoid_methods_in_turn(clean_env):
    cfg = EventConfig()
    cfg.avoid_method("epoll")
    with EventBase(cfg) as b:
        assert b.get_method() == "poll"
    cfg.avoid_method("poll")
    with EventBase(cfg) as b:
        assert b.get_method() == "select"
    cfg.avoid_method("select")
    with pytest.raises(OSError):
        EventBase(cfg)


@pytest.mark.parametrize("env, expected", [
    ({"EVENT_NOEPOLL": "1"}, "poll"),
    ({"EVENT_NOEPOLL": "1", "EVENT_NOPOLL": "1"}, "select"),
    ({"EVENT_NOPOLL": "1"}, "epoll"),
    ({"EVENT_NOPOLL": "1", "EVENT_NOSELECT": "1"}, "epoll"),
])
def test_env_disables_methods(clean_env, env, expected):
    for k, v in env.items():
        clean_env.setenv(k, v)
    with EventBase() as b:
        assert b.get_method() == expected


def test_env_disabling_everything_fails(clean_env):
    for var in ("EVENT_NOEPOLL", "EVENT_NOPOLL", "EVENT_NOSELECT"):
        clean_env.setenv(var, "1")
    with pytest.raises(OSError):
        EventBase()


def test_env_combines_with_config(clean_env):
    clean_env.setenv("EVENT_NOEPOLL", "1")
    cfg = EventConfig()
    cfg.avoid_method("poll")
    with EventBase(cfg) as b:
        assert b.get_method() == "select"


def test_ignore_env_flag(clean_env):
    clean_env.setenv("EVENT_NOEPOLL", "1")
    clean_env.setenv("EVENT_NOPOLL", "1")
    cfg = EventConfig()
    cfg.set_flag(EVENT_BASE_FLAG_IGNORE_ENV)
    with EventBase(cfg) as b:
        assert b.get_method() == "epoll"


def test_env_show_method(clean_env, capsys):
    # libevent logs "[msg] libevent using: <method>" through its default
    # log callback (stderr)
    clean_env.setenv("EVENT_SHOW_METHOD", "1")
    clean_env.setenv("EVENT_NOEPOLL", "1")
    with EventBase() as b:
        assert b.get_method() == "poll"
    assert "libevent using: poll" in capsys.readouterr().err
    cfg = EventConfig()
    cfg.set_flag(EVENT_BASE_FLAG_IGNORE_ENV)
    with EventBase(cfg):
        pass
    assert "libevent using" not in capsys.readouterr().err


def test_env_is_read_at_base_creation(clean_env):
    with EventBase() as b:
        clean_env.setenv("EVENT_NOEPOLL", "1")
        assert b.get_method() == "epoll"
    with EventBase() as b:
        assert b.get_method() == "poll"


# -- lifecycle -----------------------------------------------------------------------

def test_free_is_idempotent(make_base):
    b = make_base()
    assert not b.closed
    b.free()
    assert b.closed
    b.free()
    assert b.closed


def test_freed_base_refuses_use(make_base):
    b = make_base()
    b.free()
    with pytest.raises(RuntimeError):
        b.loop()
    with pytest.raises(RuntimeError):
        b.dispatch()
    with pytest.raises(RuntimeError):
        b.loopexit()
    with pytest.raises(RuntimeError):
        b.once(-1, EV_TIMEOUT, lambda fd, what, arg: None)


def test_adding_event_of_freed_base(make_base):
    b = make_base()
    ev = Event.timer(b, lambda fd, what, arg: None)
    b.free()
    with pytest.raises(RuntimeError):
        ev.add(1)
    with pytest.raises(RuntimeError):
        Event.timer(b, lambda fd, what, arg: None).add(1)


def test_free_deletes_pending_events(make_base, pair):
    a, _ = pair
    b = make_base()
    ev = Event(b, a, EV_READ | EV_PERSIST, lambda fd, what, arg: None)
    ev.add(10)
    assert ev.pending(EV_READ | EV_TIMEOUT) == EV_READ | EV_TIMEOUT
    b.free()
    # libevent's event_base_free deletes every event: nothing is pending.
    try:
        assert ev.pending(EV_READ | EV_TIMEOUT) == 0
    except RuntimeError:
        pass  # refusing to talk about an event of a freed base is fine too


def test_free_with_active_events(make_base):
    # regress.c main/free_active_base: freeing a base whose events are
    # active runs none of them.
    b = make_base()
    trace = Trace()
    evs = [Event.timer(b, trace.cb(i)) for i in range(3)]
    for ev in evs:
        ev.active(EV_TIMEOUT)
    b.free()
    assert trace.calls == []


def test_context_manager(make_base):
    b = make_base()
    with b as entered:
        assert entered is b
        assert not b.closed
    assert b.closed
    with pytest.raises(RuntimeError):
        b.loop()


def test_context_manager_frees_on_exception(clean_env):
    with pytest.raises(KeyError):
        with EventBase() as b:
            raise KeyError("x")
    assert b.closed


def test_event_free_then_add(any_base):
    ev = Event.timer(any_base, lambda fd, what, arg: None)
    ev.add(10)
    ev.free()
    assert not ev.initialized()
    ev.free()  # idempotent
    with pytest.raises(RuntimeError):
        ev.add(1)
    with pytest.raises(RuntimeError):
        ev.active(EV_TIMEOUT)
    # the base no longer has it: nothing registered
    assert any_base.loop() == 1


def test_dropped_pending_timer_still_fires(base):
    trace = Trace()

    def arm():
        Event.timer(base, trace.cb("t"), "arg").add(0)

    arm()
    gc.collect()
    base.loop()
    assert trace.names == ["t"]
    assert trace.calls[0][3] == "arg"


def test_dropped_pending_io_event_still_fires(base, pair):
    a, b = pair
    trace = Trace()

    def arm():
        Event(base, a, EV_READ, trace.cb("r")).add()

    arm()
    gc.collect()
    b.send(b"x")
    g = guard(base)
    base.loop(EVLOOP_ONCE)
    g.delete()
    assert trace.names == ["r"]
    assert trace.whats == [EV_READ]


def test_finalize_runs_from_loop(base):
    seen = []
    ev = Event.timer(base, lambda fd, what, arg: seen.append("cb"), "the-arg")
    ev.add(10)
    ev.finalize(lambda e, arg: seen.append(("fin", e, arg)))
    # Deleted at once, finalizer deferred to the loop.
    assert ev.pending(EV_TIMEOUT) == 0
    assert seen == []
    base.loop(EVLOOP_NONBLOCK)
    assert seen == [("fin", ev, "the-arg")]
    with pytest.raises(RuntimeError):
        ev.add(1)
    with pytest.raises(RuntimeError):
        ev.active(EV_TIMEOUT)


def test_finalize_sets_finalizing_flag(any_base):
    ev = Event.timer(any_base, lambda fd, what, arg: None)
    ev.finalize(lambda e, arg: None)
    assert ev.flags & evloop.EVLIST_FINALIZING
    any_base.loop(EVLOOP_NONBLOCK)


def test_free_finalize(base):
    seen = []
    ev = Event.timer(base, lambda fd, what, arg: None)
    ev.add(10)
    ev.free_finalize(lambda e, arg: seen.append(e))
    base.loop(EVLOOP_NONBLOCK)
    assert seen == [ev]
    with pytest.raises(RuntimeError):
        ev.add(1)


def test_finalize_from_own_callback(base):
    # regress finalize/within_cb: the finalizer runs after the callback
    # that asked for it, from the loop.
    seen = []

    def cb(fd, what, arg):
        seen.append("cb")
        ev.finalize(lambda e, a: seen.append("fin"))
        seen.append("cb-end")

    ev = Event(base, -1, EV_PERSIST, cb)
    ev.add(0)
    base.loop()
    assert seen == ["cb", "cb-end", "fin"]
    assert ev.pending(EV_TIMEOUT) == 0


def test_enable_debug_mode_too_late(any_base):
    # a base exists, so it is too late (libevent aborts; we raise)
    with pytest.raises(RuntimeError):
        evloop.enable_debug_mode()


def test_base_free_runs_pending_finalizers(make_base):
    b = make_base()
    seen = []
    ev = Event.timer(b, lambda fd, what, arg: None)
    ev.finalize(lambda e, arg: seen.append(e))
    b.free()
    assert seen == [ev]


# -- time (regress.c: gettimeofday_cached) -----------------------------------------

def test_gettimeofday_cached_outside_loop(any_base):
    assert abs(any_base.gettimeofday_cached() - time.time()) < 1.0


def test_gettimeofday_cached_inside_callback(base):
    seen = []

    def cb(fd, what, arg):
        seen.append((base.gettimeofday_cached(), time.time()))
        base.update_cache_time()
        seen.append((base.gettimeofday_cached(), time.time()))

    Event.timer(base, cb).add(0)
    base.loop()
    assert len(seen) == 2
    for cached, now in seen:
        assert abs(cached - now) < 1.0


def test_time_is_cached_while_running(base):
    seen = []

    def cb(fd, what, arg):
        t1, g1 = base.time(), base.gettimeofday_cached()
        time.sleep(0.01)
        t2, g2 = base.time(), base.gettimeofday_cached()
        base.update_cache_time()
        t3 = base.time()
        seen.append((t1, t2, t3, g1, g2))

    Event.timer(base, cb).add(0)
    base.loop()
    (t1, t2, t3, g1, g2), = seen
    # the cache holds during the callback: the 10 ms sleep does not show
    assert t1 == t2
    # libevent returns tv_cache + tv_clock_diff, the offset being re-synced
    # only when the cache is refreshed: the very same value every call
    assert g1 == g2
    assert t3 > t1                # update_cache_time refreshed it


def test_no_cache_time_flag(make_base):
    b = make_base(flags=evloop.EVENT_BASE_FLAG_NO_CACHE_TIME)
    seen = []

    def cb(fd, what, arg):
        t1 = b.time()
        time.sleep(0.01)
        seen.append((t1, b.time()))

    Event.timer(b, cb).add(0)
    b.loop()
    (t1, t2), = seen
    assert t2 > t1


def test_base_time_is_monotonic_clock(any_base):
    assert abs(any_base.time() - evloop.gettime_monotonic()) < 1.0
    assert abs(evloop.gettime_monotonic() - time.monotonic()) < 1.0


# -- fork (regress.c: main/fork) ------------------------------------------------------

def _fork():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


def test_reinit_after_fork(base, pair):
    a, b = pair
    trace = Trace()
    ev = Event(base, a, EV_READ | EV_PERSIST, trace.cb("r"))
    ev.add()
    r, w = os.pipe()
    pid = _fork()
    if pid == 0:  # child
        code = 1
        try:
            os.close(r)
            base.reinit()
            b.send(b"c")
            g = guard(base, 2.0)
            base.loop(EVLOOP_ONCE)
            g.delete()
            ok = trace.names == ["r"] and trace.whats == [EV_READ]
            os.write(w, b"ok" if ok else repr(trace.calls).encode())
            code = 0 if ok else 2
        except BaseException as exc:  # report anything to the parent
            try:
                os.write(w, repr(exc).encode())
            except OSError:
                pass
        finally:
            os._exit(code)
    os.close(w)
    with open(r, "rb") as f:
        report = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, report
    assert report == b"ok"
    # The parent's base is unaffected: the byte the child sent (and read?
    # no: the child never read it) makes `a` readable here too.
    assert trace.names == []
    g = guard(base, 2.0)
    base.loop(EVLOOP_ONCE)
    g.delete()
    assert trace.names == ["r"]
    ev.delete()


def test_reinit_in_parent_keeps_events(base, pair):
    # event_reinit may be called in the parent too; inserted events survive.
    a, b = pair
    trace = Trace()
    Event(base, a, EV_READ, trace.cb("r")).add()
    base.reinit()
    b.send(b"x")
    g = guard(base)
    base.loop(EVLOOP_ONCE)
    g.delete()
    assert trace.names == ["r"]


def test_base_stays_usable_after_many_loops(base):
    # regress.c "many events"-style smoke: 200 timers all fire exactly once.
    trace = Trace()
    evs = [Event.timer(base, trace.cb(i)) for i in range(200)]
    for ev in evs:
        ev.add(0)
    assert base.loop() == 1
    assert sorted(trace.names) == list(range(200))
    assert all(w == EV_TIMEOUT for w in trace.whats)
    del evs


def test_write_event_fires(base, pair):
    a, _ = pair
    trace = Trace()
    Event(base, a, EV_WRITE, trace.cb("w")).add()
    base.loop(EVLOOP_ONCE)
    assert trace.whats == [EV_WRITE]
