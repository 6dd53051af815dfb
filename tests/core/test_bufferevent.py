"""evloop.Bufferevent: libevent 2.1's bufferevent semantics (reference 2.14),
on every backend.

Socket bufferevents run over AF_UNIX socketpairs (TCP on 127.0.0.1 where
connect, reset or a listener is the point); pairs over nothing.  The tests
assert on the order and number of callbacks and on what the peer receives,
never on elapsed time.  Each wait is bounded by a guard timer that breaks
the loop, so a broken implementation fails instead of hanging.
"""
import errno
import gc
import os
import socket
import struct
import time

import pytest

import evloop
from evloop import (
    Bufferevent, Evbuffer, Listener,
    BEV_EVENT_CONNECTED, BEV_EVENT_EOF, BEV_EVENT_ERROR, BEV_EVENT_READING,
    BEV_EVENT_TIMEOUT, BEV_EVENT_WRITING, BEV_FINISHED, BEV_FLUSH, BEV_NORMAL,
    BEV_OPT_CLOSE_ON_FREE, BEV_OPT_DEFER_CALLBACKS, BEV_OPT_THREADSAFE,
    BEV_OPT_UNLOCK_CALLBACKS, BEV_TRIG_DEFER_CALLBACKS, BEV_TRIG_IGNORE_WATERMARKS,
    EV_READ, EV_SIGNAL, EV_WRITE, EVLOOP_NONBLOCK, EVLOOP_ONCE,
)

from helpers import drain, guard, nb_socketpair

BIG = 4 * 1024 * 1024  # more than an AF_UNIX socket buffer holds


# -- helpers ------------------------------------------------------------------------

class Rec:
    """Records the three callbacks: ("read", len(input)), ("write",
    len(output)), ("event", what, get_enabled() inside the callback)."""

    def __init__(self, bev=None, on_read=None, on_write=None, on_event=None):
        self.calls = []
        self.on_read, self.on_write, self.on_event = on_read, on_write, on_event
        if bev is not None:
            self.install(bev)

    def install(self, bev, arg="ARG"):
        bev.setcb(self.readcb, self.writecb, self.eventcb, arg)

    def readcb(self, bev, arg):
        assert arg == "ARG"
        self.calls.append(("read", len(bev.get_input())))
        if self.on_read:
            self.on_read(bev)

    def writecb(self, bev, arg):
        assert arg == "ARG"
        self.calls.append(("write", len(bev.get_output())))
        if self.on_write:
            self.on_write(bev)

    def eventcb(self, bev, what, arg):
        assert arg == "ARG"
        self.calls.append(("event", what, bev.get_enabled()))
        if self.on_event:
            self.on_event(bev, what)

    def kinds(self, kind):
        return [c for c in self.calls if c[0] == kind]

    @property
    def events(self):
        return [c[1] for c in self.calls if c[0] == "event"]


def passes(base, n=5):
    """A few non-blocking loop passes: whatever is ready now gets handled."""
    for _ in range(n):
        base.loop(EVLOOP_ONCE | EVLOOP_NONBLOCK)


def loop_until(base, cond, seconds=10.0):
    """Run the loop until cond() is true (cond may do work, e.g. drain a
    peer); a guard timer turns a hang into a failure."""
    g = guard(base, seconds)
    try:
        while not cond():
            base.loop(EVLOOP_ONCE)
            if base.got_break():
                break
    finally:
        g.delete()
    assert cond(), "the awaited condition never became true"


@pytest.fixture
def conn(base):
    """A socket bufferevent (CLOSE_ON_FREE) on one end of a socketpair, and
    the other end as a non-blocking socket."""
    a, b = nb_socketpair()
    bev = Bufferevent(base, a.detach(), BEV_OPT_CLOSE_ON_FREE)
    yield bev, b
    bev.free()
    b.close()


@pytest.fixture
def tcp_server():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    yield s
    s.close()


def fd_is_open(fd):
    try:
        os.fstat(fd)
    except OSError as exc:
        assert exc.errno == errno.EBADF
        return False
    return True


# -- construction and getters ----------------------------------------------------------

def test_new_socket_bufferevent_defaults(base, conn):
    bev, peer = conn
    assert bev.get_enabled() == EV_WRITE  # reading must be enabled explicitly
    assert bev.getfd() >= 0
    assert bev.get_base() is base and bev.base is base
    assert isinstance(bev.get_input(), Evbuffer) and isinstance(bev.get_output(), Evbuffer)
    assert bev.get_input() is bev.input and bev.get_output() is bev.output
    assert bev.getcb() == (None, None, None, None)
    assert bev.get_underlying() is None
    assert bev.get_partner() is None
    assert bev.get_priority() == base.get_npriorities() // 2
    assert bev.getwatermark(EV_READ) == (0, 0)
    assert bev.getwatermark(EV_WRITE) == (0, 0)
    assert bev.get_max_single_read() == 16384
    assert bev.get_max_single_write() == 16384
    assert bev.get_dns_error() == 0
    assert bev.last_error == 0
    assert "Bufferevent" in repr(bev)


