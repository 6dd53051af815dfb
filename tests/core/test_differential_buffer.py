"""Differential tests of Evbuffer and Bufferevent against the real libevent 2.1.

The same operations run on libevent (through ctypes, ``libevent_buffer_ctypes``)
and on evloop, and what happened must be equal.  libevent is the oracle;
a harness that is broken on both sides the same way cannot pass, because
libevent's side is itself checked first:

* Evbuffer: seeded random operation sequences run in lockstep on a libevent
  evbuffer and an evloop Evbuffer; after every operation the return values,
  the full contents of the buffers and the callbacks' (orig_size, n_added,
  n_deleted) must agree.  libevent's results are also checked against a
  plain ``bytes`` model of the buffer (contents, and what remove, copyout,
  readln, search and search_eol return), and a fixed sequence has its
  callback log written down.
* Bufferevent: scenarios (plain functions of a :class:`BRun`) make
  socket bufferevents over ``socket.socketpair()`` (TCP on 127.0.0.1 for
  connect and listener), and bufferevent pairs, and run the loop in
  EVLOOP_ONCE / EVLOOP_NONBLOCK passes.  libevent's bufferevents run on a
  libevent event_base, evloop's on an evloop EventBase; the scenario is
  the same code, so both make the same calls in the same order.  The trace
  records every callback with (name, what, get_enabled() inside eventcb,
  input/output lengths); libevent's trace must equal the expected trace
  written below, then evloop's must equal libevent's.  Running, comparing,
  retrying and the watchdog are ``diffharness``'s, as for
  test_differential.py.

Determinism (see also test_differential.py): only order is compared, never
durations (timeouts are 20-40 ms); scenarios make one fd ready per pass
where two fds could race (libevent's poll/select start their scan at a
random fd), or keep the racing part out of the ordered trace (connect_listener).

Where evloop disagrees with libevent the test still asserts libevent's
behaviour and is a strict xfail that says how evloop differs.
"""
import random
import socket

import pytest

try:  # tests/core may or may not be a package
    from . import diffharness as dh
    from . import libevent_buffer_ctypes as lb
    from . import libevent_ctypes as lev
except ImportError:
    import diffharness as dh
    import libevent_buffer_ctypes as lb
    import libevent_ctypes as lev

import evloop

pytestmark = pytest.mark.libevent

EV_READ = lev.EV_READ
EV_WRITE = lev.EV_WRITE
EVLOOP_ONCE = lev.EVLOOP_ONCE
EVLOOP_NONBLOCK = lev.EVLOOP_NONBLOCK
ONB = EVLOOP_ONCE | EVLOOP_NONBLOCK

EOL_STYLES = [lb.EVBUFFER_EOL_ANY, lb.EVBUFFER_EOL_CRLF, lb.EVBUFFER_EOL_CRLF_STRICT,
              lb.EVBUFFER_EOL_LF, lb.EVBUFFER_EOL_NUL]

R, W = lb.BEV_EVENT_READING, lb.BEV_EVENT_WRITING
EOF, ERROR = lb.BEV_EVENT_EOF, lb.BEV_EVENT_ERROR
TIMEOUT, CONNECTED = lb.BEV_EVENT_TIMEOUT, lb.BEV_EVENT_CONNECTED
DEFER = lb.BEV_OPT_DEFER_CALLBACKS
CLOSE = lb.BEV_OPT_CLOSE_ON_FREE


def _load_or_skip():
    dh.libevent_or_skip(lb.load)


# ===========================================================================
# Evbuffer
# ===========================================================================

REFUSED = "refused"


class _Buffers:
    """Three evbuffers on one side: ``bufs["b"]`` (under test), ``"src"``
    (feeds add_buffer) and ``"dst"`` (receives remove_buffer), and ``log``,
    one callback log for the three: (buffer, orig_size, n_added,
    n_deleted).  ``op(name, *args)`` runs ``op_<name>(b, *args)``.

    Here is what both sides share: readln and the searches, which differ
    only in how a pointer is set (``_ptr_set``: 0 or REFUSED).  Pointers
    are made fresh for each search: libevent invalidates them on any
    change, evloop keeps their position (documented); only the
    fresh-pointer behaviour is common to both."""

    def __init__(self):
        self.bufs = {n: self.buffer_type() for n in ("b", "src", "dst")}
        self.log = []
        for n, buf in self.bufs.items():
            buf.add_cb(self._logger(n))

    def length(self):
        return len(self.bufs["b"])

    def op(self, op, *args):
        return getattr(self, "op_" + op)(self.bufs["b"], *args)

    def op_readln(self, b, style):
        return b.readln(style)

    def op_freeze(self, b, which, at_front):
        return self._freeze("freeze", which, at_front)

    def op_unfreeze(self, b, which, at_front):
        return self._freeze("unfreeze", which, at_front)

    def _ptr(self, b, pos):
        """A pointer set to pos, or REFUSED if ptr_set refuses."""
        if pos is None:
            return None
        p = self.ptr_type()
        return p if self._ptr_set(b, p, pos, add=False) == 0 else REFUSED

    def op_ptr_set(self, b, pos, add):
        p = self._ptr(b, pos)
        if p is REFUSED:
            return REFUSED, None
        return self._ptr_set(b, p, add, add=True), p.pos

    def op_search(self, b, what, start):
        p = self._ptr(b, start)
        return REFUSED if p is REFUSED else b.search(what, p).pos

    def op_search_range(self, b, what, start, end):
        p, e = self._ptr(b, start), self._ptr(b, end)
        if REFUSED in (p, e):
            return REFUSED
        return b.search_range(what, p, e).pos

    def op_search_eol(self, b, start, style):
        p = self._ptr(b, start)
        if p is REFUSED:
            return REFUSED
        ptr, eol_len = b.search_eol(p, style)
        return ptr.pos, eol_len

    def free(self):
        for buf in self.bufs.values():
            buf.free()


class LibeventBuffers(_Buffers):
    """The three buffers as libevent evbuffers; -1 is recorded as REFUSED."""

    name = "libevent"
    buffer_type = lb.Evbuffer
    ptr_type = lb.EvbufferPtr

    def __init__(self):
        super().__init__()
        self.frozen = set()   # (buffer, at_front), to read contents past a freeze

    def _logger(self, n):
        return lambda o, a, d: self.log.append((n, o, a, d))

    @staticmethod
    def _rc(rv):
        return REFUSED if rv == -1 else rv

    def contents(self, n):
        """Every byte of buffer n, without callbacks or a change (a frozen
        front refuses copyout, so it is lifted around the copy)."""
        buf = self.bufs[n]
        front = (n, True) in self.frozen
        if front:
            buf.unfreeze(True)
        try:
            return buf.contents()
        finally:
            if front:
                buf.freeze(True)

    def op_add(self, b, data):
        return self._rc(b.add(data))

    def op_prepend(self, b, data):
        return self._rc(b.prepend(data))

    def op_add_buffer(self, b, data):
        self.bufs["src"].add(data)
        return self._rc(b.add_buffer(self.bufs["src"]))

    def op_remove(self, b, n):
        rv, data = b.remove(n)
        return REFUSED if rv == -1 else data

    def op_remove_buffer(self, b, n):
        return self._rc(b.remove_buffer(self.bufs["dst"], n))

    def op_drain(self, b, n):
        return self._rc(b.drain(n))

    def op_copyout(self, b, n):
        rv, data = b.copyout(n)
        return REFUSED if rv == -1 else data

    def op_pullup(self, b, n):
        return b.pullup(n)

    def _freeze(self, op, which, at_front):
        rv = getattr(self.bufs[which], op)(at_front)
        if rv == 0:
            (self.frozen.add if op == "freeze" else self.frozen.discard)((which, at_front))
        return self._rc(rv)

    def _ptr_set(self, b, p, n, add):
        """evbuffer_ptr_set(PTR_ADD if add else PTR_SET): -1 is REFUSED."""
        return self._rc(b.ptr_set(p, n, lb.EVBUFFER_PTR_ADD if add else lb.EVBUFFER_PTR_SET))


