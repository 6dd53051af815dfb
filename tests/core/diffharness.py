"""Shared machinery of the differential tests (test_differential.py,
test_differential_buffer.py): a scenario runs on the real libevent 2.1
(ctypes) and on evloop, and the two traces must be equal.

Provides: METHODS and BASE_FLAGS; libevent_or_skip() (a missing libevent
is a skip); evloop_base() (an EventBase forced onto one backend, as
libevent_ctypes.Base does it) and seconds_tv(); LibeventSide/EvloopSide
(the base, method, loop, loopbreak and free of each implementation) and
rc() (evloop's exceptions as libevent's -1); TraceRun (what every
scenario sees: trace, socketpairs, notes, actions, return codes, loop);
watchdog()/ScenarioHung (a hung loop becomes an error); and Differential
(a file's scenarios: libevent's trace checked against the expected one,
then evloop's against libevent's, with strict xfails and retries).
"""
import collections
import contextlib
import signal
import socket

import pytest

try:  # tests/core may or may not be a package
    from . import libevent_ctypes as lev
except ImportError:
    import libevent_ctypes as lev

METHODS = ["epoll", "poll", "select"]
BASE_FLAGS = lev.EVENT_BASE_FLAG_IGNORE_ENV | lev.EVENT_BASE_FLAG_PRECISE_TIMER


def libevent_or_skip(make, *args):
    """``make(*args)``, or skip the test if the real libevent is missing."""
    try:
        return make(*args)
    except lev.LibeventUnavailable as exc:
        pytest.skip(f"real libevent 2.1 not loadable: {exc}; "
                    "run `make test` as root to install libevent-2.1-7")


def evloop_base(method, max_dispatch=None):
    """An evloop EventBase on ``method`` with BASE_FLAGS; ``max_dispatch``
    is None or (interval, callbacks, min_priority) for
    set_max_dispatch_interval."""
    import evloop
    cfg = evloop.EventConfig()
    for m in evloop.supported_methods():
        if m != method:
            cfg.avoid_method(m)
    cfg.set_flag(BASE_FLAGS)
    if max_dispatch is not None:
        interval, callbacks, min_priority = max_dispatch
        cfg.set_max_dispatch_interval(seconds_tv(interval), callbacks, min_priority)
    return evloop.EventBase(cfg)


def seconds_tv(timeout):
    """Seconds -> (sec, usec), the exact struct timeval both sides get;
    None and (sec, usec) pass through."""
    if timeout is None or isinstance(timeout, tuple):
        return timeout
    sec = int(timeout)
    return (sec, int(round((timeout - sec) * 1_000_000)))


def rc(call, *args):
    """evloop raises where libevent returns -1 (RuntimeError for misuse,
    ValueError for bad arguments, OSError from the system)."""
    try:
        call(*args)
    except (RuntimeError, ValueError, OSError):
        return -1
    return 0


class LibeventSide:
    """The libevent half of an implementation pair; a subclass sets
    ``base_cls``: ``libevent_ctypes.Base`` or a subclass of it."""

    name = "libevent"

    def __init__(self, method, max_dispatch=None):
        self.base = libevent_or_skip(self.base_cls, method, BASE_FLAGS, max_dispatch)

    def method(self):
        return self.base.method()

    def loop(self, flags):
        return self.base.loop(flags)

    def loopbreak(self):
        return self.base.loopbreak()

    def free(self):
        self.base.free()


class EvloopSide:
    """The evloop half: an EventBase made by :func:`evloop_base`."""

    name = "evloop"

    def __init__(self, method, max_dispatch=None):
        import evloop
        self.ev = evloop
        self.base = evloop_base(method, max_dispatch)

    def method(self):
        return self.base.get_method()

    def loop(self, flags):
        return self.base.loop(flags)

    def loopbreak(self):
        return rc(self.base.loopbreak)

    def free(self):
        self.base.free()


class ScenarioHung(Exception):
    pass


