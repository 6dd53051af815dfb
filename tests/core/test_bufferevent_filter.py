"""Filter bufferevents (libevent bufferevent_filter.c, reference 2.14
"Filters"), on every backend.

Filters run over pair ends (no I/O at all) or over a socket bufferevent on
an AF_UNIX socketpair.  The tests assert on what the filters were given
(dst_limit, mode), on what each side reads, and on the callbacks; never on
elapsed time.
"""
import os
import subprocess
import sys
import zlib

import pytest

from evloop import (
    Bufferevent, BEV_EVENT_EOF, BEV_EVENT_ERROR, BEV_EVENT_READING, BEV_EVENT_WRITING,
    BEV_ERROR, BEV_FINISHED, BEV_FLUSH, BEV_NEED_MORE, BEV_NORMAL, BEV_OK,
    BEV_OPT_CLOSE_ON_FREE, EV_READ, EV_WRITE, EVLOOP_NONBLOCK, EVLOOP_ONCE,
)

from helpers import drain, guard, nb_socketpair

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def passes(base, n=5):
    for _ in range(n):
        base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK)


class Rec:
    def __init__(self, bev, read_all=True):
        self.data = b""
        self.events = []
        self.writes = 0
        self.read_all = read_all
        bev.setcb(self.readcb, self.writecb, self.eventcb, "ARG")

    def readcb(self, bev, arg):
        assert arg == "ARG"
        if self.read_all:
            self.data += bev.read(1 << 20)

    def writecb(self, bev, arg):
        self.writes += 1

    def eventcb(self, bev, what, arg):
        self.events.append(what)


def upper(src, dst, limit, mode):
    n = len(src) if limit < 0 else min(limit, len(src))
    dst.add(src.remove(n).upper())
    return BEV_OK


def test_constants():
    assert (BEV_OK, BEV_NEED_MORE, BEV_ERROR) == (0, 1, 2)


def test_pass_through_over_pair(base):
    a, b = Bufferevent.pair(base)
    fa = Bufferevent.filter(a, None, None)
    fb = Bufferevent.filter(b, None, None)
    assert fa.get_underlying() is a and fb.get_underlying() is b
    assert a.get_underlying() is None
    assert isinstance(fa, Bufferevent) and fa.get_base() is base
    assert fa.get_enabled() == EV_WRITE          # a new bufferevent: write only
    assert a.get_enabled() == EV_READ | EV_WRITE  # libevent enables the underlying
    rec = Rec(fb)
    fb.enable(EV_READ)
    fa.write(b"hello, filter")
    passes(base)
    assert rec.data == b"hello, filter"
    fa.free()
    fb.free()
    a.free()
    b.free()


def test_underlying_callbacks_taken_over_and_given_back(base):
    a, b = Bufferevent.pair(base)
    a.setcb(lambda *x: None, None, None, "mine")
    f = Bufferevent.filter(a, None, None)
    r, w, e, arg = a.getcb()
    assert arg is f and r is not None and w is not None and e is not None
    f.free()
    assert not a.freed                       # no CLOSE_ON_FREE
    assert a.getcb() == (None, None, None, None)
    a.free()
    b.free()


def test_transforming_filters_both_ways(base):
    a, b = Bufferevent.pair(base)
    seen = []

    def rot(src, dst, limit, mode):
        seen.append(mode)
        dst.add(bytes((c + 1) % 256 for c in src.remove(len(src))))
        return BEV_OK

    fa = Bufferevent.filter(a, None, upper)
    fb = Bufferevent.filter(b, rot, None)
    rec = Rec(fb)
    fb.enable(EV_READ)
    fa.write(b"abc")
    passes(base)
    assert rec.data == b"BCD"
    assert BEV_NORMAL in seen and set(seen) == {BEV_NORMAL}
    for x in (fa, fb, a, b):
        x.free()


def test_reading_waits_until_the_filter_enables_read(base):
    a, b = Bufferevent.pair(base)
    fb = Bufferevent.filter(b, None, None)
    rec = Rec(fb)
    a.write(b"early")
    passes(base)
    assert rec.data == b"" and len(b.get_input()) == 0   # underlying read-suspended
    fb.enable(EV_READ)
    passes(base)
    assert rec.data == b"early"
    fb.disable(EV_READ)
    a.write(b"more")
    passes(base)
    assert rec.data == b"early"
    for x in (fb, a, b):
        x.free()