class EvloopBuffers(_Buffers):
    """The same three buffers as evloop Evbuffers.  evloop raises
    RuntimeError where libevent returns -1 (frozen buffer) and ValueError
    for a position past the end (libevent: ptr_set returns -1): both are
    recorded as REFUSED.

    Only what both define is compared (documented evloop differences in
    evloop/core/buffer.pyx): pullup(0) is an empty view, not NULL (mapped
    below); EvbufferPtr keeps its position after a change, where libevent's
    becomes invalid (pointers are made fresh for every search); peek() cuts
    its last extent to n bytes (not compared at all: contents are compared
    whole instead)."""

    name = "evloop"
    buffer_type = evloop.Evbuffer
    ptr_type = evloop.EvbufferPtr

    def _logger(self, n):
        return lambda _buf, info, _arg: self.log.append(
            (n, info.orig_size, info.n_added, info.n_deleted))

    def contents(self, n):
        return bytes(self.bufs[n])

    def op(self, op, *args):
        try:
            return super().op(op, *args)
        except RuntimeError:
            if op == "readln":
                # readln's failure value in C is NULL (it returns NULL, and
                # drains nothing, when the front is frozen), the same NULL as
                # "no complete line"; evloop raises RuntimeError instead.
                # NULL is the only refusal readln can express, so the two
                # are the same outcome.
                return None
            return REFUSED

    def op_add(self, b, data):
        b.add(data)
        return 0

    def op_prepend(self, b, data):
        b.prepend(data)
        return 0

    def op_add_buffer(self, b, data):
        try:
            self.bufs["src"].add(data)
        except RuntimeError:
            pass        # src's back is frozen: libevent's add is refused too
        b.add_buffer(self.bufs["src"])
        return 0

    def op_remove(self, b, n):
        return b.remove(n)

    def op_remove_buffer(self, b, n):
        return b.remove_buffer(self.bufs["dst"], n)

    def op_drain(self, b, n):
        b.drain(n)
        return 0

    def op_copyout(self, b, n):
        return b.copyout(n)

    def op_pullup(self, b, n):
        view = b.pullup(n)
        if n == 0 or (n == -1 and len(b) == 0):
            # Documented difference: evloop's pullup(0) (and pullup(-1)
            # of an empty buffer) returns an empty view where libevent
            # returns NULL; compared as libevent's NULL.
            assert view is not None and len(view) == 0
            return None
        return None if view is None else bytes(view)

    def _freeze(self, op, which, at_front):
        getattr(self.bufs[which], op)(at_front)
        return 0

    def _ptr_set(self, b, p, n, add):
        """ptr_set(PTR_ADD if add else PTR_SET): ValueError is REFUSED."""
        try:
            b.ptr_set(p, n, evloop.EVBUFFER_PTR_ADD if add else evloop.EVBUFFER_PTR_SET)
        except ValueError:
            return REFUSED
        return 0


# -- a bytes model of libevent's evbuffer, to check libevent's side ---------

def model_eol(data, start, style):
    """(pos, eol_len) of the first end of line at or after start, or
    (-1, 0): evbuffer_search_eol as include/event2/buffer.h documents it."""
    if style == lb.EVBUFFER_EOL_ANY:
        for i in range(start, len(data)):
            if data[i] in b"\r\n":
                j = i
                while j < len(data) and data[j] in b"\r\n":
                    j += 1
                return i, j - i
        return -1, 0
    if style == lb.EVBUFFER_EOL_CRLF:
        i = data.find(b"\n", start)
        if i < 0:
            return -1, 0
        if i > start and data[i - 1:i] == b"\r":
            return i - 1, 2
        return i, 1
    sep = {lb.EVBUFFER_EOL_CRLF_STRICT: b"\r\n", lb.EVBUFFER_EOL_LF: b"\n",
           lb.EVBUFFER_EOL_NUL: b"\0"}[style]
    i = data.find(sep, start)
    return (i, len(sep)) if i >= 0 else (-1, 0)


def model_check(before, op, args, result, after, src_before, dst_before, dst_after, frozen):
    """Assert that libevent's result and contents are what a bytes model
    predicts (for a refused operation: that nothing changed).  src_before:
    src's contents before add_buffer's data was added to it."""
    def expect(value, contents):
        assert result == value, ("model", op, args, result, value)
        assert after == contents, ("model contents", op, args)

    if result == REFUSED and op not in ("ptr_set", "search", "search_range", "search_eol"):
        assert after == before and dst_after == dst_before, ("refused but changed", op, args)
        return
    if op == "add":
        expect(0, before + args[0])
    elif op == "add_buffer":
        # src got the data first (unless its back is frozen), then all of src moved
        added = b"" if ("src", False) in frozen else args[0]
        expect(0, before + src_before + added)
    elif op == "prepend":
        expect(0, args[0] + before)
    elif op == "remove":
        expect(before[:args[0]], before[args[0]:])
    elif op == "remove_buffer":
        n = min(args[0], len(before))
        expect(n, before[n:])
        assert dst_after == dst_before + before[:n]
    elif op == "drain":
        expect(0, before[args[0]:])
    elif op == "copyout":
        expect(before[:args[0]], before)
    elif op == "pullup":
        n = len(before) if args[0] < 0 else args[0]
        expect(before[:n] if 0 < n <= len(before) else None, before)
    elif op == "readln":
        pos, eol_len = model_eol(before, 0, args[0])
        if pos < 0 or ("b", True) in frozen:     # a frozen front: NULL
            expect(None, before)
        else:
            expect(before[:pos], before[pos + eol_len:])
    elif op == "search":
        what, start = args
        start = start or 0
        if start > len(before):
            expect(REFUSED, before)
        else:
            expect(before.find(what, start), before)
    elif op == "search_range":
        what, start, end = args
        if (start or 0) > len(before) or (end is not None and end > len(before)):
            expect(REFUSED, before)
        elif not what:
            expect(start or 0, before)      # an empty needle matches at start, end or not
        else:
            expect(before.find(what, start or 0, len(before) if end is None else end), before)
    elif op == "search_eol":
        start, style = args
        if (start or 0) > len(before):
            expect(REFUSED, before)
        else:
            expect(model_eol(before, start or 0, style), before)
    elif op == "ptr_set":
        pos, add = args
        if pos > len(before):
            expect((REFUSED, None), before)
        elif pos + add > len(before):
            expect((REFUSED, -1), before)
        else:
            expect((0, pos + add), before)
    elif op in ("freeze", "unfreeze"):
        expect(0, before)
    else:  # pragma: no cover
        raise AssertionError(op)