def test_bufferevent_without_fd(base):
    bev = Bufferevent(base)
    assert bev.getfd() == -1
    assert bev.get_enabled() == EV_WRITE
    bev.write(b"queued")  # nothing to write to yet: stays queued
    passes(base)
    assert bytes(bev.get_output()) == b"queued"
    bev.free()


def test_options_accepted(base):
    for opts in (0, BEV_OPT_THREADSAFE, BEV_OPT_DEFER_CALLBACKS,
                 BEV_OPT_DEFER_CALLBACKS | BEV_OPT_UNLOCK_CALLBACKS):
        a, b = nb_socketpair()
        bev = Bufferevent(base, a, opts)
        assert bev.getfd() == a.fileno()
        bev.free()
        assert fd_is_open(a.fileno())  # no CLOSE_ON_FREE
        a.close()
        b.close()


def test_setcb_getcb(base, conn):
    bev, _ = conn

    def r(b, a):
        pass

    def w(b, a):
        pass

    def e(b, what, a):
        pass
    bev.setcb(r, w, e, 42)
    assert bev.getcb() == (r, w, e, 42)
    bev.setcb(None, None, None)
    assert bev.getcb() == (None, None, None, None)


# -- reading ---------------------------------------------------------------------------

def test_reading_is_off_until_enabled(base, conn):
    bev, peer = conn
    rec = Rec(bev)
    peer.send(b"hello")
    passes(base)
    assert rec.calls == []
    assert len(bev.get_input()) == 0
    bev.enable(EV_READ)
    assert bev.get_enabled() == EV_READ | EV_WRITE
    loop_until(base, lambda: rec.kinds("read"))
    assert rec.calls == [("read", 5)]
    assert bev.read(100) == b"hello"


def test_write_and_read_round_trip(base, conn):
    bev, peer = conn
    got = []
    rec = Rec(bev, on_read=lambda b: got.append(b.read(1000)))
    bev.enable(EV_READ)
    bev.write(b"ping ")
    bev.write(memoryview(b"pong"))
    buf = Evbuffer()
    buf.add(b"!")
    bev.write_buffer(buf)
    assert len(buf) == 0
    received = bytearray()
    loop_until(base, lambda: received.extend(drain(peer)) or received == b"ping pong!")
    assert rec.kinds("write") == [("write", 0)]  # output drained to the low watermark 0
    peer.send(b"answer")
    loop_until(base, lambda: got)
    assert got == [b"answer"]
    peer.send(b"more")
    rec.on_read = lambda b: b.read_buffer(buf)
    loop_until(base, lambda: len(buf) == 4)
    assert bytes(buf) == b"more" and len(bev.get_input()) == 0


def test_readcb_waits_for_the_read_low_watermark(base, conn):
    bev, peer = conn
    rec = Rec(bev)
    bev.setwatermark(EV_READ, 10, 0)
    assert bev.getwatermark(EV_READ) == (10, 0)
    bev.enable(EV_READ)
    peer.send(b"12345")
    passes(base)
    assert rec.calls == []  # 5 bytes read, below the low watermark
    assert len(bev.get_input()) == 5
    peer.send(b"67890")
    loop_until(base, lambda: rec.calls)
    assert rec.calls == [("read", 10)]


def test_read_high_watermark_suspends_reading_until_drained(base, conn):
    bev, peer = conn
    seen = []
    drained = []

    def on_read(b):
        seen.append(len(b.get_input()))
        assert b.get_enabled() & EV_READ     # suspended, never disabled
        # libevent 2.1.9+ calls readcb again (deferred) while the input
        # stays at the high watermark (bufferevent_inbuf_wm_check): this one
        # drains only from its second call on.
        if len(seen) >= 2:
            drained.append(b.read(8))

    rec = Rec(bev, on_read=on_read)
    bev.setwatermark(EV_READ, 0, 8)
    assert bev.getwatermark(EV_READ) == (0, 8)
    bev.enable(EV_READ)
    peer.send(b"a" * 20)
    loop_until(base, lambda: sum(map(len, drained)) == 20)
    # Reading stopped at 8 bytes each time, and the first batch was offered
    # twice because the first call left it at the watermark.
    assert seen == [8, 8, 8, 4]
    assert b"".join(drained) == b"a" * 20
    assert len(rec.kinds("read")) == 4
    bev.setcb(None, None, None, None)
    bev.setwatermark(EV_READ, 0, 0)  # no limit any more
    peer.send(b"b" * 30)
    loop_until(base, lambda: len(bev.get_input()) >= 30)


def test_max_single_read_limits_each_read(base, conn):
    bev, peer = conn
    rec = Rec(bev)
    bev.set_max_single_read(4)
    assert bev.get_max_single_read() == 4
    bev.enable(EV_READ)
    peer.send(b"0123456789")
    loop_until(base, lambda: len(bev.get_input()) == 10)
    assert rec.calls == [("read", 4), ("read", 8), ("read", 10)]
    bev.set_max_single_read(0)
    assert bev.get_max_single_read() == 16384
    bev.set_max_single_write(-1)
    assert bev.get_max_single_write() == 16384
    bev.set_max_single_write(5)
    assert bev.get_max_single_write() == 5
    bev.write(b"x" * 12)
    received = bytearray()
    loop_until(base, lambda: received.extend(drain(peer)) or len(received) == 12)