class TraceRun:
    """The part of a scenario's view that both files share: ``trace``,
    ``actions`` keyed as the file likes (called as action(run, what, n)
    after the n-th callback with that key), ``state`` for the scenario's
    own use, socketpairs closed with the run."""

    def __init__(self, impl):
        self.impl = impl
        self.trace = []
        self.actions = {}
        self.calls = collections.Counter()
        self.state = {}
        self.socks = []
        self.hung = False
        self.method = impl.method()

    @staticmethod
    def fileno(fd):
        return fd.fileno() if hasattr(fd, "fileno") else fd

    def socketpair(self):
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        self.socks += [a, b]
        return a, b

    def note(self, *entry):
        self.trace.append(entry)

    def _rc(self, op, name, rc):
        """Record a non-zero return code of ``op``; return it."""
        if rc != 0:
            self.trace.append((op + "-rc", name, rc))
        return rc

    def _act(self, key, what):
        """Count a callback and run its action, if any."""
        self.calls[key] += 1
        action = self.actions.get(key)
        if action is not None:
            action(self, what, self.calls[key])

    def loop(self, flags=0, rv=True):
        """event_base_loop; records ("loop", flags, rv), or only ("loop",
        flags) with rv=False."""
        if self.hung:
            raise ScenarioHung("the watchdog fired during an earlier loop()")
        result = self.impl.loop(flags)
        self.trace.append(("loop", flags, result) if rv else ("loop", flags))
        return result

    def close(self):
        try:
            self.impl.free()
        finally:
            for s in self.socks:
                s.close()


@contextlib.contextmanager
def watchdog(run, seconds=10.0):
    """Turn a loop that never returns into an error instead of a hung test
    run: SIGALRM raises ScenarioHung the next time Python code runs (a
    callback, or the loop returning after EINTR).  Should that land inside
    a ctypes callback outside its trap (where ctypes only prints it), the
    loop is also broken and the run marked, so its next loop() raises."""
    def on_alarm(signum, frame):
        run.hung = True
        run.impl.loopbreak()
        raise ScenarioHung(f"scenario still running after {seconds} s")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class Differential:
    """One file's scenarios and how to run them on both implementations.

    ``scenarios``: name -> (scenario, expected[, impl_options]) where
    ``expected`` is libevent's trace (a list, a dict method -> list, or
    None where only libevent can say) and ``impl_options`` go to both
    implementations' constructors.  ``callback_kinds``: the trace entries
    that show a callback ran (a scenario that runs none on libevent is a
    broken scenario).  ``deliberate``: name -> reason, strict xfails.
    ``timing_sensitive``: names that get up to three attempts, one of
    which must agree completely (libevent == expected, evloop ==
    libevent); a real disagreement fails all three."""

    def __init__(self, libevent_impl, evloop_impl, run_cls, callback_kinds, scenarios,
                 timing_sensitive=(), deliberate=None):
        self.impls = (libevent_impl, evloop_impl)
        self.run_cls = run_cls
        self.callback_kinds = callback_kinds
        self.scenarios = scenarios
        self.timing_sensitive = timing_sensitive
        self.deliberate = deliberate or {}

    def params(self):
        """The scenario names for parametrize, deliberate ones as strict xfails."""
        return [pytest.param(name, marks=pytest.mark.xfail(strict=True,
                                                           reason=self.deliberate[name]))
                if name in self.deliberate else name
                for name in self.scenarios]

    def parametrize(self, test):
        """Decorate ``test(scenario, method)``: every scenario on every
        method (ids "<scenario>-<method>")."""
        test = pytest.mark.parametrize("scenario", self.params())(test)
        return pytest.mark.parametrize("method", METHODS)(test)

    def run(self, impl_cls, method, scenario, impl_options=None):
        """The trace of ``scenario`` on one implementation."""
        impl = impl_cls(method, **(impl_options or {}))
        run = None
        try:
            assert impl.method() == method, (impl.name, impl.method(), method)
            run = self.run_cls(impl)
            with watchdog(run):
                scenario(run)
            if run.hung:  # the alarm was swallowed by a ctypes callback
                raise ScenarioHung("the watchdog fired and broke the loop")
            return run.trace
        finally:
            if run is not None:
                run.close()
            else:
                impl.free()

    def compare(self, method, scenario, expected=None, impl_options=None):
        """Run ``scenario`` on libevent, then evloop; traces must be equal."""
        libevent_impl, evloop_impl = self.impls
        libevent_trace = self.run(libevent_impl, method, scenario, impl_options)
        assert any(e[0] in self.callback_kinds for e in libevent_trace), \
            f"scenario ran no callback on libevent: {libevent_trace}"
        if isinstance(expected, dict):
            expected = expected[method]
        if expected is not None:
            assert libevent_trace == expected, (
                f"libevent itself did not do what the scenario expects:\n{libevent_trace}")
        evloop_trace = self.run(evloop_impl, method, scenario, impl_options)
        assert evloop_trace == libevent_trace, (
            f"\nlibevent: {libevent_trace}\nevloop:   {evloop_trace}")

    def check(self, name, method):
        """The test body: compare scenario ``name`` on ``method``."""
        attempts = 3 if name in self.timing_sensitive else 1
        for attempt in range(attempts):
            try:
                self.compare(method, *self.scenarios[name])
                return
            except AssertionError:
                if attempt == attempts - 1:
                    raise