# -- random sequences --------------------------------------------------------

ALPHABET = b"aab\r\n\0x"


def random_data(rng):
    if rng.random() < 0.1:
        n = rng.randrange(1500, 5000)      # crosses chunk sizes; evloop
    else:                                   # references big bytes
        n = rng.randrange(0, 24)
    return bytes(rng.choice(ALPHABET) for _ in range(n))


def random_op(rng, length, frozen):
    """One operation, drawn from the current length of the buffer."""
    def size():
        return rng.choice([0, 1, rng.randrange(0, length + 4), length, length + 3])

    def pos(allow_none=True):
        if allow_none and rng.random() < 0.3:
            return None
        return rng.randrange(0, length + 2)

    def needle():
        k = rng.choice([1, 1, 2, 2, 3, 0])
        return bytes(rng.choice(b"ab\r\n\0") for _ in range(k))

    kind = rng.choices(
        ["add", "prepend", "add_buffer", "remove", "remove_buffer", "drain", "copyout",
         "pullup", "readln", "search", "search_range", "search_eol", "ptr_set", "freeze"],
        weights=[10, 5, 5, 6, 4, 4, 4, 3, 10, 5, 4, 5, 2, 3])[0]
    if kind in ("add", "prepend", "add_buffer"):
        return kind, (random_data(rng),)
    if kind in ("remove", "remove_buffer", "drain", "copyout"):
        return kind, (size(),)
    if kind == "pullup":
        return kind, (rng.choice([-1, 0, size()]),)
    if kind == "readln":
        return kind, (rng.choice(EOL_STYLES),)
    if kind == "search":
        return kind, (needle(), pos())
    if kind == "search_range":
        return kind, (needle(), pos(), pos())
    if kind == "search_eol":
        return kind, (pos(), rng.choice(EOL_STYLES))
    if kind == "ptr_set":
        return kind, (rng.randrange(0, length + 2), rng.randrange(0, 6))
    # freeze / unfreeze a side of b, or of src/dst (which then refuse
    # add_buffer / remove_buffer).
    which = rng.choice(["b", "b", "b", "src", "dst"])
    at_front = rng.random() < 0.5
    if (which, at_front) in frozen:
        return "unfreeze", (which, at_front)
    return "freeze", (which, at_front)


# Operations on a frozen buffer where evloop and libevent differ (each
# covered in test_evbuffer_frozen as a strict xfail; the random sequences do
# not issue them while the condition holds).  None at present.
FROZEN_DISAGREEMENTS = {}


def frozen_disagreement(op, args, frozen, lens):
    """The reason evloop is known to differ on this operation, or None."""
    for reason, cond in FROZEN_DISAGREEMENTS.items():
        if cond(op, args, frozen, lens):
            return reason
    return None


def run_sequence(seed, nops=60):
    _load_or_skip()
    rng = random.Random(seed)
    le, ev = LibeventBuffers(), EvloopBuffers()
    frozen = set()
    try:
        for step in range(nops):
            op, args = random_op(rng, le.length(), frozen)
            lens = {n: len(le.bufs[n]) for n in le.bufs}
            if frozen and frozen_disagreement(op, args, frozen, lens):
                continue
            before = le.contents("b")
            src_before = le.contents("src")
            dst_before = le.contents("dst")
            mark = len(le.log), len(ev.log)
            r_le = le.op(op, *args)
            r_ev = ev.op(op, *args)
            where = f"seed {seed} step {step}: {op}{args!r:.80}"
            after = le.contents("b")
            model_check(before, op, args, r_le, after, src_before, dst_before,
                        le.contents("dst"), frozen)
            assert r_ev == r_le, f"{where}\nlibevent: {r_le!r:.200}\nevloop:   {r_ev!r:.200}"
            for n in ("b", "src", "dst"):
                assert ev.contents(n) == le.contents(n), f"{where}: contents of {n} differ"
            assert ev.log[mark[1]:] == le.log[mark[0]:], (
                f"{where}: callbacks\nlibevent: {le.log[mark[0]:]}\nevloop:   {ev.log[mark[1]:]}")
            if op in ("freeze", "unfreeze") and r_le == 0:
                (frozen.add if op == "freeze" else frozen.discard)(args)
    finally:
        le.free()
        ev.free()


@pytest.mark.parametrize("seed", range(30))
def test_evbuffer_random_sequence(seed):
    run_sequence(seed)


# A fixed sequence with libevent's callback log written down: guards the
# callback plumbing of both bindings.
FIXED_OPS = [
    ("add", (b"one\r\ntwo\n",)), ("prepend", (b">",)), ("readln", (lb.EVBUFFER_EOL_CRLF,)),
    ("add_buffer", (b"xyz",)), ("remove", (2,)), ("drain", (100,)), ("drain", (0,)),
    ("copyout", (3,)), ("add", (b"",)), ("add", (b"q",)), ("freeze", ("b", True)),
    ("drain", (1,)), ("add", (b"r",)), ("unfreeze", ("b", True)), ("remove_buffer", (1,)),
]
EXPECT_FIXED_LOG = [
    ("b", 0, 9, 0),                    # add 9
    ("b", 9, 1, 0),                    # prepend 1
    ("b", 10, 0, 4), ("b", 6, 0, 2),   # readln: the line, then its terminator
    ("src", 0, 3, 0), ("src", 3, 0, 3), ("b", 4, 3, 0),  # src filled, moved to b
    ("b", 7, 0, 2),                    # remove 2
    ("b", 5, 0, 5),                    # drain all; drain(0), copyout, add(b"") report nothing
    ("b", 0, 1, 0),                    # add "q"
    ("b", 1, 1, 0),                    # add "r" while the front is frozen
    ("dst", 0, 1, 0), ("b", 2, 0, 1),  # remove_buffer 1: dst's callbacks first
]
EXPECT_FIXED_RESULTS = [0, 0, b">one", 0, b"tw", 0, 0, b"", 0, 0, 0, REFUSED, 0, 0, 1]


def on_both_buffers(fn):
    """[fn(libevent's buffers), fn(evloop's buffers)], each set freed after."""
    out = []
    for impl_cls in (LibeventBuffers, EvloopBuffers):
        impl = impl_cls()
        try:
            out.append(fn(impl))
        finally:
            impl.free()
    return out


def test_evbuffer_fixed_sequence():
    _load_or_skip()
    le, ev = on_both_buffers(
        lambda impl: ([impl.op(op, *args) for op, args in FIXED_OPS], impl.log))
    assert le == (EXPECT_FIXED_RESULTS, EXPECT_FIXED_LOG)
    assert ev == le


# -- freezing: every refusing operation on each frozen side -----------------

FREEZE_OPS = [
    ("add", (b"zz",)), ("add", (b"",)), ("prepend", (b"zz",)), ("prepend", (b"",)),
    ("add_buffer", (b"zz",)), ("add_buffer", (b"",)),
    ("remove", (2,)), ("remove", (0,)), ("remove_buffer", (2,)), ("remove_buffer", (0,)),
    ("drain", (2,)),
    ("drain", (0,)), ("copyout", (2,)), ("copyout", (0,)), ("pullup", (2,)),
    ("readln", (lb.EVBUFFER_EOL_LF,)), ("search", (b"b", None)),
    ("search_eol", (None, lb.EVBUFFER_EOL_LF)),
]
FREEZE_CASES = [(side, contents, op, args)
                for side in ("front", "back")
                for contents in (b"", b"ab\ncd")
                for op, args in FREEZE_OPS]