def test_defer_callbacks_on_a_socket(base):
    a, b = nb_socketpair()
    bev = Bufferevent(base, a.detach(), BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)
    try:
        rec = Rec(bev)
        bev.enable(EV_READ)
        b.send(b"deferred")
        loop_until(base, lambda: rec.calls)
        assert rec.calls == [("read", 8)]
        b.shutdown(socket.SHUT_WR)
        loop_until(base, lambda: rec.events)
        assert rec.calls[-1] == ("event", BEV_EVENT_READING | BEV_EVENT_EOF, EV_WRITE)
    finally:
        bev.free()
        b.close()


# -- writing ---------------------------------------------------------------------------

def test_writecb_runs_when_output_drains_to_the_low_watermark(base, conn):
    bev, peer = conn
    rec = Rec(bev)
    low = 64 * 1024
    bev.setwatermark(EV_WRITE, low, 0)
    assert bev.getwatermark(EV_WRITE) == (low, 0)
    bev.write(b"w" * BIG)
    passes(base)  # the socket buffer fills up; the peer reads nothing
    assert len(bev.get_output()) > low
    assert rec.calls == []
    received = [0]

    def cond():
        received[0] += len(drain(peer))
        return rec.calls
    loop_until(base, cond)
    assert rec.calls[0][0] == "write"
    assert rec.calls[0][1] <= low  # output length when writecb ran
    loop_until(base, lambda: cond() and received[0] == BIG)
    # It runs after writes that leave the output at or below the watermark,
    # never while the output is above it.
    assert all(kind == "write" and n <= low for kind, n in rec.calls)
    assert rec.calls[-1] == ("write", 0)


def test_writes_are_not_sent_while_write_is_disabled(base, conn):
    bev, peer = conn
    bev.disable(EV_WRITE)
    assert bev.get_enabled() == 0
    bev.write(b"held back")
    passes(base)
    assert drain(peer) == b""
    bev.enable(EV_WRITE)
    received = bytearray()
    loop_until(base, lambda: received.extend(drain(peer)) or received == b"held back")


# -- EOF, errors, timeouts ---------------------------------------------------------------

def test_eof_disables_reading_before_eventcb(base, conn):
    bev, peer = conn
    rec = Rec(bev)
    bev.enable(EV_READ)
    peer.send(b"last words")
    peer.close()
    loop_until(base, lambda: rec.events)
    assert rec.calls == [("read", 10), ("event", BEV_EVENT_READING | BEV_EVENT_EOF, EV_WRITE)]
    assert bev.get_enabled() == EV_WRITE
    assert bev.read(100) == b"last words"


def test_half_close_by_peer_leaves_writing_working(base, conn):
    bev, peer = conn
    rec = Rec(bev)
    bev.enable(EV_READ | EV_WRITE)
    peer.shutdown(socket.SHUT_WR)
    loop_until(base, lambda: rec.events)
    assert rec.events == [BEV_EVENT_READING | BEV_EVENT_EOF]
    assert rec.calls[-1][2] == EV_WRITE
    # Writes after EOF still reach the peer.  (enable(EV_WRITE) with an empty
    # output already ran writecb once: libevent's bufferevent_writecb does.)
    n_writecb = len(rec.kinds("write"))
    bev.write(b"after eof")
    received = bytearray()
    loop_until(base, lambda: received.extend(drain(peer)) or received == b"after eof")
    loop_until(base, lambda: len(rec.kinds("write")) == n_writecb + 1)
    assert rec.calls[-1] == ("write", 0)
    bev.write(b" and again")
    loop_until(base, lambda: received.extend(drain(peer)) or received.endswith(b"again"))
    assert rec.events == [BEV_EVENT_READING | BEV_EVENT_EOF]


def test_peer_reset_is_an_error(base, tcp_server):
    client = socket.create_connection(tcp_server.getsockname())
    server_side, _ = tcp_server.accept()
    server_side.setblocking(False)
    bev = Bufferevent(base, server_side.detach(), BEV_OPT_CLOSE_ON_FREE)
    try:
        rec = Rec(bev)
        bev.enable(EV_READ)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()  # RST
        loop_until(base, lambda: rec.events)
        assert rec.events == [BEV_EVENT_READING | BEV_EVENT_ERROR]
        assert rec.calls[-1][2] & EV_READ == 0  # disabled before eventcb
        assert bev.last_error == errno.ECONNRESET
    finally:
        bev.free()