def test_need_more_buffers_until_a_whole_record(base):
    a, b = Bufferevent.pair(base)

    def records(src, dst, limit, mode):
        # pass on whole 4-byte records only
        n = len(src) // 4 * 4
        if n == 0:
            return BEV_NEED_MORE
        dst.add(src.remove(n))
        return BEV_OK

    fb = Bufferevent.filter(b, records, None)
    rec = Rec(fb)
    fb.enable(EV_READ)
    a.write(b"ab")
    passes(base)
    assert rec.data == b"" and len(b.get_input()) == 2
    a.write(b"cdef")
    passes(base)
    assert rec.data == b"abcd" and len(b.get_input()) == 2
    a.write(b"gh")
    passes(base)
    assert rec.data == b"abcdefgh"
    for x in (fb, a, b):
        x.free()


def test_input_filter_error_reaches_eventcb(base):
    a, b = Bufferevent.pair(base)
    fb = Bufferevent.filter(b, lambda s, d, lim, m: BEV_ERROR, None)
    rec = Rec(fb)
    fb.enable(EV_READ)
    a.write(b"x")
    passes(base)
    assert rec.events == [BEV_EVENT_READING | BEV_EVENT_ERROR]
    assert not fb.get_enabled() & EV_READ        # the direction went off first
    for x in (fb, a, b):
        x.free()


def test_output_filter_error_reaches_eventcb(base):
    a, b = Bufferevent.pair(base)
    fa = Bufferevent.filter(a, None, lambda s, d, lim, m: BEV_ERROR)
    rec = Rec(fa)
    fa.write(b"x")
    assert rec.events == [BEV_EVENT_WRITING | BEV_EVENT_ERROR]
    assert not fa.get_enabled() & EV_WRITE
    for x in (fa, a, b):
        x.free()


def test_filter_must_return_a_result(base):
    a, b = Bufferevent.pair(base)
    fa = Bufferevent.filter(a, None, lambda s, d, lim, m: None)
    with pytest.raises(TypeError, match="BEV_OK"):
        fa.write(b"x")
    with pytest.raises(TypeError, match="input_filter"):
        Bufferevent.filter(b, 42, None)
    for x in (fa, a, b):
        x.free()


def test_read_high_watermark_is_the_input_dst_limit(base):
    a, b = Bufferevent.pair(base)
    limits = []

    def inf(src, dst, limit, mode):
        limits.append(limit)
        n = len(src) if limit < 0 else min(limit, len(src))
        dst.add(src.remove(n))
        return BEV_OK

    fb = Bufferevent.filter(b, inf, None)
    fb.setwatermark(EV_READ, 0, 10)
    fb.enable(EV_READ)
    # libevent 2.1.9+ re-runs readcb while the input sits at the high
    # watermark; with no readcb the move limit alone is observed.
    fb.setcb(None, None, None, None)
    a.write(b"x" * 25)
    passes(base)
    assert limits[0] == 10
    assert len(fb.get_input()) == 10              # stopped at the watermark
    assert len(b.get_input()) == 15               # the rest waits underneath
    # Draining our input resumes the filter on the data left underneath
    # (libevent's "filter data stuck" fix).
    assert fb.read(10) == b"x" * 10
    passes(base)
    assert len(fb.get_input()) == 10 and limits[-1] == 10
    fb.read(10)
    passes(base)
    assert fb.read(100) == b"x" * 5
    fb.setwatermark(EV_READ, 0, 0)
    a.write(b"y" * 3)
    passes(base)
    assert limits[-1] == -1
    for x in (fb, a, b):
        x.free()


def test_underlying_write_high_watermark_is_the_output_dst_limit(base):
    a, b = Bufferevent.pair(base)
    limits = []

    def outf(src, dst, limit, mode):
        limits.append(limit)
        n = len(src) if limit < 0 else min(limit, len(src))
        dst.add(src.remove(n))
        return BEV_OK

    a.disable(EV_WRITE)
    fa = Bufferevent.filter(a, None, outf)
    a.disable(EV_WRITE)        # keep the bytes in a's output
    a.setwatermark(EV_WRITE, 0, 8)
    fa.write(b"z" * 20)
    assert limits == [8]
    assert len(a.get_output()) == 8 and len(fa.get_output()) == 12
    a.get_output().drain(8)
    fa.flush(EV_WRITE, BEV_NORMAL)
    assert limits[-1] == 8 and len(a.get_output()) == 8
    fa.flush(EV_WRITE, BEV_FLUSH)   # flush ignores the watermark
    assert limits[-1] == -1 and len(fa.get_output()) == 0
    for x in (fa, a, b):
        x.free()