def freeze_case_id(case):
    side, contents, op, args = case
    return f"{side}-{'empty' if not contents else 'data'}-{op}({args[0]!r})"


def run_freeze_case(side, contents, op, args):
    """Returns (libevent's (result, contents, callbacks), evloop's)."""
    def case(impl):
        if contents:
            impl.op("add", contents)
        impl.op("freeze", "b", side == "front")
        mark = len(impl.log)
        result = impl.op(op, *args)
        return result, impl.contents("b"), impl.log[mark:]
    return on_both_buffers(case)


def _xfail_case(case):
    side, contents, op, args = case
    reason = frozen_disagreement(op, args, {("b", side == "front")},
                                 {"b": len(contents), "src": 0, "dst": 0})
    if reason is not None:
        return pytest.param(case, id=freeze_case_id(case),
                            marks=pytest.mark.xfail(strict=True, reason=reason))
    return pytest.param(case, id=freeze_case_id(case))


@pytest.mark.parametrize("case", [_xfail_case(c) for c in FREEZE_CASES])
def test_evbuffer_frozen(case):
    """libevent refuses with -1 (readln: NULL), evloop raises RuntimeError:
    both are "refused"; the contents and callbacks must agree too."""
    _load_or_skip()
    side, contents, op, args = case
    le, ev = run_freeze_case(side, contents, op, args)
    assert ev == le, f"\nlibevent: {le}\nevloop:   {ev}"


# ===========================================================================
# Bufferevents
# ===========================================================================

class _SameOnBoth:
    """The bufferevent calls spelled the same on libevent_buffer_ctypes'
    Bufferevent and evloop's."""

    def get_enabled(self, bev):
        return bev.get_enabled()

    def read(self, bev, n):
        return bev.read(n)

    def setwatermark(self, bev, events, low, high):
        bev.setwatermark(events, low, high)

    def trigger(self, bev, iotype, options):
        bev.trigger(iotype, options)

    def trigger_event(self, bev, what, options):
        bev.trigger_event(what, options)

    def partner(self, bev):
        return bev.get_partner()

    def free_bev(self, bev):
        bev.free()


class LibeventBevs(_SameOnBoth, dh.LibeventSide):
    """Bufferevents on a libevent event_base (libevent_buffer_ctypes); the
    base, method(), loop(), loopbreak() and free() come from diffharness."""

    base_cls = lb.BufferBase

    def socket_new(self, fd, options):
        return self.base.bufferevent_socket_new(fd, options)

    def pair_new(self, options):
        return self.base.bufferevent_pair_new(options)

    def setcb(self, bev, readcb, writecb, eventcb):
        bev.setcb(readcb, writecb, eventcb)

    def enable(self, bev, what):
        return bev.enable(what)

    def disable(self, bev, what):
        return bev.disable(what)

    def write(self, bev, data):
        return bev.write(data)

    def lens(self, bev):
        return bev.input_length(), bev.output_length()

    def set_timeouts(self, bev, tr, tw):
        return bev.set_timeouts(tr, tw)

    def connect(self, bev, address):
        return bev.socket_connect(address)

    def flush(self, bev, iotype, mode):
        return bev.flush(iotype, mode)

    def listen(self, fn):
        lst = self.base.listener_new_bind(fn, lb.LEV_OPT_CLOSE_ON_FREE | lb.LEV_OPT_REUSEABLE,
                                          -1, ("127.0.0.1", 0))
        return lst.address()


_rc = dh.rc


class EvloopBevs(_SameOnBoth, dh.EvloopSide):
    """Bufferevents on an evloop EventBase (made by diffharness)."""

    def __init__(self, method):
        super().__init__(method)
        self.bevs = []
        self.listeners = []

    def socket_new(self, fd, options):
        bev = evloop.Bufferevent(self.base, fd, options)
        self.bevs.append(bev)
        return bev

    def pair_new(self, options):
        pair = evloop.Bufferevent.pair(self.base, options)
        self.bevs += pair
        return pair

    def setcb(self, bev, readcb, writecb, eventcb):
        bev.setcb(readcb and (lambda b, _arg: readcb(b)),
                  writecb and (lambda b, _arg: writecb(b)),
                  eventcb and (lambda b, what, _arg: eventcb(b, what)))

    def enable(self, bev, what):
        return _rc(bev.enable, what)

    def disable(self, bev, what):
        return _rc(bev.disable, what)

    def write(self, bev, data):
        return _rc(bev.write, data)

    def lens(self, bev):
        return len(bev.get_input()), len(bev.get_output())

    def set_timeouts(self, bev, tr, tw):
        return _rc(bev.set_timeouts, tr, tw)

    def connect(self, bev, address):
        return _rc(bev.socket_connect, address)

    def flush(self, bev, iotype, mode):
        try:
            return bev.flush(iotype, mode)
        except (RuntimeError, ValueError):
            return -1

    def listen(self, fn):
        lst = evloop.Listener.bind(self.base, lambda _l, fd, _addr, _arg: fn(fd), None,
                                   evloop.LEV_OPT_CLOSE_ON_FREE | evloop.LEV_OPT_REUSEABLE,
                                   -1, ("127.0.0.1", 0))
        self.listeners.append(lst)
        s = socket.socket(fileno=lst.get_fd())
        try:
            return s.getsockname()
        finally:
            s.detach()

    def free(self):
        for lst in self.listeners:
            lst.free()
        for bev in self.bevs:
            bev.free()
        super().free()