def test_read_timeout_counts_only_while_reading_is_enabled(base, conn):
    bev, peer = conn
    rec = Rec(bev)
    bev.set_timeouts(0.05, None)
    time.sleep(0.15)
    passes(base)
    assert rec.calls == []  # reading is disabled: no read timeout
    bev.enable(EV_READ)
    loop_until(base, lambda: rec.events)
    assert rec.calls == [("event", BEV_EVENT_READING | BEV_EVENT_TIMEOUT, EV_WRITE)]
    assert bev.get_enabled() == EV_WRITE
    # Re-enabling restarts it; data resets it each time, then it fires again.
    bev.set_timeouts((0, 50000), None)
    bev.enable(EV_READ)
    peer.send(b"x")
    loop_until(base, lambda: len(rec.events) == 2)
    assert rec.calls[-2:] == [("read", 1),
                              ("event", BEV_EVENT_READING | BEV_EVENT_TIMEOUT, EV_WRITE)]
    bev.set_timeouts(None, None)
    bev.enable(EV_READ)
    time.sleep(0.1)
    passes(base)
    assert len(rec.events) == 2  # timeouts cleared


def test_read_timeout_does_not_count_while_suspended_by_the_high_watermark(base, conn):
    bev, peer = conn
    first = []

    def on_read(b):
        # libevent 2.1.9+ re-runs readcb while the input sits at the high
        # watermark; raising the low watermark above it (once) stops that,
        # leaving reading suspended by the high watermark alone.
        if not first:
            first.append(True)
            b.setwatermark(EV_READ, 5, 4)

    rec = Rec(bev, on_read=on_read)
    bev.setwatermark(EV_READ, 0, 4)
    bev.enable(EV_READ)
    peer.send(b"0123456789")
    loop_until(base, lambda: rec.calls)
    bev.set_timeouts(0.05, None)  # set while reading is suspended
    time.sleep(0.15)
    passes(base)
    assert rec.events == []  # suspended: the read timeout does not run
    assert len(bev.get_input()) == 4
    bev.setwatermark(EV_READ, 0, 0)  # unsuspended: the rest flows, then it counts
    loop_until(base, lambda: rec.events)
    assert rec.events == [BEV_EVENT_READING | BEV_EVENT_TIMEOUT]
    assert bev.read(100) == b"0123456789"


def test_deferred_eventcb_keeps_the_errno(base, tcp_server):
    client = socket.create_connection(tcp_server.getsockname())
    server_side, _ = tcp_server.accept()
    server_side.setblocking(False)
    bev = Bufferevent(base, server_side.detach(),
                      BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)
    try:
        seen = []
        rec = Rec(bev, on_event=lambda b, what: seen.append(b.last_error))
        bev.enable(EV_READ)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        loop_until(base, lambda: rec.events)
        assert rec.events == [BEV_EVENT_READING | BEV_EVENT_ERROR]
        assert seen == [errno.ECONNRESET]
    finally:
        bev.free()


def test_write_timeout_counts_only_while_output_is_pending(base, conn):
    bev, peer = conn
    rec = Rec(bev)
    bev.set_timeouts(None, 0.05)
    assert bev.get_enabled() & EV_WRITE
    time.sleep(0.15)
    passes(base)
    assert rec.calls == []  # nothing to write: no write timeout
    bev.write(b"t" * BIG)  # the peer never reads: the output stays non-empty
    loop_until(base, lambda: rec.events)
    assert rec.events == [BEV_EVENT_WRITING | BEV_EVENT_TIMEOUT]
    assert rec.calls[-1][2] & EV_WRITE == 0  # writing disabled before eventcb
    assert len(bev.get_output()) > 0


# -- connecting ------------------------------------------------------------------------

def test_connect_to_a_listener_gives_connected(base):
    accepted = []
    lev = Listener.bind(base, lambda lis, fd, addr, arg: accepted.append(fd), None, 0, -1,
                        ("127.0.0.1", 0))
    port = socket.socket(fileno=lev.get_fd())
    addr = port.getsockname()
    port.detach()
    bev = Bufferevent(base, -1, BEV_OPT_CLOSE_ON_FREE)
    try:
        rec = Rec(bev)
        bev.socket_connect(addr)
        assert bev.getfd() >= 0
        bev.write(b"sent before connected")
        loop_until(base, lambda: rec.events and accepted)
        assert rec.events == [BEV_EVENT_CONNECTED]
        assert os.get_blocking(accepted[0]) is False
        server = socket.socket(fileno=accepted[0])
        received = bytearray()
        try:
            loop_until(base, lambda: received.extend(drain(server))
                       or received == b"sent before connected")
        finally:
            server.close()
    finally:
        bev.free()
        lev.free()


def test_connect_refused_is_an_error(base):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    addr = s.getsockname()
    s.close()  # nobody listens there now
    bev = Bufferevent(base, -1, BEV_OPT_CLOSE_ON_FREE)
    try:
        rec = Rec(bev)
        bev.socket_connect(addr)
        loop_until(base, lambda: rec.events)
        assert rec.events == [BEV_EVENT_ERROR]
        assert bev.last_error == errno.ECONNREFUSED
    finally:
        bev.free()


