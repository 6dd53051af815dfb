"""The libevent face against a model, driven by hypothesis ("keep it found").

A state machine owns an EventBase, a non-blocking socketpair and a bundle
of Events (timers, read and write events on the pair, a signal event), and
applies random sequences of what a program may do to them: add with good,
odd and bad timeouts (0, 1 ns, 2**70, 1e300, NaN, inf, (0, 10**6),
CommonTimeout tokens, a token of another base...), delete, active,
remove_timer, assign and a second __init__, priority changes, finalize,
free, once, loopexit, a non-blocking loop, freeing the base and going on
with a new one while the old events are still used.

After every step the base's own invariant checker runs (EventBase._validate:
every pointer in the timer heap, the active queues and the evmap is a live,
pinned event whose state bits say it is there), and every event's state
bits are compared with the model.  A loop pass is checked by what may and
what must have run.  Issue 10's holes (a pending event re-initialised into
the heap twice, a freed base revived, NaN deadlines) each break one of
these checks at the step that causes them.

The normal suite runs a small deterministic profile (derandomized, no
example database: the same sequences on every run and machine, a few
seconds).  EVLOOP_FUZZ_EXAMPLES=N runs N random sequences instead (``make
fuzz`` selects the ``fuzz`` marker):

    EVLOOP_FUZZ_EXAMPLES=5000 python -m pytest -m fuzz tests/core -q -p no:cacheprovider
"""
import os
import signal
import socket

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, consumes, invariant,
                                 precondition, rule)

import evloop
from evloop import (EV_PERSIST, EV_READ, EV_SIGNAL, EV_TIMEOUT, EV_WRITE, EVLIST_ACTIVE,
                    EVLIST_ACTIVE_LATER, EVLIST_FINALIZING, EVLIST_INSERTED, EVLIST_TIMEOUT,
                    EVLOOP_NONBLOCK, Event, EventBase)

FUZZ_EXAMPLES = int(os.environ.get("EVLOOP_FUZZ_EXAMPLES", "0"))
if FUZZ_EXAMPLES:
    PROFILE = settings(max_examples=FUZZ_EXAMPLES, stateful_step_count=60, deadline=None,
                       database=None, print_blob=True,
                       suppress_health_check=[HealthCheck.too_slow])
else:
    PROFILE = settings(max_examples=40, stateful_step_count=30, deadline=None,
                       database=None, derandomize=True,
                       suppress_health_check=[HealthCheck.too_slow])

SIG = signal.SIGUSR1
STATE_BITS = EVLIST_TIMEOUT | EVLIST_INSERTED | EVLIST_ACTIVE | EVLIST_ACTIVE_LATER
HELD = STATE_BITS

# Timeouts by what they mean for a non-blocking loop: "due" has expired by
# the next pass, "never" does not expire during a test, "soon" may or may
# not have expired.  Persistent events get no "soon": re-armed every pass,
# they would keep a non-blocking loop busy forever (libevent too).
DUE = [0, 0.0, (0, 0), ("token", 0)]
NEVER = [1000, 1e4, (10**6, 0), 2**70, 1e300, (2**70, 999_999), ("token", 1000)]
SOON = [1e-9, (0, 1), 0.0005]
BAD = [float("nan"), float("inf"), float("-inf"), -1, -0.5, (0, 10**6), (-1, 0), (1.5, 0),
       (True, 0), "1", [1, 0], True, ("foreign", 0), ("blank", 0)]


class Model:
    """What we expect of one Event."""

    def __init__(self, kind, persist):
        self.kind = kind            # "timer", "read", "write", "signal"
        self.persist = persist
        self.reset()
        self.freed = False
        self.finalized = 0          # times its finalizer ran
        self.fired = 0

    def reset(self):
        self.timeout = None         # None, "due", "never", "soon"
        self.inserted = False
        self.active = False
        self.res_timeout = False    # the activation includes EV_TIMEOUT
        self.ncalls0 = False        # a signal activation with ncalls=0 (runs nothing)
        self.finalizing = False

    @property
    def held(self):
        return self.timeout is not None or self.inserted or self.active

    def flags(self):
        f = 0
        if self.timeout is not None:
            f |= EVLIST_TIMEOUT
        if self.inserted:
            f |= EVLIST_INSERTED
        if self.active:
            f |= EVLIST_ACTIVE
        if self.finalizing:
            f |= EVLIST_FINALIZING
        return f