class BRun(dh.TraceRun):
    """What a bufferevent scenario sees: bufferevents by name, a trace,
    per-callback actions (keyed (name, kind); the trace, socketpair(),
    note(), loop() and close() come from diffharness.TraceRun).

    Trace entries: ("read", name, in, out), ("write", name, in, out),
    ("event", name, what, get_enabled(), in, out) for callbacks (in/out are
    the input/output lengths inside the callback, passed through the
    bufferevent's ``lens`` function if the scenario gave one), ("loop",
    flags, rv), ("lens", name, in, out), and the non-zero return codes of
    operations."""

    def __init__(self, impl):
        super().__init__(impl)
        self.bevs = {}
        self.lens_fn = {}

    def adopt(self, fd):
        """An accepted fd: closed with the run."""
        self.socks.append(socket.socket(fileno=fd))

    # -- bufferevents ----------------------------------------------------
    def _lens(self, name):
        lens = self.impl.lens(self.bevs[name])
        fn = self.lens_fn.get(name)
        return fn(*lens) if fn else lens

    def _install(self, name, lens, cbs="rwe"):
        bev = self.bevs[name]
        if lens is not None:
            self.lens_fn[name] = lens

        def fire(kind, what=None):
            if kind == "event":
                entry = ("event", name, what, self.impl.get_enabled(self.bevs[name]))
            else:
                entry = (kind, name)
            self.trace.append(entry + self._lens(name))
            self._act((name, kind), what)

        self.impl.setcb(bev, (lambda b: fire("read")) if "r" in cbs else None,
                        (lambda b: fire("write")) if "w" in cbs else None,
                        (lambda b, what: fire("event", what)) if "e" in cbs else None)

    def bev(self, name, fd=-1, options=0, lens=None, cbs="rwe"):
        """A socket bufferevent; ``cbs`` says which of readcb, writecb and
        eventcb are set ("r", "w", "e"; the others are NULL)."""
        fd = self.fileno(fd)
        assert name not in self.bevs
        self.bevs[name] = self.impl.socket_new(fd, options)
        self._install(name, lens, cbs)

    def pair(self, a, b, options=0, lens=None):
        self.bevs[a], self.bevs[b] = self.impl.pair_new(options)
        self._install(a, lens)
        self._install(b, lens)

    def on(self, name, kind, action):
        """action(run, what, n) after the n-th (name, kind) callback."""
        self.actions[(name, kind)] = action

    def enable(self, name, what):
        return self._rc("enable", name, self.impl.enable(self.bevs[name], what))

    def disable(self, name, what):
        return self._rc("disable", name, self.impl.disable(self.bevs[name], what))

    def enabled(self, name):
        self.trace.append(("enabled", name, self.impl.get_enabled(self.bevs[name])))

    def write(self, name, data):
        return self._rc("write", name, self.impl.write(self.bevs[name], data))

    def read(self, name, n):
        data = self.impl.read(self.bevs[name], n)
        self.trace.append(("read-data", name, data))
        return data

    def lens(self, name):
        self.trace.append(("lens", name) + self._lens(name))

    def setwatermark(self, name, events, low, high):
        self.impl.setwatermark(self.bevs[name], events, low, high)

    def set_timeouts(self, name, tr=None, tw=None):
        return self._rc("set_timeouts", name, self.impl.set_timeouts(self.bevs[name], tr, tw))

    def connect(self, name, address):
        return self._rc("connect", name, self.impl.connect(self.bevs[name], address))

    def flush(self, name, iotype, mode):
        rv = self.impl.flush(self.bevs[name], iotype, mode)
        self.trace.append(("flush", name, rv))
        return rv

    def trigger(self, name, iotype, options=0):
        self.impl.trigger(self.bevs[name], iotype, options)

    def trigger_event(self, name, what, options=0):
        self.impl.trigger_event(self.bevs[name], what, options)

    def partner(self, name):
        p = self.impl.partner(self.bevs[name])
        found = [n for n, b in self.bevs.items() if p is not None and b is p]
        self.trace.append(("partner", name, found[0] if found else None))

    def free(self, name):
        self.impl.free_bev(self.bevs.pop(name))

    def listen(self, name):
        """A listener on 127.0.0.1:0; accepted connections are recorded as
        ("accept", name) and closed with the run.  Returns the address."""
        def on_accept(fd):
            self.adopt(fd)
            self.trace.append(("accept", name))
        return self.impl.listen(on_accept)


# Shorthands for expected traces.
def rd(name, i, o):
    return ("read", name, i, o)


def wr(name, i, o):
    return ("write", name, i, o)


def evt(name, what, enabled, i, o):
    return ("event", name, what, enabled, i, o)


def L(rv, flags=ONB):
    return ("loop", flags, rv)


def lens(name, i, o):
    return ("lens", name, i, o)


# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------

def sc_read_low_watermark(r):
    """readcb only when the input holds >= the read low watermark; bytes
    below it are read anyway and wait in the input."""
    a, b = r.socketpair()
    r.bev("B", b)
    r.setwatermark("B", EV_READ, 5, 0)
    r.enable("B", EV_READ)
    a.send(b"abc")
    r.loop(ONB)                       # reads 3, no readcb
    r.lens("B")
    a.send(b"de")
    r.loop(ONB)                       # 5: readcb
    a.send(b"f")
    r.loop(ONB)                       # 6 >= 5: readcb again
    r.read("B", 4)
    a.send(b"g")
    r.loop(ONB)                       # 3 < 5: none


EXPECT_READ_LOW_WATERMARK = [
    L(0), lens("B", 3, 0), rd("B", 5, 0), L(0), rd("B", 6, 0), L(0),
    ("read-data", "B", b"abcd"), L(0),
]


def sc_read_high_watermark(r):
    """Reading stops at the read high watermark (a read takes at most what
    fits under it) and resumes when the input is drained below it.  No
    readcb here: see the next scenario for what a readcb changes."""
    a, b = r.socketpair()
    r.bev("B", b, cbs="we")
    r.setwatermark("B", EV_READ, 0, 8)
    r.enable("B", EV_READ)
    a.send(b"x" * 20)
    r.loop(ONB)                       # reads 8, suspended
    r.lens("B")
    r.loop(ONB)                       # nothing: suspended (no event left: 1)
    r.lens("B")
    r.read("B", 3)                    # 5 < 8: resumes
    r.loop(ONB)                       # reads 3 more: 8 again
    r.lens("B")
    r.read("B", 8)
    r.loop(ONB)                       # 8 of the 9 left
    r.lens("B")
    r.enabled("B")
    a.shutdown(socket.SHUT_WR)
    r.read("B", 4)
    r.loop(ONB)                       # the last one
    r.loop(ONB)                       # EOF
    r.lens("B")


EXPECT_READ_HIGH_WATERMARK = [
    L(0), lens("B", 8, 0), L(1), lens("B", 8, 0), ("read-data", "B", b"xxx"), L(0),
    lens("B", 8, 0), ("read-data", "B", b"x" * 8), L(0), lens("B", 8, 0),
    ("enabled", "B", EV_READ | EV_WRITE), ("read-data", "B", b"xxxx"), L(0),
    evt("B", R | EOF, EV_WRITE, 5, 0), L(0), lens("B", 5, 0),
]


def sc_read_high_watermark_recall(r):
    """libevent >= 2.1.9: a readcb that leaves the input at or above the
    high watermark is called again (deferred) -- here it drains everything
    only from its second call on.  (A readcb that never drains would be
    called forever.)"""
    a, b = r.socketpair()
    r.bev("B", b)
    r.setwatermark("B", EV_READ, 0, 8)
    r.enable("B", EV_READ)
    r.on("B", "read", lambda r, what, n: r.read("B", 8) if n >= 2 else None)
    a.send(b"y" * 20)
    for _ in range(4):
        r.loop(ONB)


EXPECT_READ_HIGH_WATERMARK_RECALL = [
    rd("B", 8, 0), rd("B", 8, 0), ("read-data", "B", b"y" * 8), L(0),
    rd("B", 8, 0), ("read-data", "B", b"y" * 8), L(0),
    rd("B", 4, 0), ("read-data", "B", b"yyyy"), L(0),
    L(0),
]


def sc_write_low_watermark(r):
    """writecb after a write leaves the output at or below the write low
    watermark: 40000 bytes go out 16384 at a time (max_single_write), so
    the first write leaves 23616 (> 20000, no writecb), the second 7232,
    the third 0."""
    a, b = r.socketpair()
    r.bev("A", a)
    r.setwatermark("A", EV_WRITE, 20000, 0)
    r.write("A", b"w" * 40000)
    r.lens("A")
    for _ in range(4):
        r.loop(ONB)


EXPECT_WRITE_LOW_WATERMARK = [
    lens("A", 0, 40000), L(0), wr("A", 0, 7232), L(0), wr("A", 0, 0), L(0), L(1),
]