def test_connect_bad_address_raises(base):
    bev = Bufferevent(base)
    with pytest.raises(TypeError):
        bev.socket_connect(12345)
    assert bev.getfd() == -1
    bev.free()


def test_connect_hostname_localhost(base, tcp_server):
    bev = Bufferevent(base, -1, BEV_OPT_CLOSE_ON_FREE)
    try:
        rec = Rec(bev)
        bev.enable(EV_READ)
        bev.socket_connect_hostname(socket.AF_INET, "localhost", tcp_server.getsockname()[1])
        loop_until(base, lambda: rec.events)
        assert rec.events == [BEV_EVENT_CONNECTED]
        assert bev.get_dns_error() == 0
        server, _ = tcp_server.accept()
        server.sendall(b"hi")
        loop_until(base, lambda: rec.kinds("read"))
        assert bev.read(10) == b"hi"
        server.close()
    finally:
        bev.free()


def test_connect_hostname_keeps_dispatch_running(base, tcp_server, monkeypatch):
    real_getaddrinfo = socket.getaddrinfo

    def slow_getaddrinfo(*args, **kwargs):
        time.sleep(0.1)  # a lookup that is still running when dispatch() starts
        return real_getaddrinfo(*args, **kwargs)
    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    bev = Bufferevent(base, -1, BEV_OPT_CLOSE_ON_FREE)
    try:
        rec = Rec(bev, on_event=lambda b, what: base.loopexit())
        bev.socket_connect_hostname(socket.AF_INET, "localhost", tcp_server.getsockname()[1])
        base.dispatch()
        assert rec.events == [BEV_EVENT_CONNECTED]
    finally:
        loop_until(base, lambda: rec.events)  # let the lookup finish either way
        bev.free()


def test_connect_hostname_that_cannot_resolve(base):
    bev = Bufferevent(base, -1, BEV_OPT_CLOSE_ON_FREE)
    try:
        rec = Rec(bev)
        bev.socket_connect_hostname(socket.AF_UNSPEC, "nonexistent.invalid", 80)
        loop_until(base, lambda: rec.events)
        assert rec.events == [BEV_EVENT_ERROR]
        assert bev.get_dns_error() != 0
    finally:
        bev.free()


def test_connect_hostname_bad_arguments(base):
    bev = Bufferevent(base)
    with pytest.raises(ValueError):
        bev.socket_connect_hostname(socket.AF_UNIX, "localhost", 80)
    with pytest.raises(TypeError):
        bev.socket_connect_hostname(socket.AF_INET, 1234, 80)
    with pytest.raises(ValueError):
        bev.socket_connect_hostname(socket.AF_INET, "localhost", 70000)
    bev.free()


# -- setfd -------------------------------------------------------------------------------

def test_setfd_switches_socket(base):
    a, b = nb_socketpair()
    c, d = nb_socketpair()
    bev = Bufferevent(base, a.fileno())
    try:
        rec = Rec(bev)
        bev.enable(EV_READ)
        bev.setfd(c.fileno())
        assert bev.getfd() == c.fileno()
        b.send(b"old")
        d.send(b"new")
        loop_until(base, lambda: rec.calls)
        passes(base)
        assert bev.read(10) == b"new"
        bev.setfd(-1)
        assert bev.getfd() == -1
    finally:
        bev.free()
        for s in (a, b, c, d):
            s.close()


# -- freeing ----------------------------------------------------------------------------

def test_callback_frees_its_own_bufferevent(base):
    a, b = nb_socketpair()
    fd = a.detach()
    bev = Bufferevent(base, fd, BEV_OPT_CLOSE_ON_FREE)
    rec = Rec(bev, on_read=lambda bv: bv.free())
    bev.enable(EV_READ)
    b.send(b"x")
    b.close()  # EOF right after: must not reach the freed bufferevent
    loop_until(base, lambda: rec.calls)
    passes(base)
    assert rec.calls == [("read", 1)]
    assert not fd_is_open(fd)
    with pytest.raises(RuntimeError):
        bev.write(b"y")
    bev.free()  # idempotent


def test_eventcb_frees_its_own_bufferevent(base, conn):
    bev, peer = conn
    rec = Rec(bev, on_event=lambda bv, what: bv.free())
    bev.enable(EV_READ)
    peer.shutdown(socket.SHUT_WR)
    loop_until(base, lambda: rec.events)
    passes(base)
    assert rec.events == [BEV_EVENT_READING | BEV_EVENT_EOF]
    assert "freed" in repr(bev)


def test_free_drops_unsent_output_like_libevent(base, conn):
    bev, peer = conn
    bev.write(b"d" * BIG)
    passes(base, 1)
    bev.free()  # without flush: what is still in the output is lost
    received = 0
    peer.setblocking(True)
    peer.settimeout(10)
    while True:
        chunk = peer.recv(1 << 20)
        if not chunk:
            break
        received += len(chunk)
    assert received < BIG


