"""Evbuffer against a plain ``bytearray`` model, driven by hypothesis.

A state machine owns two Evbuffers (so that add_buffer, prepend_buffer
and remove_buffer move real chunks between them) and one bytearray model
of each.  Every rule applies the same operation to both and compares the
results; the invariant checker (libevent's evbuffer_validate) runs after
every step.  Data sizes straddle the chunk sizes so that operations cross
chunk boundaries, and large ``bytes`` exercise the zero-copy references.
"""
import os

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (RuleBasedStateMachine, invariant,
                                 rule)

import evloop
from evloop import (EVBUFFER_EOL_ANY, EVBUFFER_EOL_CRLF,
                    EVBUFFER_EOL_CRLF_STRICT, EVBUFFER_EOL_LF,
                    EVBUFFER_EOL_NUL)

# Bounded so the whole file stays well under 20 s; EVLOOP_FUZZ_EXAMPLES (make
# fuzz; EVLOOP_HYPOTHESIS_EXAMPLES is its older name) raises it for a longer
# fuzzing run.
settings.register_profile(
    "evbuffer",
    max_examples=int(os.environ.get("EVLOOP_FUZZ_EXAMPLES")
                     or os.environ.get("EVLOOP_HYPOTHESIS_EXAMPLES", "150")),
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Bytes rich in line terminators and the first byte of the needles.
ALPHABET = b"ab\r\n\x00"
small = st.binary(max_size=40) | st.lists(
    st.sampled_from(list(ALPHABET)), max_size=60).map(bytes)
sized = st.builds(lambda n, c: bytes([c]) * n,
                  st.integers(0, 5000), st.sampled_from(list(ALPHABET)))
payload = small | sized
count = st.integers(0, 6000)
needle = st.sampled_from([b"", b"a", b"\r\n", b"ab", b"\n\n", b"b\r\na", b"\x00"]) | \
    st.binary(min_size=1, max_size=4)
STYLES = [EVBUFFER_EOL_ANY, EVBUFFER_EOL_CRLF, EVBUFFER_EOL_CRLF_STRICT,
          EVBUFFER_EOL_LF, EVBUFFER_EOL_NUL]


def model_eol(m, start, style):
    """(position, eol_len) of the next end of line at or after start, as
    evbuffer_search_eol defines it; (-1, 0) if none."""
    if style == EVBUFFER_EOL_LF:
        i = m.find(b"\n", start)
        return (i, 1) if i >= 0 else (-1, 0)
    if style == EVBUFFER_EOL_NUL:
        i = m.find(b"\x00", start)
        return (i, 1) if i >= 0 else (-1, 0)
    if style == EVBUFFER_EOL_CRLF_STRICT:
        i = m.find(b"\r\n", start)
        return (i, 2) if i >= 0 else (-1, 0)
    if style == EVBUFFER_EOL_CRLF:
        i = m.find(b"\n", start)
        if i < 0:
            return -1, 0
        if i > start and m[i - 1] == 0x0D:
            return i - 1, 2
        return i, 1
    # ANY: the first CR or LF, and the run of CR/LF that follows it
    cands = [i for i in (m.find(b"\r", start), m.find(b"\n", start)) if i >= 0]
    if not cands:
        return -1, 0
    i = min(cands)
    j = i
    while j < len(m) and m[j] in b"\r\n":
        j += 1
    return i, j - i


class EvbufferMachine(RuleBasedStateMachine):

    def __init__(self):
        super().__init__()
        self.bufs = [evloop.Evbuffer(), evloop.Evbuffer()]
        self.models = [bytearray(), bytearray()]
        self.cleanups = {}        # reference id -> times its cleanup ran
        self.next_ref = 0

    def _cleanup(self, data, ref_id):
        self.cleanups[ref_id] += 1

    @invariant()
    def consistent(self):
        for b, m in zip(self.bufs, self.models, strict=True):
            b._validate()
            assert len(b) == len(m)
        for n in self.cleanups.values():
            assert n <= 1

    # -- adding ----------------------------------------------------------

    @rule(i=st.integers(0, 1), data=payload,
          kind=st.sampled_from(["bytes", "bytearray", "memoryview"]))
    def add(self, i, data, kind):
        obj = {"bytes": data, "bytearray": bytearray(data),
               "memoryview": memoryview(data)}[kind]
        self.bufs[i].add(obj)
        self.models[i] += data

    @rule(i=st.integers(0, 1), data=payload)
    def add_reference(self, i, data):
        ref_id = self.next_ref
        self.next_ref += 1
        self.cleanups[ref_id] = 0
        self.bufs[i].add_reference(data, self._cleanup, ref_id)
        self.models[i] += data
        if not data:
            assert self.cleanups[ref_id] == 1

    @rule(i=st.integers(0, 1), data=payload)
    def prepend(self, i, data):
        self.bufs[i].prepend(data)
        self.models[i][0:0] = data

    @rule(i=st.integers(0, 1), n=count)
    def expand(self, i, n):
        self.bufs[i].expand(n)

    @rule(i=st.integers(0, 1), a=st.integers(-5, 5),
          fmt=st.sampled_from(["%d-%s;", "%d%%\r\n%s", b"%d:%s\n"]))
    def add_printf(self, i, a, fmt):
        args = (a, "x") if isinstance(fmt, str) else (a, b"x")
        expect = fmt % args
        if isinstance(expect, str):
            expect = expect.encode()
        assert self.bufs[i].add_printf(fmt, *args) == len(expect)
        self.models[i] += expect

    # -- moving between the two buffers ----------------------------------

    @rule(src=st.integers(0, 1))
    def add_buffer(self, src):
        dst = 1 - src
        self.bufs[dst].add_buffer(self.bufs[src])
        self.models[dst] += self.models[src]
        self.models[src].clear()

    @rule(src=st.integers(0, 1))
    def prepend_buffer(self, src):
        dst = 1 - src
        self.bufs[dst].prepend_buffer(self.bufs[src])
        self.models[dst][0:0] = self.models[src]
        self.models[src].clear()

    @rule(src=st.integers(0, 1), n=count)
    def remove_buffer(self, src, n):
        dst = 1 - src
        moved = self.bufs[src].remove_buffer(self.bufs[dst], n)
        expect = min(n, len(self.models[src]))
        assert moved == expect
        self.models[dst] += self.models[src][:expect]
        del self.models[src][:expect]

    # -- taking out ------------------------------------------------------

    @rule(i=st.integers(0, 1), n=count)
    def remove(self, i, n):
        got = self.bufs[i].remove(n)
        assert got == self.models[i][:n]
        del self.models[i][:n]

    @rule(i=st.integers(0, 1), n=count)
    def drain(self, i, n):
        self.bufs[i].drain(n)
        del self.models[i][:n]

    @rule(i=st.integers(0, 1), n=count)
    def copyout(self, i, n):
        assert self.bufs[i].copyout(n) == self.models[i][:n]

    @rule(i=st.integers(0, 1), data=st.data(), n=count)
    def copyout_from(self, i, data, n):
        m = self.models[i]
        pos = data.draw(st.integers(0, len(m)))
        ptr = evloop.EvbufferPtr()
        self.bufs[i].ptr_set(ptr, pos, evloop.EVBUFFER_PTR_SET)
        assert self.bufs[i].copyout_from(ptr, n) == m[pos:pos + n]

    @rule(i=st.integers(0, 1), style=st.sampled_from(STYLES))
    def readln(self, i, style):
        m = self.models[i]
        pos, eol = model_eol(m, 0, style)
        line = self.bufs[i].readln(style)
        if pos < 0:
            assert line is None
        else:
            assert line == m[:pos]
            del m[:pos + eol]

    @rule(i=st.integers(0, 1), n=st.integers(-1, 6000))
    def pullup(self, i, n):
        m = self.models[i]
        view = self.bufs[i].pullup(n)
        want = len(m) if n == -1 else n
        if want > len(m):
            assert view is None
        else:
            assert bytes(view) == m[:want]
            assert self.bufs[i].get_contiguous_space() >= want

    @rule(i=st.integers(0, 1), data=st.data(), n=st.integers(-1, 6000))
    def peek(self, i, data, n):
        m = self.models[i]
        start = data.draw(st.integers(0, len(m)))
        views = self.bufs[i].peek(n, start)
        want = m[start:] if n == -1 else m[start:start + n]
        assert b"".join(bytes(v) for v in views) == want
        assert all(len(v) for v in views)

    # -- searching -------------------------------------------------------

    @rule(i=st.integers(0, 1), what=needle, data=st.data())
    def search(self, i, what, data):
        m = self.models[i]
        start = data.draw(st.integers(0, len(m)))
        as_ptr = data.draw(st.booleans())
        b = self.bufs[i]
        if as_ptr:
            s = evloop.EvbufferPtr()
            b.ptr_set(s, start, evloop.EVBUFFER_PTR_SET)
        else:
            s = start
        p = b.search(what, s)
        assert p.pos == m.find(what, start)
        if p.pos >= 0:
            # the pointer's cached chunk must agree with its position
            assert b.copyout_from(p, len(what)) == what

    @rule(i=st.integers(0, 1), what=needle, data=st.data())
    def search_range(self, i, what, data):
        m = self.models[i]
        start = data.draw(st.integers(0, len(m)))
        end = data.draw(st.integers(0, len(m)))
        p = self.bufs[i].search_range(what, start, end)
        j = m.find(what, start)
        if what and (j < 0 or j + len(what) > end):
            j = -1
        assert p.pos == j

    @rule(i=st.integers(0, 1), style=st.sampled_from(STYLES), data=st.data())
    def search_eol(self, i, style, data):
        m = self.models[i]
        start = data.draw(st.integers(0, len(m)))
        p, eol = self.bufs[i].search_eol(start, style)
        assert (p.pos, eol) == model_eol(m, start, style)

    @rule(i=st.integers(0, 1), data=st.data())
    def ptr_walk(self, i, data):
        m = self.models[i]
        b = self.bufs[i]
        p = evloop.EvbufferPtr()
        a = data.draw(st.integers(0, len(m)))
        b.ptr_set(p, a, evloop.EVBUFFER_PTR_SET)
        step = data.draw(st.integers(0, len(m) - a))
        b.ptr_set(p, step, evloop.EVBUFFER_PTR_ADD)
        assert p.pos == a + step
        assert b.copyout_from(p, 3) == m[a + step:a + step + 3]

    # -- reserve / commit ------------------------------------------------

    @rule(i=st.integers(0, 1), size=st.integers(0, 5000), n_vec=st.integers(1, 3),
          data=st.data())
    def reserve_commit(self, i, size, n_vec, data):
        b = self.bufs[i]
        views = b.reserve_space(size, n_vec)
        b._validate()
        total = sum(len(v) for v in views)
        assert total >= size
        assert len(views) <= min(n_vec, 2)
        n = data.draw(st.integers(0, total))
        fill = bytes((k * 7) & 0xFF for k in range(n))
        off = 0
        for v in views:
            k = min(len(v), n - off)
            v[:k] = fill[off:off + k]
            off += k
        b.commit_space(n)
        self.models[i] += fill

    def teardown(self):
        for b in self.bufs:
            b.free()
            b._validate()
        assert all(n == 1 for n in self.cleanups.values()), self.cleanups


EvbufferMachine.TestCase.settings = settings.get_profile("evbuffer")
TestEvbufferModel = pytest.mark.fuzz(EvbufferMachine.TestCase)