def sc_enable_write_empty(r):
    """enable(EV_WRITE) on an empty output: one writecb (the write event
    finds nothing to write, removes itself and reports "drained")."""
    a, _b = r.socketpair()
    r.bev("A", a)
    r.enabled("A")                    # EV_WRITE, but no event added yet
    r.loop(ONB)
    r.enable("A", EV_WRITE)
    r.loop(ONB)
    r.loop(ONB)


EXPECT_ENABLE_WRITE_EMPTY = [
    ("enabled", "A", EV_WRITE), L(1), wr("A", 0, 0), L(0), L(1),
]


def sc_eof_after_shutdown(r):
    """The peer shuts down writing: data first, then READING|EOF with
    EV_READ already disabled inside the eventcb."""
    a, b = r.socketpair()
    r.bev("B", b)
    r.enable("B", EV_READ)
    a.send(b"last")
    a.shutdown(socket.SHUT_WR)
    r.loop(ONB)
    r.loop(ONB)
    r.enabled("B")
    r.loop(ONB)


EXPECT_EOF_AFTER_SHUTDOWN = [
    rd("B", 4, 0), L(0), evt("B", R | EOF, EV_WRITE, 4, 0), L(0), ("enabled", "B", EV_WRITE), L(1),
]


def sc_peer_close_pending(r):
    """The peer sends and closes while we still have output queued: the
    unread data arrives, then EOF; the queued output fails with
    WRITING|ERROR (EPIPE).  Reading and writing use one fd, so each step
    is its own pass."""
    a, b = r.socketpair()
    r.bev("B", b)
    r.enable("B", EV_READ)
    a.send(b"bye")
    a.close()
    r.socks.remove(a)
    r.loop(ONB)                       # read 3
    r.loop(ONB)                       # EOF
    r.write("B", b"too late")
    r.loop(ONB)                       # EPIPE
    r.enabled("B")
    r.loop(ONB)


EXPECT_PEER_CLOSE_PENDING = [
    rd("B", 3, 0), L(0), evt("B", R | EOF, EV_WRITE, 3, 0), L(0),
    evt("B", W | ERROR, 0, 3, 8), L(0), ("enabled", "B", 0), L(1),
]


def sc_read_timeout(r):
    """Nothing arrives: READING|TIMEOUT, reading disabled before eventcb;
    nothing pending afterwards, so the loop ends."""
    _a, b = r.socketpair()
    r.bev("B", b)
    r.set_timeouts("B", 0.020, None)
    r.enable("B", EV_READ)
    r.loop(0)


EXPECT_READ_TIMEOUT = [evt("B", R | TIMEOUT, EV_WRITE, 0, 0), L(1, 0)]


def sc_read_timeout_restarts(r):
    """Each successful read restarts the read timeout; the timeout counts
    only while reading is enabled.  B (20 ms) gets data after its first
    pass; C (40 ms) never does: B's timeout still comes before C's because
    a read happened only once, at the start."""
    a, b = r.socketpair()
    _c1, c2 = r.socketpair()
    r.bev("B", b)
    r.bev("C", c2)
    r.set_timeouts("B", 0.020, None)
    r.set_timeouts("C", 0.045, None)
    r.enable("B", EV_READ)
    r.enable("C", EV_READ)
    a.send(b"ping")
    r.loop(ONB)
    r.loop(0)


EXPECT_READ_TIMEOUT_RESTARTS = [
    rd("B", 4, 0), L(0),
    evt("B", R | TIMEOUT, EV_WRITE, 4, 0), evt("C", R | TIMEOUT, EV_WRITE, 0, 0), L(1, 0),
]


def sc_write_timeout(r):
    """The peer never reads: writes stop when the socket buffer is full,
    and WRITING|TIMEOUT comes with EV_WRITE disabled and output left
    (its exact size is the kernel's business: recorded as "some")."""
    a, _b = r.socketpair()
    r.bev("A", a, lens=lambda i, o: (i, "some" if o else 0))
    r.set_timeouts("A", None, 0.030)
    r.write("A", b"z" * (4 * 1024 * 1024))
    r.loop(0)


EXPECT_WRITE_TIMEOUT = [evt("A", W | TIMEOUT, 0, 0, "some"), L(1, 0)]


def sc_defer_trigger_order(r):
    """With BEV_OPT_DEFER_CALLBACKS, callbacks queued in any order run as
    CONNECTED, readcb, writecb, then the other events (OR-ed together)."""
    _a, b = r.socketpair()
    r.bev("B", b, DEFER)
    r.trigger_event("B", R | EOF)
    r.trigger_event("B", W | ERROR)
    r.trigger("B", EV_WRITE)
    r.trigger("B", EV_READ)
    r.trigger_event("B", CONNECTED)
    r.note("queued")
    r.loop(ONB)
    r.loop(ONB)


EXPECT_DEFER_TRIGGER_ORDER = [
    ("queued",), evt("B", CONNECTED, EV_WRITE, 0, 0), rd("B", 0, 0), wr("B", 0, 0),
    evt("B", R | W | EOF | ERROR, EV_WRITE, 0, 0), L(0), L(1),
]


def sc_defer_io_order(r):
    """Deferred callbacks with real I/O on one fd: the read and the write
    happen in one pass, readcb then writecb run after both; EOF comes in
    the next pass."""
    a, b = r.socketpair()
    r.bev("B", b, DEFER)
    r.enable("B", EV_READ)
    r.write("B", b"out")
    a.send(b"in!!")
    a.shutdown(socket.SHUT_WR)
    r.note("written")
    r.loop(ONB)
    r.loop(ONB)
    r.loop(ONB)


EXPECT_DEFER_IO_ORDER = [
    ("written",), rd("B", 4, 0), wr("B", 4, 0), L(0), evt("B", R | EOF, EV_WRITE, 4, 0), L(0),
    L(1),
]


def connect_to_listener(options):
    """bufferevent_socket_connect (with ``options``) to an evconnlistener,
    "hello" queued before the connect.  The accept and the CONNECTED become
    ready in the same poll on two fds (a random order on poll/select) and
    may take a few passes, so loop passes and the accept are taken out of
    the ordered part: the client's callbacks keep their order, the accept
    is counted."""
    def scenario(r):
        addr = r.listen("L")
        r.bev("C", -1, options)
        r.write("C", b"hello")
        r.connect("C", addr)
        for _ in range(50):
            if ("accept", "L") in r.trace and any(e[0] == "write" for e in r.trace):
                break
            r.loop(EVLOOP_ONCE)
        accepts = r.trace.count(("accept", "L"))
        r.trace[:] = [e for e in r.trace if e[0] not in ("loop", "accept")]
        r.note("accepts", accepts)
    return scenario


# CONNECTED, then the output queued before the connect goes out and writecb
# runs.
sc_connect_listener = connect_to_listener(CLOSE)

EXPECT_CONNECT_LISTENER = [
    evt("C", CONNECTED, EV_WRITE, 0, 5), wr("C", 0, 0), ("accepts", 1),
]

# The same with BEV_OPT_DEFER_CALLBACKS: CONNECTED and writecb are queued by
# one pass of the write event and run in that order.
sc_connect_defer = connect_to_listener(CLOSE | DEFER)


EXPECT_CONNECT_DEFER = [
    evt("C", CONNECTED, EV_WRITE, 0, 0), wr("C", 0, 0), ("accepts", 1),
]