def test_free_with_flush_delivers_everything_then_closes(base):
    a, peer = nb_socketpair()
    fd = a.detach()
    bev = Bufferevent(base, fd, BEV_OPT_CLOSE_ON_FREE)
    try:
        bev.write(b"f" * BIG)
        bev.free(flush=True)
        received = [0, False]

        def cond():
            while True:
                try:
                    chunk = peer.recv(1 << 20)
                except BlockingIOError:
                    return received[1]
                if not chunk:
                    received[1] = True  # EOF: the fd was closed
                    return True
                received[0] += len(chunk)
        loop_until(base, cond)
        assert received[0] == BIG
        assert not fd_is_open(fd)
    finally:
        peer.close()


def test_close_on_free_closes_the_fd(base):
    a, b = nb_socketpair()
    fd = a.detach()
    bev = Bufferevent(base, fd, BEV_OPT_CLOSE_ON_FREE)
    bev.free()
    assert not fd_is_open(fd)
    assert bev.getfd() == -1
    b.close()


def test_without_close_on_free_the_fd_stays_open(base):
    a, b = nb_socketpair()
    bev = Bufferevent(base, a.fileno(), 0)
    bev.free()
    os.fstat(a.fileno())  # still open
    a.send(b"still usable")
    assert b.recv(100) == b"still usable"
    a.close()
    b.close()


def test_garbage_bufferevent_with_close_on_free_closes_its_fd(base):
    a, b = nb_socketpair()
    fd = a.detach()
    bev = Bufferevent(base, fd, BEV_OPT_CLOSE_ON_FREE)
    del bev
    gc.collect()
    assert not fd_is_open(fd)
    b.close()


# -- pairs ---------------------------------------------------------------------------------

@pytest.fixture
def pair(base):
    a, b = Bufferevent.pair(base, 0)
    yield a, b
    a.free()
    b.free()


def test_pair_moves_data_both_ways(base, pair):
    a, b = pair
    assert a.get_partner() is b and b.get_partner() is a
    assert a.getfd() == -1
    ra, rb = Rec(a), Rec(b)
    a.enable(EV_READ)
    b.enable(EV_READ)
    a.write(b"to b")
    passes(base)  # the deferred callbacks run from the loop
    assert rb.calls == [("read", 4)]
    assert b.read(100) == b"to b"
    assert ra.kinds("write") == [("write", 0)]
    b.write(b"to a")
    passes(base)
    assert ra.kinds("read") == [("read", 4)]
    assert a.read(100) == b"to a"


def test_pair_data_waits_for_the_partner_to_enable_reading(base, pair):
    a, b = pair
    assert a.get_enabled() == b.get_enabled() == EV_WRITE
    rb = Rec(b)
    a.write(b"held")
    passes(base)
    assert len(a.get_output()) == 4 and rb.calls == []
    b.enable(EV_READ)
    passes(base)
    assert rb.calls == [("read", 4)]


def test_pair_forces_defer_callbacks(base, pair):
    a, b = pair
    rb = Rec(b)
    b.enable(EV_READ)
    a.write(b"x")
    assert len(b.get_input()) == 1  # moved at once...
    assert rb.calls == []           # ...but the callback is deferred
    passes(base)
    assert rb.calls == [("read", 1)]
    b.trigger_event(BEV_EVENT_EOF, 0)  # deferred too (the option is on)
    assert rb.events == []
    passes(base)
    assert rb.events == [BEV_EVENT_EOF]


def test_pair_flush_finished_gives_the_partner_eof(base, pair):
    a, b = pair
    rb = Rec(b)
    b.enable(EV_READ)
    a.write(b"bye")
    assert a.flush(EV_WRITE, BEV_FINISHED) == 0
    passes(base)
    assert rb.calls == [("read", 3), ("event", BEV_EVENT_READING | BEV_EVENT_EOF,
                                      EV_READ | EV_WRITE)]


def test_pair_flush_modes(base, pair):
    a, b = pair
    b.enable(EV_READ)
    b.setwatermark(EV_READ, 0, 2)
    a.write(b"12345")
    assert len(b.get_input()) == 2
    assert a.flush(EV_WRITE, BEV_NORMAL) == 0
    assert len(b.get_input()) == 2
    a.flush(EV_WRITE, BEV_FLUSH)  # regardless of watermarks
    assert bytes(b.get_input()) == b"12345" and len(a.get_output()) == 0
    # EV_READ flushes the partner's output into us.
    b.setwatermark(EV_READ, 0, 0)
    b.write(b"back")  # a does not read: it stays in b's output
    assert len(b.get_output()) == 4
    a.flush(EV_READ, BEV_FLUSH)
    assert bytes(a.get_input()) == b"back"


def test_freeing_one_side_of_a_pair_gives_no_eof(base, pair):
    a, b = pair
    rb = Rec(b)
    b.enable(EV_READ)
    a.free()
    passes(base)
    assert rb.calls == []
    assert b.get_partner() is None
    b.write(b"into the void")  # no partner: stays in the output
    passes(base)
    assert rb.calls == []