class EventMachine(RuleBasedStateMachine):
    events = Bundle("events")

    def __init__(self):
        super().__init__()
        self.a, self.b = socket.socketpair()
        self.a.setblocking(False)
        self.b.setblocking(False)
        self.readable = False       # bytes wait on self.a
        self.old_bases = []
        self.models = {}            # id(ev) -> Model
        self.evs = {}               # id(ev) -> ev (keeps them alive)
        self.finalize_expected = {}  # id(ev) -> Model of every finalize()d event
        self.once_fired = []
        self.once_pending = []      # (tag, must)
        self.next_tag = 0
        self.exit_requested = False
        self._new_base()

    def _new_base(self):
        self.base = EventBase()
        self.tokens = {0: self.base.init_common_timeout(0),
                       1000: self.base.init_common_timeout(1000)}
        self.loopexit_pending = False

    def teardown(self):
        try:
            self.base.free()
        finally:
            self.a.close()
            self.b.close()
        for m in self.finalize_expected.values():
            assert m.finalized == 1, f"a finalizer ran {m.finalized} times"

    # -- helpers -----------------------------------------------------------

    def _callback(self, fd, what, ev):
        m = self.models[id(ev)]
        assert not m.freed or m.active, "a freed event ran"
        m.fired += 1
        if what & EV_READ:
            try:
                while self.a.recv(4096):
                    pass
            except BlockingIOError:
                pass
            self.readable = False

    def _finalizer(self, ev, arg):
        self.models[id(ev)].finalized += 1

    def _timeout_value(self, spec):
        if isinstance(spec, tuple) and spec and spec[0] == "token":
            return self.tokens[spec[1]]
        if spec == ("foreign", 0):
            other = EventBase()
            try:
                return other.init_common_timeout(0)
            finally:
                other.free()
        if spec == ("blank", 0):
            return evloop.CommonTimeout.__new__(evloop.CommonTimeout)
        return spec

    def _live(self, m):
        return not m.freed and m.base is self.base

    def _expect_refusal(self, m, fn, *args):
        """Calls that must raise RuntimeError: a freed event, or one whose
        base was freed."""
        try:
            fn(*args)
        except RuntimeError:
            event(f"{fn.__name__} refused (freed)")
            return True
        raise AssertionError(f"{fn.__name__} on a freed event/base did not raise")

    # -- the checks --------------------------------------------------------

    @invariant()
    def structures_and_states(self):
        self.base._validate()
        for old in self.old_bases:
            old._validate()
        for key, ev in self.evs.items():
            m = self.models[key]
            got = ev.flags & (STATE_BITS | EVLIST_FINALIZING)
            if got & EVLIST_ACTIVE_LATER:
                got = (got & ~EVLIST_ACTIVE_LATER) | EVLIST_ACTIVE
            assert got == m.flags(), (m.kind, m.persist, hex(got), hex(m.flags()))

    # -- events ------------------------------------------------------------

    @rule(target=events, kind=st.sampled_from(["timer", "read", "write", "signal"]),
          persist=st.booleans(), reinit=st.booleans())
    def new_event(self, kind, persist, reinit):
        if kind == "write":
            persist = False         # always writable: would keep the loop busy
        if kind == "signal":
            persist = True
        ev = Event.__new__(Event)
        m = Model(kind, persist)
        self._assign(ev, m, kind, persist, via_init=True)
        if reinit:
            # a second __init__ of an idle event is assign()
            self._assign(ev, m, kind, persist, via_init=True)
        return ev

    def _assign(self, ev, m, kind, persist, via_init):
        what = {"timer": 0, "read": EV_READ, "write": EV_WRITE, "signal": EV_SIGNAL}[kind]
        if persist:
            what |= EV_PERSIST
        fd = {"timer": -1, "signal": SIG}.get(kind, self.a)
        fn = ev.__init__ if via_init else ev.assign
        fn(self.base, fd, what, self._callback, ev)
        m.kind, m.persist = kind, persist
        m.reset()
        m.freed = False
        m.base = self.base
        self.models[id(ev)] = m
        self.evs[id(ev)] = ev

    @rule(ev=events, kind=st.sampled_from(["timer", "read", "write", "signal"]),
          via_init=st.booleans())
    def reassign(self, ev, kind, via_init):
        m = self.models[id(ev)]
        persist = kind == "signal" or (kind != "write" and m.persist)
        if m.held or m.finalizing:
            fn = ev.__init__ if via_init else ev.assign
            try:
                fn(self.base, -1, 0, self._callback, ev)
            except RuntimeError:
                event("assign/__init__ of a held event refused")
                return
            raise AssertionError("assigning a pending/active/finalizing event was accepted")
        self._assign(ev, m, kind, persist, via_init)

    @rule(ev=events, via_init=st.booleans(), spec=st.sampled_from(NEVER + DUE))
    def reinit_pending(self, ev, via_init, spec):
        """Issue 10's sequence: make the event pending, then initialise it
        again; refused, and the event stays exactly as it was."""
        m = self.models[id(ev)]
        if not self._live(m) or m.finalizing:
            return
        self.add(ev, spec)
        before = ev.flags
        fn = ev.__init__ if via_init else ev.assign
        try:
            fn(self.base, -1, 0, self._callback, ev)
        except RuntimeError:
            event("assign/__init__ of a held event refused")
        else:
            raise AssertionError("re-initialising a pending event was accepted")
        assert ev.flags == before

    @rule(ev=events, spec=st.none() | st.sampled_from(DUE + NEVER + SOON))
    def add(self, ev, spec):
        m = self.models[id(ev)]
        if m.persist and spec in SOON:
            spec = 0
        tv = self._timeout_value(spec)
        if not self._live(m) or m.finalizing:
            self._expect_refusal(m, ev.add, tv)
            return
        ev.add(tv)
        if m.kind != "timer" and not (m.inserted or m.active):
            m.inserted = True
        if spec is not None:
            if m.active and m.res_timeout:
                m.active = False      # re-scheduling cancels the fired timeout
                m.res_timeout = False
            m.timeout = "due" if spec in DUE else "never" if spec in NEVER else "soon"

    @rule(ev=events, spec=st.sampled_from(BAD))
    def add_bad_timeout(self, ev, spec):
        m = self.models[id(ev)]
        tv = self._timeout_value(spec)
        before = ev.flags
        try:
            ev.add(tv)
        except (TypeError, ValueError) as exc:
            assert "timeout" in str(exc), exc
        except RuntimeError:
            assert not self._live(m) or m.finalizing
        else:
            raise AssertionError(f"add({tv!r}) was accepted")
        assert ev.flags == before

    @rule(ev=events)
    def delete(self, ev):
        m = self.models[id(ev)]
        if not m.freed and m.base is not self.base and not m.finalizing:
            self._expect_refusal(m, ev.delete)
            return
        ev.delete()
        if not m.finalizing and not m.freed:
            m.reset()

    @rule(ev=events, res=st.sampled_from([EV_TIMEOUT, EV_READ, EV_WRITE | EV_TIMEOUT,
                                          EV_SIGNAL, 0]),
          ncalls=st.sampled_from([1, 0, 3]))
    def active(self, ev, res, ncalls):
        m = self.models[id(ev)]
        if not self._live(m) or m.finalizing:
            self._expect_refusal(m, ev.active, res, ncalls)
            return
        ev.active(res, ncalls)
        if m.active:
            m.res_timeout = m.res_timeout or bool(res & EV_TIMEOUT)
            return
        m.active = True
        m.res_timeout = bool(res & EV_TIMEOUT)
        m.ncalls0 = m.kind == "signal" and ncalls == 0

    @rule(ev=events)
    def remove_timer(self, ev):
        m = self.models[id(ev)]
        if not self._live(m):
            self._expect_refusal(m, ev.remove_timer)
            return
        ev.remove_timer()
        m.timeout = None

    @rule(ev=events, pri=st.integers(-1, 3))
    def priority_set(self, ev, pri):
        m = self.models[id(ev)]
        if not self._live(m):
            self._expect_refusal(m, ev.priority_set, pri)
            return
        try:
            ev.priority_set(pri)
        except RuntimeError:
            assert m.active
        except ValueError as exc:
            assert "priority" in str(exc)
            assert not 0 <= pri < self.base.get_npriorities()

    @rule(n=st.integers(0, 4))
    def priority_init(self, n):
        try:
            self.base.priority_init(n)
        except ValueError:
            assert n == 0
        except RuntimeError:
            assert self.base.get_num_events(evloop.EVENT_BASE_COUNT_ACTIVE)

    @rule(ev=events, free=st.booleans())
    def finalize(self, ev, free):
        m = self.models[id(ev)]
        fn = ev.free_finalize if free else ev.finalize
        if not self._live(m):
            self._expect_refusal(m, fn, self._finalizer)
            return
        fn(self._finalizer)
        if m.finalizing:
            return
        m.reset()
        m.active = True
        m.finalizing = True
        m.free_after = free
        self.finalize_expected[id(ev)] = m

    @rule(ev=consumes(events))
    def free_event(self, ev):
        m = self.models[id(ev)]
        ev.free()
        if not m.finalizing:
            m.reset()
            # gone for good: drop it from the checks
            del self.evs[id(ev)]
        m.freed = True

    # -- the base ----------------------------------------------------------

    @rule(spec=st.none() | st.sampled_from(DUE + NEVER + SOON + BAD))
    def once(self, spec):
        tv = self._timeout_value(spec)
        tag = self.next_tag
        self.next_tag += 1
        try:
            self.base.once(-1, EV_TIMEOUT, lambda fd, what, arg: self.once_fired.append(arg),
                           tag, tv)
        except (TypeError, ValueError) as exc:
            assert spec in BAD and "timeout" in str(exc)
            return
        assert spec not in BAD
        self.once_pending.append((tag, spec is None or spec in DUE))

    @rule()
    def make_readable(self):
        self.b.send(b"x")
        self.readable = True

    @precondition(lambda self: not self.loopexit_pending)
    @rule()
    def loopexit(self):
        self.base.loopexit(0)
        self.loopexit_pending = True

    @rule()
    def reinit_base(self):
        try:
            self.base.__init__()
        except RuntimeError:
            return
        raise AssertionError("a second EventBase.__init__ was accepted")

    @rule()
    def active_by_signal(self):
        self.base.active_by_signal(SIG)
        for key in self.evs:
            m = self.models[key]
            if m.kind == "signal" and m.inserted and self._live(m) and not m.active:
                m.active = True
                m.res_timeout = False
                m.ncalls0 = False

    @rule()
    def loop(self):
        sure = not self.loopexit_pending
        must, may = set(), set()
        for key in self.evs:
            m = self.models[key]
            if not self._live(m) or m.finalizing:
                continue
            ready = (m.active and not m.ncalls0) or m.timeout == "due" or \
                (m.inserted and (m.kind == "write" or (m.kind == "read" and self.readable)))
            if ready:
                must.add(key)
            if ready or m.active or m.timeout == "soon" or m.kind == "read" and m.inserted:
                may.add(key)
        before = {key: (self.models[key].fired, self.evs[key].flags) for key in self.evs}
        fin_before = {key: m.finalized for key, m in self.finalize_expected.items()}
        old = signal.signal(signal.SIGALRM, _hung)
        signal.setitimer(signal.ITIMER_REAL, 30)
        try:
            self.base.loop(EVLOOP_NONBLOCK)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        self.loopexit_pending = False
        ran = sum(self.models[key].fired - fired for key, (fired, _) in before.items())
        event(f"loop ran {'no' if not ran else 'a few' if ran < 4 else 'many'} callbacks")
        for key, (fired, flags) in before.items():
            m = self.models[key]
            ran = m.fired > fired
            if ran:
                assert key in may, f"a {m.kind} event ran that could not run"
                if not m.persist:
                    # deleted before its callback (event_process_active)
                    assert not (self.evs[key].flags & HELD), "a one-shot event is still held"
            elif sure and key in must:
                raise AssertionError(f"a {m.kind} event that was due did not run")
            if key not in may and not m.finalizing:
                assert self.evs[key].flags == flags, "an event that could not run changed"
            self._sync(key)
        for key, m in self.finalize_expected.items():
            if sure and fin_before[key] == 0 and m.base is self.base and not m.freed:
                assert m.finalized == 1, "a finalizer did not run"
        if sure:
            for tag, must_run in self.once_pending:
                if must_run:
                    assert tag in self.once_fired, "a due once() callback did not run"
            self.once_pending = [(t, mr) for t, mr in self.once_pending
                                 if t not in self.once_fired]
        assert len(self.once_fired) == len(set(self.once_fired)), "a once() callback ran twice"

    def _sync(self, key):
        """After a loop: adopt the event's real state (checked above)."""
        m = self.models[key]
        flags = self.evs[key].flags
        if not (flags & EVLIST_TIMEOUT):
            m.timeout = None
        m.inserted = bool(flags & EVLIST_INSERTED)
        m.active = bool(flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER))
        if not m.active:
            m.res_timeout = m.ncalls0 = False
        if m.finalizing and m.finalized and getattr(m, "free_after", False):
            m.freed = True

    @rule()
    def free_base(self):
        old = self.base
        old.free()
        for m in self.finalize_expected.values():
            if m.base is old:
                assert m.finalized == 1, "free() did not run a pending finalizer"
        for key in self.evs:
            m = self.models[key]
            if m.base is old:
                m.reset()
                m.finalizing = bool(self.evs[key].flags & EVLIST_FINALIZING)
        self.once_pending = []
        self.old_bases.append(old)
        del self.old_bases[:-2]
        self._new_base()
        try:
            Event.timer(old, self._callback)
        except RuntimeError:
            pass
        else:
            raise AssertionError("a freed base made an event")


def _hung(signum, frame):
    raise TimeoutError("EventBase.loop(EVLOOP_NONBLOCK) did not return in 30 s")


EventMachine.TestCase.settings = PROFILE
TestEventMachine = pytest.mark.fuzz(EventMachine.TestCase)