def sc_connect_refused(r):
    """Connecting to a port nobody listens on: eventcb(ERROR) alone, from
    the write event that reports the failed connect; EV_WRITE stays in
    get_enabled() (libevent only deletes the events)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                          # nobody listens there now
    r.bev("C", -1, CLOSE)
    r.connect("C", ("127.0.0.1", port))
    r.loop(0)


EXPECT_CONNECT_REFUSED = [evt("C", ERROR, EV_WRITE, 0, 0), L(1, 0)]


def sc_echo_two_ends(r):
    """Bufferevents on both ends of one socketpair: A writes, B's readcb
    echoes back, A reads; each pass has one fd ready."""
    a, b = r.socketpair()
    r.bev("A", a)
    r.bev("B", b)
    r.enable("A", EV_READ)
    r.enable("B", EV_READ)
    r.on("B", "read", lambda r, what, n: r.write("B", r.read("B", 100).upper()))
    r.write("A", b"echo me")
    for _ in range(5):
        r.loop(ONB)


EXPECT_ECHO_TWO_ENDS = [
    wr("A", 0, 0), L(0),
    rd("B", 7, 0), ("read-data", "B", b"echo me"), L(0),
    wr("B", 0, 0), L(0),
    rd("A", 7, 0), L(0),
    L(0),
]


def sc_disable_read(r):
    """disable(EV_READ) stops reading: data waits in the socket until
    enable(EV_READ)."""
    a, b = r.socketpair()
    r.bev("B", b)
    r.enable("B", EV_READ)
    r.disable("B", EV_READ)
    a.send(b"wait")
    r.loop(ONB)
    r.lens("B")
    r.enable("B", EV_READ)
    r.loop(ONB)
    r.enabled("B")


EXPECT_DISABLE_READ = [
    L(1), lens("B", 0, 0), rd("B", 4, 0), L(0), ("enabled", "B", EV_READ | EV_WRITE),
]


def sc_trigger(r):
    """bufferevent_trigger: respects the watermarks unless
    BEV_TRIG_IGNORE_WATERMARKS; runs at once unless BEV_TRIG_DEFER_CALLBACKS
    (then from the loop)."""
    _a, b = r.socketpair()
    r.bev("B", b)
    r.setwatermark("B", EV_READ, 4, 0)
    r.trigger("B", EV_READ)                                   # 0 < 4: nothing
    r.note("plain")
    r.trigger("B", EV_READ, lb.BEV_TRIG_IGNORE_WATERMARKS)     # now
    r.note("ignore")
    r.trigger("B", EV_READ | EV_WRITE, lb.BEV_TRIG_IGNORE_WATERMARKS | lb.BEV_TRIG_DEFER_CALLBACKS)
    r.trigger_event("B", W | TIMEOUT)
    r.trigger_event("B", R | EOF, lb.BEV_TRIG_DEFER_CALLBACKS)
    r.note("deferred")
    r.loop(ONB)


EXPECT_TRIGGER = [
    ("plain",), rd("B", 0, 0), ("ignore",), evt("B", W | TIMEOUT, EV_WRITE, 0, 0), ("deferred",),
    rd("B", 0, 0), wr("B", 0, 0), evt("B", R | EOF, EV_WRITE, 0, 0), L(0),
]


def sc_pair_write(r):
    """A pair moves written bytes into the partner's input at once; the
    partner's readcb and the writer's writecb are deferred (partner
    first)."""
    r.pair("A", "B")
    r.enable("B", EV_READ)
    r.write("A", b"hello")
    r.lens("A")
    r.lens("B")
    r.loop(ONB)
    r.loop(ONB)


EXPECT_PAIR_WRITE = [
    lens("A", 0, 0), lens("B", 5, 0), rd("B", 5, 0), wr("A", 0, 0), L(0), L(1),
]


def sc_pair_read_disabled(r):
    """Data stays in the writer's output while the partner does not read;
    enable(EV_READ) on the partner pulls it."""
    r.pair("A", "B")
    r.write("A", b"held")
    r.lens("A")
    r.loop(ONB)
    r.enable("B", EV_READ)
    r.lens("A")
    r.lens("B")
    r.loop(ONB)


EXPECT_PAIR_READ_DISABLED = [
    lens("A", 0, 4), L(1), lens("A", 0, 0), lens("B", 4, 0), rd("B", 4, 0), wr("A", 0, 0), L(0),
]


def sc_pair_watermarks(r):
    """The partner's read high watermark caps each move; draining it in its
    readcb pulls more at once (the next readcb is deferred, and deferred
    callbacks queued by deferred callbacks run in the same pass); the
    writer's writecb waits for its write low watermark."""
    r.pair("A", "B")
    r.setwatermark("A", EV_WRITE, 5, 0)
    r.setwatermark("B", EV_READ, 0, 10)
    r.enable("B", EV_READ)
    r.on("B", "read", lambda r, what, n: r.read("B", 10))
    r.write("A", b"0123456789" * 3)
    r.lens("A")
    r.lens("B")
    for _ in range(4):
        r.loop(ONB)


EXPECT_PAIR_WATERMARKS = [
    lens("A", 0, 20), lens("B", 10, 0),
    rd("B", 10, 0), ("read-data", "B", b"0123456789"),
    rd("B", 10, 0), ("read-data", "B", b"0123456789"),
    rd("B", 10, 0), ("read-data", "B", b"0123456789"), wr("A", 0, 0), L(0),
    L(1), L(1), L(1),
]


def sc_pair_flush_finished(r):
    """flush(EV_WRITE, BEV_FINISHED) moves the rest and gives the partner
    READING|EOF (deferred, after its readcb); the partner's EV_READ stays
    enabled."""
    r.pair("A", "B")
    r.write("A", b"tail")
    r.flush("A", EV_WRITE, lb.BEV_FINISHED)
    r.lens("B")
    r.loop(ONB)
    r.loop(ONB)


EXPECT_PAIR_FLUSH_FINISHED = [
    ("flush", "A", 0), lens("B", 4, 0), rd("B", 4, 0), evt("B", R | EOF, EV_WRITE, 4, 0),
    wr("A", 0, 0), L(0), L(1),
]


def sc_pair_flush_normal(r):
    """flush(EV_WRITE, BEV_FLUSH) moves data past the partner's high
    watermark; BEV_NORMAL does nothing.  (B's readcb drains: libevent calls
    a readcb that leaves the input over the high watermark again and
    again.)"""
    r.pair("A", "B")
    r.setwatermark("B", EV_READ, 0, 2)
    r.enable("B", EV_READ)
    r.on("B", "read", lambda r, what, n: r.read("B", 100))
    r.write("A", b"abcdef")
    r.lens("B")
    r.flush("A", EV_WRITE, lb.BEV_NORMAL)
    r.lens("B")
    r.flush("A", EV_WRITE, lb.BEV_FLUSH)
    r.lens("A")
    r.lens("B")
    r.loop(ONB)


EXPECT_PAIR_FLUSH_NORMAL = [
    lens("B", 2, 0), ("flush", "A", 0), lens("B", 2, 0), ("flush", "A", 0),
    lens("A", 0, 0), lens("B", 6, 0), rd("B", 6, 0), ("read-data", "B", b"abcdef"),
    wr("A", 0, 0), L(0),
]