def test_pair_partner_high_watermark_limits_the_move(base, pair):
    a, b = pair
    # libevent 2.1.9+ re-runs readcb while the input sits at the high
    # watermark; raising the low watermark above it on the first call stops
    # that, so the move limit alone is observed.
    rb = Rec(b, on_read=lambda bev: bev.setwatermark(EV_READ, 11, 10))
    b.setwatermark(EV_READ, 0, 10)
    b.enable(EV_READ)
    a.write(b"z" * 25)
    assert len(b.get_input()) == 10 and len(a.get_output()) == 15
    passes(base)
    assert rb.calls == [("read", 10)]
    assert b.read(10) == b"z" * 10  # room again: the next 10 move
    assert len(b.get_input()) == 10 and len(a.get_output()) == 5
    b.read(10)
    assert len(b.get_input()) == 5 and len(a.get_output()) == 0


def test_loop_once_returns_after_deferred_callbacks(base, pair):
    a, b = pair
    rb = Rec(b)
    b.enable(EV_READ)
    fired = []
    g = evloop.Event.timer(base, lambda fd, what, arg: fired.append(what))
    g.add(0.5)  # something pending, as in any real program
    try:
        a.write(b"x")
        assert base.loop(EVLOOP_ONCE) == 0
        assert rb.calls == [("read", 1)]
        assert fired == []  # returned right after the deferred readcb
    finally:
        g.delete()


def test_pair_timeouts(base, pair):
    a, b = pair
    rb = Rec(b)
    b.enable(EV_READ)
    b.set_timeouts(0.05, None)
    loop_until(base, lambda: rb.events)
    assert rb.calls == [("event", BEV_EVENT_READING | BEV_EVENT_TIMEOUT, EV_WRITE)]


def test_pair_on_socket_only_methods(base, pair):
    a, b = pair
    with pytest.raises(RuntimeError):
        a.setfd(0)
    with pytest.raises(RuntimeError):
        a.socket_connect(("127.0.0.1", 1))
    assert a.flush(EV_WRITE, BEV_FINISHED) == 0


# -- trigger ---------------------------------------------------------------------------------

def test_trigger_respects_watermarks_unless_told(base, conn):
    bev, peer = conn
    rec = Rec(bev)
    bev.setwatermark(EV_READ, 5, 0)
    bev.trigger(EV_READ, 0)
    assert rec.calls == []  # input 0 < low watermark 5
    bev.trigger(EV_READ, BEV_TRIG_IGNORE_WATERMARKS)
    assert rec.calls == [("read", 0)]  # at once
    bev.trigger(EV_WRITE, 0)  # output 0 <= write low watermark 0
    assert rec.calls[-1] == ("write", 0)
    bev.disable(EV_WRITE)
    bev.write(b"pending")
    bev.trigger(EV_WRITE, 0)
    assert len(rec.calls) == 2  # output 7 > low watermark 0
    bev.trigger(EV_WRITE | EV_READ, BEV_TRIG_IGNORE_WATERMARKS)
    assert rec.calls[2:] == [("read", 0), ("write", 7)]


def test_trigger_deferred(base, conn):
    bev, peer = conn
    rec = Rec(bev)
    bev.trigger(EV_READ | EV_WRITE, BEV_TRIG_DEFER_CALLBACKS | BEV_TRIG_IGNORE_WATERMARKS)
    assert rec.calls == []
    passes(base)
    assert rec.calls == [("read", 0), ("write", 0)]


def test_trigger_event(base, conn):
    bev, peer = conn
    rec = Rec(bev)
    bev.trigger_event(BEV_EVENT_READING | BEV_EVENT_EOF, 0)
    assert rec.events == [BEV_EVENT_READING | BEV_EVENT_EOF]
    assert bev.get_enabled() == EV_WRITE  # trigger_event changes nothing itself
    bev.trigger_event(BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS)
    assert len(rec.events) == 1
    passes(base)
    assert rec.events[-1] == BEV_EVENT_ERROR
    with pytest.raises(ValueError):
        bev.trigger_event(BEV_EVENT_EOF, 0x100)
    with pytest.raises(ValueError):
        bev.trigger(EV_READ, 0x100)
    with pytest.raises(ValueError):
        bev.trigger(EV_SIGNAL, 0)


# -- priorities ----------------------------------------------------------------------------

def test_priority_set_orders_callbacks(base):
    base.priority_init(3)
    order = []
    made = []
    for name, pri in (("low", 2), ("high", 0)):
        a, b = nb_socketpair()
        bev = Bufferevent(base, a.detach(), BEV_OPT_CLOSE_ON_FREE)
        bev.priority_set(pri)
        assert bev.get_priority() == pri
        bev.setcb(lambda bv, arg: (order.append(arg), bv.read(100)), None, None, name)
        bev.enable(EV_READ)
        made.append((bev, b))
    for _, b in made:
        b.send(b"go")
    try:
        loop_until(base, lambda: len(order) == 2)
        assert order == ["high", "low"]
        bev = made[0][0]
        with pytest.raises(ValueError):
            bev.priority_set(3)
        with pytest.raises(ValueError):
            bev.priority_set(-1)
        with pytest.raises(TypeError):
            bev.priority_set("0")
    finally:
        for bev, b in made:
            bev.free()
            b.close()