def test_flush_modes_reach_the_filters_and_finished_the_partner(base):
    a, b = Bufferevent.pair(base)
    modes = []
    comp = zlib.compressobj()

    def compress(src, dst, limit, mode):
        modes.append(mode)
        dst.add(comp.compress(src.remove(len(src))))
        if mode == BEV_FLUSH:
            dst.add(comp.flush(zlib.Z_SYNC_FLUSH))
        elif mode == BEV_FINISHED:
            dst.add(comp.flush(zlib.Z_FINISH))
        return BEV_OK

    fa = Bufferevent.filter(a, None, compress)
    rec = Rec(b)
    b.enable(EV_READ)
    fa.write(b"spam " * 100)
    passes(base)
    assert modes == [BEV_NORMAL]
    assert fa.flush(EV_WRITE, BEV_FLUSH) == 1
    assert fa.flush(EV_WRITE, BEV_FINISHED) == 1
    assert modes == [BEV_NORMAL, BEV_FLUSH, BEV_FINISHED]
    passes(base)
    assert zlib.decompress(rec.data) == b"spam " * 100
    # BEV_FINISHED went down to the pair, which tells the partner EOF
    assert rec.events == [BEV_EVENT_EOF | BEV_EVENT_READING]
    for x in (fa, a, b):
        x.free()


def test_events_pass_through(base):
    a, b = Bufferevent.pair(base)
    fb = Bufferevent.filter(b, None, None)
    rec = Rec(fb)
    fb.enable(EV_READ)
    a.flush(EV_WRITE, BEV_FINISHED)
    passes(base)
    assert rec.events == [BEV_EVENT_EOF | BEV_EVENT_READING]
    b.trigger_event(BEV_EVENT_ERROR | BEV_EVENT_WRITING)
    passes(base)
    assert rec.events[-1] == BEV_EVENT_ERROR | BEV_EVENT_WRITING
    for x in (fb, a, b):
        x.free()


def test_close_on_free_frees_the_underlying(base):
    s1, s2 = nb_socketpair()
    under = Bufferevent(base, s1.detach(), BEV_OPT_CLOSE_ON_FREE)
    fd = under.getfd()
    f = Bufferevent.filter(under, None, None, BEV_OPT_CLOSE_ON_FREE)
    assert f.getfd() == fd
    f.free()
    assert f.freed and under.freed
    with pytest.raises(OSError):
        os.fstat(fd)
    s2.close()


def test_filter_over_socket(base):
    s1, s2 = nb_socketpair()
    under = Bufferevent(base, s1.detach(), BEV_OPT_CLOSE_ON_FREE)
    f = Bufferevent.filter(under, upper, upper, BEV_OPT_CLOSE_ON_FREE)
    rec = Rec(f)
    f.enable(EV_READ)
    f.write(b"to the peer")
    g = guard(base)
    got = b""
    while len(got) < 11 and not base.got_break():
        base.loop(EVLOOP_ONCE)
        got += drain(s2)
    assert got == b"TO THE PEER"
    assert rec.writes >= 1
    s2.send(b"from the peer")
    while len(rec.data) < 13 and not base.got_break():
        base.loop(EVLOOP_ONCE)
    g.delete()
    assert rec.data == b"FROM THE PEER"
    s2.close()
    g = guard(base)
    while not rec.events and not base.got_break():
        base.loop(EVLOOP_ONCE)
    g.delete()
    assert rec.events == [BEV_EVENT_EOF | BEV_EVENT_READING]
    f.free()


def test_filter_of_a_filter(base):
    a, b = Bufferevent.pair(base)
    f1 = Bufferevent.filter(b, upper, None)
    f2 = Bufferevent.filter(f1, lambda s, d, lim, m: (d.add(s.remove(len(s))[::-1]), BEV_OK)[1],
                            None, BEV_OPT_CLOSE_ON_FREE)
    rec = Rec(f2)
    f2.enable(EV_READ)
    a.write(b"abc")
    passes(base)
    assert rec.data == b"CBA"
    f2.free()
    assert f1.freed and not b.freed
    a.free()
    b.free()


def test_freed_filter_refuses(base):
    a, b = Bufferevent.pair(base)
    f = Bufferevent.filter(a, None, None)
    f.free()
    with pytest.raises(RuntimeError):
        f.write(b"x")
    with pytest.raises(RuntimeError):
        Bufferevent.filter(f, None, None)
    a.free()
    b.free()


def test_zlib_example_runs():
    path = os.path.join(ROOT, "examples", "compat", "zlib_filter.py")
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, path], capture_output=True, text=True, timeout=60,
                       env=env)
    assert r.returncode == 0, r.stderr
    assert "round trip ok" in r.stdout