def sc_pair_free_one_side(r):
    """Freeing one end tells the other nothing: no callback, the partner is
    gone, and writing to the survivor just fills its output."""
    r.pair("A", "B")
    r.enable("A", EV_READ)
    r.enable("B", EV_READ)
    r.write("B", b"x")
    r.loop(ONB)
    r.free("A")
    r.loop(ONB, rv=False)             # rv: see free_then_loop
    r.partner("B")
    r.write("B", b"into nothing")
    r.loop(ONB)
    r.lens("B")


EXPECT_PAIR_FREE_ONE_SIDE = [
    rd("A", 1, 0), wr("B", 0, 0), L(0), ("loop", ONB), ("partner", "B", None), L(1),
    lens("B", 0, 12),
]


def sc_free_then_loop(r):
    """bufferevent_free only schedules the destruction (event_finalize):
    libevent's next pass runs the finalizers, so EVLOOP_ONCE|NONBLOCK
    returns 0 ("something ran"), then 1."""
    a, _b = r.socketpair()
    r.bev("A", a)
    r.enable("A", EV_WRITE)
    r.loop(ONB)
    r.free("A")
    r.loop(ONB)
    r.loop(ONB)


EXPECT_FREE_THEN_LOOP = [wr("A", 0, 0), L(0), L(0), L(1)]


def sc_pair_trigger(r):
    """trigger on a pair end: pairs always defer, so even a plain trigger
    runs from the loop; IGNORE_WATERMARKS bypasses the read low mark."""
    r.pair("A", "B")
    r.setwatermark("B", EV_READ, 3, 0)
    r.trigger("B", EV_READ)
    r.trigger("B", EV_READ | EV_WRITE, lb.BEV_TRIG_IGNORE_WATERMARKS)
    r.note("triggered")
    r.loop(ONB)


EXPECT_PAIR_TRIGGER = [("triggered",), rd("B", 0, 0), wr("B", 0, 0), L(0)]


def sc_free_in_callback(r):
    """A bufferevent freed from its own readcb: no further callback for it
    (the EOF that is also pending is dropped)."""
    a, b = r.socketpair()
    r.bev("B", b, DEFER)
    r.enable("B", EV_READ)
    r.on("B", "read", lambda r, what, n: r.free("B"))
    a.send(b"data")
    a.shutdown(socket.SHUT_WR)
    r.loop(ONB)
    r.loop(ONB)


EXPECT_FREE_IN_CALLBACK = [rd("B", 4, 0), L(0), L(1)]


# Scenarios where evloop departs from libevent: asserting libevent's
# behaviour, as strict xfails.
BEV_DISAGREEMENTS = {}

# Scenarios that wait for timers: a stall could reorder them on either
# side, so they get up to three attempts (one must agree completely).
BEV_TIMING_SENSITIVE = {"read_timeout_restarts"}

BEV_SCENARIOS = {
    "read_low_watermark": (sc_read_low_watermark, EXPECT_READ_LOW_WATERMARK),
    "read_high_watermark": (sc_read_high_watermark, EXPECT_READ_HIGH_WATERMARK),
    "read_high_watermark_recall": (sc_read_high_watermark_recall,
                                   EXPECT_READ_HIGH_WATERMARK_RECALL),
    "write_low_watermark": (sc_write_low_watermark, EXPECT_WRITE_LOW_WATERMARK),
    "enable_write_empty": (sc_enable_write_empty, EXPECT_ENABLE_WRITE_EMPTY),
    "eof_after_shutdown": (sc_eof_after_shutdown, EXPECT_EOF_AFTER_SHUTDOWN),
    "peer_close_pending": (sc_peer_close_pending, EXPECT_PEER_CLOSE_PENDING),
    "read_timeout": (sc_read_timeout, EXPECT_READ_TIMEOUT),
    "read_timeout_restarts": (sc_read_timeout_restarts, EXPECT_READ_TIMEOUT_RESTARTS),
    "write_timeout": (sc_write_timeout, EXPECT_WRITE_TIMEOUT),
    "defer_trigger_order": (sc_defer_trigger_order, EXPECT_DEFER_TRIGGER_ORDER),
    "defer_io_order": (sc_defer_io_order, EXPECT_DEFER_IO_ORDER),
    "connect_listener": (sc_connect_listener, EXPECT_CONNECT_LISTENER),
    "connect_defer": (sc_connect_defer, EXPECT_CONNECT_DEFER),
    "connect_refused": (sc_connect_refused, EXPECT_CONNECT_REFUSED),
    "echo_two_ends": (sc_echo_two_ends, EXPECT_ECHO_TWO_ENDS),
    "disable_read": (sc_disable_read, EXPECT_DISABLE_READ),
    "trigger": (sc_trigger, EXPECT_TRIGGER),
    "pair_write": (sc_pair_write, EXPECT_PAIR_WRITE),
    "pair_read_disabled": (sc_pair_read_disabled, EXPECT_PAIR_READ_DISABLED),
    "pair_watermarks": (sc_pair_watermarks, EXPECT_PAIR_WATERMARKS),
    "pair_flush_finished": (sc_pair_flush_finished, EXPECT_PAIR_FLUSH_FINISHED),
    "pair_flush_normal": (sc_pair_flush_normal, EXPECT_PAIR_FLUSH_NORMAL),
    "pair_free_one_side": (sc_pair_free_one_side, EXPECT_PAIR_FREE_ONE_SIDE),
    "pair_trigger": (sc_pair_trigger, EXPECT_PAIR_TRIGGER),
    "free_in_callback": (sc_free_in_callback, EXPECT_FREE_IN_CALLBACK),
    "free_then_loop": (sc_free_then_loop, EXPECT_FREE_THEN_LOOP),
}


BEV = dh.Differential(LibeventBevs, EvloopBevs, BRun, callback_kinds=("read", "write", "event"),
                      scenarios=BEV_SCENARIOS, timing_sensitive=BEV_TIMING_SENSITIVE,
                      deliberate=BEV_DISAGREEMENTS)


@BEV.parametrize
def test_bufferevent_differential(scenario, method):
    BEV.check(scenario, method)


def test_constants_match_libevent():
    """The BEV_*/EVBUFFER_* values used here are evloop's too."""
    names = ["EVBUFFER_EOL_ANY", "EVBUFFER_EOL_CRLF", "EVBUFFER_EOL_CRLF_STRICT",
             "EVBUFFER_EOL_LF", "EVBUFFER_EOL_NUL", "EVBUFFER_PTR_SET", "EVBUFFER_PTR_ADD",
             "BEV_EVENT_READING", "BEV_EVENT_WRITING", "BEV_EVENT_EOF", "BEV_EVENT_ERROR",
             "BEV_EVENT_TIMEOUT", "BEV_EVENT_CONNECTED", "BEV_OPT_CLOSE_ON_FREE",
             "BEV_OPT_DEFER_CALLBACKS", "BEV_NORMAL", "BEV_FLUSH", "BEV_FINISHED",
             "BEV_TRIG_IGNORE_WATERMARKS", "BEV_TRIG_DEFER_CALLBACKS",
             "LEV_OPT_CLOSE_ON_FREE", "LEV_OPT_REUSEABLE"]
    assert {n: getattr(evloop, n) for n in names} == {n: getattr(lb, n) for n in names}