# -- bad input and use after free ------------------------------------------------------------

def test_bad_constructor_arguments(base):
    with pytest.raises(TypeError):
        Bufferevent("not a base")
    with pytest.raises(TypeError):
        Bufferevent(base, -1, "0")
    with pytest.raises(ValueError):
        Bufferevent(base, -1, 0x100)  # unknown option bit
    with pytest.raises(ValueError):
        Bufferevent(base, -1, -1)
    with pytest.raises(TypeError):
        Bufferevent(base, "fd")
    with pytest.raises(ValueError):
        Bufferevent(base, -5)
    with pytest.raises(ValueError):
        Bufferevent.pair(base, 0x100)
    with pytest.raises(TypeError):
        Bufferevent.pair(None)


def test_bad_method_arguments(base, conn):
    bev, _ = conn
    with pytest.raises(TypeError):
        bev.setcb(1, None, None)
    with pytest.raises(TypeError):
        bev.setcb(None, None, "eventcb")
    with pytest.raises(ValueError):
        bev.enable(EV_SIGNAL)  # wrong iotype
    with pytest.raises(TypeError):
        bev.enable("read")
    with pytest.raises(ValueError):
        bev.disable(0x100)
    with pytest.raises(ValueError):
        bev.setwatermark(EV_READ, -1, 0)  # negative watermark
    with pytest.raises(ValueError):
        bev.setwatermark(EV_WRITE, 0, -10)
    with pytest.raises(TypeError):
        bev.setwatermark(EV_READ, 1.5, 0)
    with pytest.raises(ValueError):
        bev.setwatermark(EV_SIGNAL, 0, 0)
    with pytest.raises(ValueError):
        bev.getwatermark(EV_READ | EV_WRITE)
    with pytest.raises(ValueError):
        bev.set_timeouts(-1, None)
    with pytest.raises(TypeError):
        bev.set_timeouts("1", None)
    with pytest.raises(TypeError):
        bev.write("text is not bytes")
    with pytest.raises(TypeError):
        bev.write_buffer(b"not an Evbuffer")
    with pytest.raises(ValueError):
        bev.read(-1)
    with pytest.raises(TypeError):
        bev.read("1")
    with pytest.raises(ValueError):
        bev.flush(EV_WRITE, 7)  # bad mode
    with pytest.raises(ValueError):
        bev.flush(EV_SIGNAL, BEV_NORMAL)
    with pytest.raises(TypeError):
        bev.set_max_single_read("big")
    with pytest.raises(TypeError):
        bev.set_max_single_write(None)
    assert bev.get_enabled() == EV_WRITE  # nothing changed


def test_use_after_free_raises_runtime_error(base):
    bev = Bufferevent(base)
    bev.free()
    calls = [
        lambda: bev.write(b"x"), lambda: bev.write_buffer(Evbuffer()),
        lambda: bev.read(1), lambda: bev.read_buffer(Evbuffer()),
        lambda: bev.enable(EV_READ), lambda: bev.disable(EV_READ),
        lambda: bev.setcb(None, None, None), lambda: bev.setwatermark(EV_READ, 0, 0),
        lambda: bev.set_timeouts(1, 1), lambda: bev.flush(EV_WRITE, BEV_FLUSH),
        lambda: bev.trigger(EV_READ, 0), lambda: bev.trigger_event(BEV_EVENT_EOF, 0),
        lambda: bev.priority_set(0), lambda: bev.setfd(-1),
        lambda: bev.socket_connect(("127.0.0.1", 1)),
        lambda: bev.socket_connect_hostname(socket.AF_INET, "localhost", 1),
    ]
    for call in calls:
        with pytest.raises(RuntimeError):
            call()
    bev.free()


def test_bufferevent_on_a_freed_base(make_base):
    b = make_base()
    bev = Bufferevent(b)
    b.free()
    with pytest.raises(RuntimeError):
        Bufferevent(b)
    with pytest.raises(RuntimeError):
        bev.write(b"x")
    bev.free()


def test_socket_bufferevent_freezes_its_buffers_ends(base, conn):
    # bufferevent_socket_new: only the bufferevent appends to its input and
    # drains its output; the user drains the input and appends to the output.
    bev, peer = conn
    with pytest.raises(RuntimeError):
        bev.get_input().add(b"injected")
    bev.write(b"queued")
    with pytest.raises(RuntimeError):
        bev.get_output().drain(1)
    bev.get_output().add(b" and more")
    bev.enable(EV_READ)
    peer.send(b"in")
    loop_until(base, lambda: len(bev.get_input()) == 2)
    bev.get_input().drain(1)
    assert bytes(bev.get_input()) == b"n"
    received = bytearray()
    loop_until(base, lambda: received.extend(drain(peer)) or received == b"queued and more")
