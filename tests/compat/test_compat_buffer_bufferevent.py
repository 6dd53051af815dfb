"""evloop.compat.buffer, .bufferevent and .listener: buffer.h, bufferevent.h and
listener.h under their C names, on every backend.

Besides the behaviour, the tests pin the compat conventions: 0/-1 returns,
None for NULL, out-parameters folded into the return value, nothing raised
for bad input (the reason is logged on 'evloop.compat'), and exceptions
from user callbacks propagated, also when the core runs the callback
synchronously inside a compat call.
"""
import errno
import logging
import os
import socket

import pytest

import evloop
import evloop.compat as compat
from evloop.compat import *  # noqa: F401,F403  -- the point of the module

BUFFER_H = [
    "evbuffer_new", "evbuffer_free", "evbuffer_get_length", "evbuffer_expand",
    "evbuffer_add", "evbuffer_add_buffer", "evbuffer_add_reference", "evbuffer_add_printf",
    "evbuffer_prepend", "evbuffer_prepend_buffer", "evbuffer_remove",
    "evbuffer_remove_buffer", "evbuffer_copyout", "evbuffer_drain", "evbuffer_pullup",
    "evbuffer_readln", "evbuffer_search", "evbuffer_search_range", "evbuffer_search_eol",
    "evbuffer_ptr_set", "evbuffer_peek", "evbuffer_reserve_space", "evbuffer_commit_space",
    "evbuffer_read", "evbuffer_write", "evbuffer_write_atmost", "evbuffer_add_cb",
    "evbuffer_remove_cb_entry", "evbuffer_remove_cb", "evbuffer_cb_set_flags",
    "evbuffer_cb_clear_flags", "evbuffer_freeze", "evbuffer_unfreeze",
    "evbuffer_defer_callbacks", "evbuffer_readline",
]
BUFFEREVENT_H = [
    "bufferevent_socket_new", "bufferevent_socket_connect",
    "bufferevent_socket_connect_hostname", "bufferevent_socket_get_dns_error",
    "bufferevent_setfd", "bufferevent_getfd", "bufferevent_free", "bufferevent_get_base",
    "bufferevent_priority_set", "bufferevent_get_priority", "bufferevent_setcb",
    "bufferevent_getcb", "bufferevent_get_underlying", "bufferevent_write",
    "bufferevent_write_buffer", "bufferevent_read", "bufferevent_read_buffer",
    "bufferevent_get_input", "bufferevent_get_output", "bufferevent_enable",
    "bufferevent_disable", "bufferevent_get_enabled", "bufferevent_set_timeouts",
    "bufferevent_setwatermark", "bufferevent_getwatermark", "bufferevent_flush",
    "bufferevent_trigger", "bufferevent_trigger_event", "bufferevent_pair_new",
    "bufferevent_pair_get_partner", "bufferevent_set_max_single_read",
    "bufferevent_get_max_single_read", "bufferevent_set_max_single_write",
    "bufferevent_get_max_single_write", "bufferevent_incref", "bufferevent_decref",
    "EVBUFFER_INPUT", "EVBUFFER_OUTPUT",
]
LISTENER_H = [
    "evconnlistener_new", "evconnlistener_new_bind", "evconnlistener_free",
    "evconnlistener_enable", "evconnlistener_disable", "evconnlistener_get_base",
    "evconnlistener_get_fd", "evconnlistener_set_cb", "evconnlistener_set_error_cb",
]
CONSTANTS = {
    "EVBUFFER_EOL_ANY": 0, "EVBUFFER_EOL_CRLF": 1, "EVBUFFER_EOL_CRLF_STRICT": 2,
    "EVBUFFER_EOL_LF": 3, "EVBUFFER_EOL_NUL": 4, "EVBUFFER_PTR_SET": 0, "EVBUFFER_PTR_ADD": 1,
    "EVBUFFER_CB_ENABLED": 1,
    "BEV_EVENT_READING": 0x01, "BEV_EVENT_WRITING": 0x02, "BEV_EVENT_EOF": 0x10,
    "BEV_EVENT_ERROR": 0x20, "BEV_EVENT_TIMEOUT": 0x40, "BEV_EVENT_CONNECTED": 0x80,
    "BEV_OPT_CLOSE_ON_FREE": 1, "BEV_OPT_THREADSAFE": 2, "BEV_OPT_DEFER_CALLBACKS": 4,
    "BEV_OPT_UNLOCK_CALLBACKS": 8, "BEV_NORMAL": 0, "BEV_FLUSH": 1, "BEV_FINISHED": 2,
    "BEV_OK": 0, "BEV_NEED_MORE": 1, "BEV_ERROR": 2,
    "BEV_TRIG_IGNORE_WATERMARKS": 0x10000, "BEV_TRIG_DEFER_CALLBACKS": 4,
    "LEV_OPT_LEAVE_SOCKETS_BLOCKING": 1, "LEV_OPT_CLOSE_ON_FREE": 2,
    "LEV_OPT_CLOSE_ON_EXEC": 4, "LEV_OPT_REUSEABLE": 8, "LEV_OPT_THREADSAFE": 16,
    "LEV_OPT_DISABLED": 32, "LEV_OPT_DEFERRED_ACCEPT": 64, "LEV_OPT_REUSEABLE_PORT": 128,
    "LEV_OPT_BIND_IPV6ONLY": 256,
}


@pytest.fixture
def cbase(backend):
    cfg = event_config_new()
    for m in event_get_supported_methods():
        if m != backend:
            event_config_avoid_method(cfg, m)
    base = event_base_new_with_config(cfg)
    assert event_base_get_method(base) == backend
    yield base
    event_base_free(base)


@pytest.fixture
def failures(caplog):
    """The messages compat logged for its -1/None returns."""
    caplog.set_level(logging.WARNING, logger="evloop.compat")

    def get():
        return [r.getMessage() for r in caplog.records if r.name == "evloop.compat"]
    return get


def run_until(base, cond, n=200):
    """EVLOOP_NONBLOCK passes (with a tiny block each) until cond() holds."""
    guard = evtimer_new(base, lambda fd, what, arg: event_base_loopbreak(base), None)
    evtimer_add(guard, (10, 0))
    try:
        while not cond():
            event_base_loop(base, EVLOOP_ONCE)
            if event_base_got_break(base):
                break
    finally:
        event_free(guard)
    assert cond()


def port_of(lev):
    s = socket.socket(fileno=evconnlistener_get_fd(lev))
    try:
        return s.getsockname()[1]
    finally:
        s.detach()


# -- names ------------------------------------------------------------------------------

def test_every_header_name_is_exported():
    for name in BUFFER_H + BUFFEREVENT_H + LISTENER_H + list(CONSTANTS):
        assert name in compat.__all__, name
        assert hasattr(compat, name), name
    assert len(set(compat.__all__)) == len(compat.__all__)
    for name, value in CONSTANTS.items():
        assert getattr(compat, name) == value, name
    assert compat.BEV_EVENT_EOF == evloop.BEV_EVENT_EOF
    assert compat.LEV_OPT_REUSEABLE == evloop.LEV_OPT_REUSEABLE


def test_docstrings_name_the_c_function():
    assert "event2/buffer.h" in compat.buffer.__doc__
    assert "event2/bufferevent.h" in compat.bufferevent.__doc__
    assert "event2/listener.h" in compat.listener.__doc__
    for module in (compat.buffer, compat.bufferevent, compat.listener):
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj):
                assert obj.__doc__.lstrip().startswith(name + "("), name


# -- evbuffer ---------------------------------------------------------------------------

def test_evbuffer_add_remove_and_lengths():
    buf = evbuffer_new()
    assert evbuffer_get_length(buf) == 0
    assert evbuffer_add(buf, b"hello world", 5) == 0  # datlen takes the front
    assert evbuffer_add(buf, bytearray(b", you")) == 0
    assert evbuffer_add_printf(buf, " %d%s", 42, "!") == 4
    assert evbuffer_prepend(buf, b"> ") == 0
    assert evbuffer_prepend(buf, b">xyz", 1) == 0
    assert evbuffer_get_length(buf) == 17
    assert evbuffer_copyout(buf, 3) == b">> "
    assert evbuffer_remove(buf, 3) == b">> "
    assert evbuffer_drain(buf, 5) == 0
    assert evbuffer_remove(buf, 100) == b", you 42!"
    assert evbuffer_remove(buf, 10) == b""  # empty: b'', not None
    assert evbuffer_expand(buf, 4096) == 0
    assert evbuffer_add_iovec(buf, [b"a", b"bc", b"def"], 2) == 3
    assert evbuffer_remove(buf, 10) == b"abc"
    evbuffer_free(buf)
    assert evbuffer_add(buf, b"x") == -1


def test_evbuffer_move_between_buffers():
    a, b = evbuffer_new(), evbuffer_new()
    evbuffer_add(a, b"first ")
    evbuffer_add(b, b"second")
    assert evbuffer_add_buffer(a, b) == 0
    assert evbuffer_get_length(b) == 0
    evbuffer_add(b, b"zero ")
    assert evbuffer_prepend_buffer(a, b) == 0
    assert evbuffer_remove_buffer(a, b, 5) == 5
    assert evbuffer_remove(b, 10) == b"zero "
    assert evbuffer_remove(a, 100) == b"first second"


def test_evbuffer_readln_and_readline():
    buf = evbuffer_new()
    evbuffer_add(buf, b"one\r\ntwo\nthree\x00four")
    assert evbuffer_readln(buf, EVBUFFER_EOL_CRLF_STRICT) == b"one"
    assert evbuffer_readln(buf, EVBUFFER_EOL_LF) == b"two"
    assert evbuffer_readln(buf, EVBUFFER_EOL_NUL) == b"three"
    assert evbuffer_readln(buf, EVBUFFER_EOL_CRLF) is None  # no complete line
    assert evbuffer_get_length(buf) == 4
    evbuffer_add(buf, b"\r\n\r\nfive\n")
    assert evbuffer_readline(buf) == b"four"  # EOL_ANY: the run of CR/LF
    assert evbuffer_readline(buf) == b"five"
    assert evbuffer_readline(buf) is None


def test_evbuffer_search_and_ptrs():
    buf = evbuffer_new()
    evbuffer_add(buf, b"abc needle abc\r\nrest")
    p = evbuffer_search(buf, b"needle", 6, None)
    assert p.pos == 4
    assert evbuffer_search(buf, b"abc", None, p).pos == 11
    assert evbuffer_search(buf, b"missing").pos == -1
    start = evbuffer_ptr()
    assert start.pos == -1
    assert evbuffer_ptr_set(buf, start, 5, EVBUFFER_PTR_SET) == 0
    assert start.pos == 5
    assert evbuffer_ptr_set(buf, start, 2, EVBUFFER_PTR_ADD) == 0
    assert start.pos == 7
    end = evbuffer_ptr()
    evbuffer_ptr_set(buf, end, 13, EVBUFFER_PTR_SET)
    assert evbuffer_search_range(buf, b"abc", 3, start, end).pos == -1  # would end at 14
    evbuffer_ptr_set(buf, end, 14, EVBUFFER_PTR_SET)
    assert evbuffer_search_range(buf, b"abc", 3, start, end).pos == 11
    ptr, eol_len = evbuffer_search_eol(buf, None, EVBUFFER_EOL_CRLF)
    assert (ptr.pos, eol_len) == (14, 2)
    assert evbuffer_ptr_set(buf, start, 1000, EVBUFFER_PTR_SET) == -1  # past the end


def test_evbuffer_pullup_peek_reserve_commit():
    buf = evbuffer_new()
    evbuffer_add(buf, b"a" * 3000)
    evbuffer_add(buf, b"b" * 3000)
    n, views = evbuffer_peek(buf, -1, None)
    assert n == len(views) >= 1
    assert b"".join(bytes(v) for v in views) == b"a" * 3000 + b"b" * 3000
    n1, first = evbuffer_peek(buf, 10, None, 1)
    assert len(first) == 1 and bytes(first[0]) == b"a" * 10
    assert bytes(evbuffer_pullup(buf, 4000)) == b"a" * 3000 + b"b" * 1000
    assert evbuffer_pullup(buf, 10_000) is None  # fewer bytes than asked: NULL
    out = evbuffer_new()
    n, vecs = evbuffer_reserve_space(out, 100, 1)
    assert n == 1 and len(vecs[0]) >= 100
    vecs[0][:5] = b"hello"
    assert evbuffer_commit_space(out, [vecs[0][:5]], 1) == 0
    assert evbuffer_remove(out, 100) == b"hello"
    n, vecs = evbuffer_reserve_space(out, 10, 2)
    vecs[0][:3] = b"xyz"
    assert evbuffer_commit_space(out, [3]) == 0  # byte counts work too
    assert evbuffer_remove(out, 10) == b"xyz"
    assert evbuffer_commit_space(out, [3]) == -1  # no reservation pending


def test_evbuffer_read_write(sockpair):
    a, b = sockpair
    buf = evbuffer_new()
    evbuffer_add(buf, b"0123456789")
    assert evbuffer_write_atmost(buf, a, 4) == 4
    assert evbuffer_write(buf, a.fileno()) == 6
    assert b.recv(100) == b"0123456789"
    b.send(b"incoming")
    assert evbuffer_read(buf, a, -1) == 8
    assert evbuffer_remove(buf, 100) == b"incoming"
    assert evbuffer_read(buf, a, 10) == -1  # EAGAIN
    b.close()
    assert evbuffer_read(buf, a, 10) == 0  # EOF


def test_evbuffer_callbacks(cbase):
    buf = evbuffer_new()
    seen = []

    def cb(b, info, arg):
        seen.append((info.orig_size, info.n_added, info.n_deleted, arg))
    ent = evbuffer_add_cb(buf, cb, "A")
    assert ent is not None
    evbuffer_add(buf, b"12345")
    evbuffer_drain(buf, 2)
    assert seen == [(0, 5, 0, "A"), (5, 0, 2, "A")]
    assert evbuffer_cb_clear_flags(buf, ent, EVBUFFER_CB_ENABLED) == 0
    evbuffer_add(buf, b"x")
    assert len(seen) == 2
    assert evbuffer_cb_set_flags(buf, ent, EVBUFFER_CB_ENABLED) == 0
    evbuffer_add(buf, b"y")
    assert len(seen) == 3
    assert evbuffer_remove_cb(buf, cb, "A") == 0
    assert evbuffer_remove_cb(buf, cb, "A") == -1  # gone
    ent2 = evbuffer_add_cb(buf, cb, "B")
    assert evbuffer_remove_cb_entry(buf, ent2) == 0
    assert evbuffer_remove_cb_entry(buf, ent2) == -1
    # Deferred: run from the loop, coalesced.
    evbuffer_add_cb(buf, cb, "D")
    assert evbuffer_defer_callbacks(buf, cbase) == 0
    evbuffer_add(buf, b"a")
    evbuffer_add(buf, b"b")
    assert len(seen) == 3
    event_base_loop(cbase, EVLOOP_NONBLOCK)
    assert seen[3:] == [(5, 2, 0, "D")]
    evbuffer_free(buf)


def test_evbuffer_callback_exception_propagates():
    buf = evbuffer_new()

    def cb(b, info, arg):
        raise ValueError("from the callback")
    evbuffer_add_cb(buf, cb, None)
    with pytest.raises(ValueError, match="from the callback"):
        evbuffer_add(buf, b"x")  # not turned into -1


def test_evbuffer_add_reference_cleanup():
    buf = evbuffer_new()
    data = b"referenced bytes"
    cleaned = []
    assert evbuffer_add_reference(buf, data, len(data),
                                  lambda d, n, arg: cleaned.append((d, n, arg)), "X") == 0
    assert evbuffer_remove(buf, 5) == b"refer"
    assert cleaned == []
    evbuffer_drain(buf, 100)
    assert cleaned == [(data, len(data), "X")]
    assert evbuffer_add_reference(buf, b"abcdef", 3) == 0
    assert evbuffer_remove(buf, 10) == b"abc"


def test_evbuffer_freeze():
    buf = evbuffer_new()
    evbuffer_add(buf, b"data")
    assert evbuffer_freeze(buf, 1) == 0
    assert evbuffer_drain(buf, 1) == -1
    assert evbuffer_remove(buf, 1) is None
    assert evbuffer_add(buf, b"more") == 0  # the back is not frozen
    assert evbuffer_unfreeze(buf, 1) == 0
    assert evbuffer_freeze(buf, 0) == 0
    assert evbuffer_add(buf, b"x") == -1
    assert evbuffer_remove(buf, 100) == b"datamore"
    assert evbuffer_unfreeze(buf, 0) == 0
    assert evbuffer_add(buf, b"x") == 0


def test_evbuffer_bad_input(failures):
    buf = evbuffer_new()
    assert evbuffer_add(buf, "text") == -1
    assert evbuffer_add(buf, b"abc", 10) == -1  # datlen past the data
    assert evbuffer_add("not a buffer", b"x") == -1
    assert evbuffer_get_length(None) == -1
    assert evbuffer_expand(buf, -1) == -1
    assert evbuffer_remove(buf, -1) is None
    assert evbuffer_remove(buf, "1") is None
    assert evbuffer_copyout(None, 1) is None
    assert evbuffer_drain(buf, None) == -1
    assert evbuffer_add_buffer(buf, b"x") == -1
    assert evbuffer_prepend_buffer(buf, buf) in (0, -1)  # a no-op or refused, never raises
    assert evbuffer_remove_buffer(buf, buf, 1) == -1
    assert evbuffer_readln(buf, 99) is None
    assert evbuffer_readline(42) is None
    assert evbuffer_pullup(buf, "all") is None
    assert evbuffer_search(buf, "str").pos == -1
    assert evbuffer_search(buf, b"x", None, 5).pos == -1  # start must be a ptr
    assert evbuffer_search_range(None, b"x").pos == -1
    assert evbuffer_search_eol(buf, None, 99)[1] == 0
    assert evbuffer_ptr_set(buf, "ptr", 0, EVBUFFER_PTR_SET) == -1
    assert evbuffer_ptr_set(buf, evbuffer_ptr(), 0, 7) == -1
    assert evbuffer_peek(buf, "n") == (-1, None)
    assert evbuffer_reserve_space(buf, -5, 1) == (-1, None)
    assert evbuffer_commit_space(buf, b"xx") == -1
    assert evbuffer_read(buf, "fd", 1) == -1
    assert evbuffer_write(buf, "fd") == -1
    full = evbuffer_new()
    evbuffer_add(full, b"data")
    assert evbuffer_write(full, -1) == -1  # EBADF
    assert evbuffer_write_atmost(full, -1, -2) == -1
    assert evbuffer_get_length(full) == 4
    assert evbuffer_add_cb(buf, None, None) is None
    assert evbuffer_add_cb(buf, "cb", None) is None
    assert evbuffer_remove_cb_entry(buf, "entry") == -1
    assert evbuffer_cb_set_flags(buf, None, 1) == -1
    assert evbuffer_cb_clear_flags(buf, None, 1) == -1
    assert evbuffer_freeze(buf, "front") == -1
    assert evbuffer_unfreeze(None, 0) == -1
    assert evbuffer_defer_callbacks(buf, None) == -1
    assert evbuffer_add_printf(buf, 42) == -1
    assert evbuffer_add_iovec(buf, [b"a"], 5) == -1
    assert evbuffer_add_reference(buf, b"x", 1, "not callable") == -1
    evbuffer_free("not a buffer")  # void: logged
    assert len(failures()) >= 30
    assert all(":" in m for m in failures())
    assert evbuffer_get_length(buf) == 0  # nothing was added by the failures


# -- bufferevent -------------------------------------------------------------------------

def test_bufferevent_socket_round_trip(cbase, sockpair):
    a, b = sockpair
    bev = bufferevent_socket_new(cbase, a.fileno(), 0)
    assert bev is not None
    assert bufferevent_get_base(bev) is cbase
    assert bufferevent_getfd(bev) == a.fileno()
    assert bufferevent_get_enabled(bev) == EV_WRITE
    got = []

    def readcb(bev, arg):
        got.append((arg, bufferevent_read(bev, 100)))

    def writecb(bev, arg):
        got.append((arg, "drained"))

    def eventcb(bev, what, arg):
        got.append((arg, what, bufferevent_get_enabled(bev)))
    bufferevent_setcb(bev, readcb, writecb, eventcb, "ctx")
    assert bufferevent_getcb(bev) == (readcb, writecb, eventcb, "ctx")
    assert bufferevent_enable(bev, EV_READ) == 0
    assert bufferevent_write(bev, b"hello there", 5) == 0
    buf = evbuffer_new()
    evbuffer_add(buf, b"!")
    assert bufferevent_write_buffer(bev, buf) == 0
    run_until(cbase, lambda: ("ctx", "drained") in got)
    assert b.recv(100) == b"hello!"
    b.send(b"reply")
    run_until(cbase, lambda: ("ctx", b"reply") in got)
    b.send(b"more")
    bufferevent_setcb(bev, None, None, eventcb, "ctx")
    run_until(cbase, lambda: evbuffer_get_length(EVBUFFER_INPUT(bev)) == 4)
    out = evbuffer_new()
    assert bufferevent_read_buffer(bev, out) == 0
    assert evbuffer_remove(out, 10) == b"more"
    assert EVBUFFER_OUTPUT(bev) is bufferevent_get_output(bev)
    assert bufferevent_get_input(bev) is EVBUFFER_INPUT(bev)
    b.shutdown(socket.SHUT_WR)
    run_until(cbase, lambda: any(len(g) == 3 for g in got))
    assert got[-1] == ("ctx", BEV_EVENT_READING | BEV_EVENT_EOF, EV_WRITE)
    assert bufferevent_disable(bev, EV_WRITE) == 0
    assert bufferevent_get_enabled(bev) == 0
    bufferevent_free(bev)
    assert bufferevent_write(bev, b"x") == -1  # use after free: -1, not an exception
    assert bufferevent_enable(bev, EV_READ) == -1


def test_bufferevent_settings(cbase, sockpair):
    a, b = sockpair
    bev = bufferevent_socket_new(cbase, a, BEV_OPT_DEFER_CALLBACKS)
    bufferevent_setwatermark(bev, EV_READ, 2, 100)
    assert bufferevent_getwatermark(bev, EV_READ) == (0, (2, 100))
    assert bufferevent_getwatermark(bev, EV_WRITE) == (0, (0, 0))
    assert bufferevent_set_timeouts(bev, (1, 500000), None) == 0
    assert bufferevent_set_timeouts(bev, None, None) == 0
    assert bufferevent_set_max_single_read(bev, 100) == 0
    assert bufferevent_get_max_single_read(bev) == 100
    assert bufferevent_set_max_single_write(bev, 200) == 0
    assert bufferevent_get_max_single_write(bev) == 200
    assert bufferevent_priority_set(bev, 0) == 0
    assert bufferevent_get_priority(bev) == 0
    assert bufferevent_priority_set(bev, 5) == -1
    assert bufferevent_get_underlying(bev) is None
    assert bufferevent_pair_get_partner(bev) is None
    assert bufferevent_flush(bev, EV_WRITE, BEV_FLUSH) == 0  # a no-op for sockets
    assert bufferevent_incref(bev) == 0
    assert bufferevent_decref(bev) == 0
    assert bufferevent_socket_get_dns_error(bev) == 0
    # libevent freezes a socket bufferevent's input back and output front.
    assert evbuffer_add(bufferevent_get_input(bev), b"x") == -1
    assert bufferevent_write(bev, b"out") == 0
    assert evbuffer_drain(bufferevent_get_output(bev), 1) == -1
    assert bufferevent_setfd(bev, -1) == 0
    assert bufferevent_getfd(bev) == -1
    bufferevent_free(bev)


def test_bufferevent_trigger(cbase, sockpair):
    a, b = sockpair
    bev = bufferevent_socket_new(cbase, a, 0)
    calls = []
    bufferevent_setcb(bev, lambda bv, arg: calls.append("read"),
                      lambda bv, arg: calls.append("write"),
                      lambda bv, what, arg: calls.append(what), None)
    bufferevent_setwatermark(bev, EV_READ, 10, 0)
    bufferevent_trigger(bev, EV_READ, 0)
    assert calls == []
    bufferevent_trigger(bev, EV_READ | EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS)
    assert calls == ["read", "write"]
    bufferevent_trigger(bev, EV_WRITE, BEV_TRIG_DEFER_CALLBACKS)
    bufferevent_trigger_event(bev, BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS)
    assert calls == ["read", "write"]
    event_base_loop(cbase, EVLOOP_NONBLOCK)
    assert calls == ["read", "write", "write", BEV_EVENT_ERROR]
    bufferevent_trigger_event(bev, BEV_EVENT_EOF, 0)
    assert calls[-1] == BEV_EVENT_EOF
    bufferevent_free(bev)


def test_bufferevent_callback_exception_propagates(cbase, sockpair):
    a, b = sockpair
    bev = bufferevent_socket_new(cbase, a, 0)

    def readcb(bev, arg):
        raise KeyError("readcb")
    bufferevent_setcb(bev, readcb, None, None, None)
    # Run at once by bufferevent_trigger: the exception is the application's.
    with pytest.raises(KeyError):
        bufferevent_trigger(bev, EV_READ, 0)
    # Run by the loop: it leaves event_base_dispatch/loop.
    bufferevent_enable(bev, EV_READ)
    b.send(b"x")
    with pytest.raises(KeyError):
        event_base_loop(cbase, EVLOOP_ONCE)
    bufferevent_free(bev)


def test_bufferevent_pair(cbase):
    rc, pair = bufferevent_pair_new(cbase, 0)
    assert rc == 0
    a, b = pair
    assert bufferevent_pair_get_partner(a) is b
    got = []
    bufferevent_setcb(b, lambda bev, arg: got.append(bufferevent_read(bev, 10)), None,
                      lambda bev, what, arg: got.append(what), None)
    bufferevent_enable(b, EV_READ)
    bufferevent_write(a, b"pair data")
    assert got == []  # pairs always defer
    event_base_loop(cbase, EVLOOP_NONBLOCK)
    assert got == [b"pair data"]
    assert bufferevent_flush(a, EV_WRITE, BEV_FINISHED) == 0
    event_base_loop(cbase, EVLOOP_NONBLOCK)
    assert got[-1] == BEV_EVENT_READING | BEV_EVENT_EOF
    bufferevent_free(a)
    assert bufferevent_pair_get_partner(b) is None
    bufferevent_free(b)


def test_bufferevent_connect_and_listener(cbase):
    accepted = []
    lev = evconnlistener_new_bind(cbase, lambda lis, fd, addr, arg: accepted.append((fd, arg)),
                                  "L", LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                                  ("127.0.0.1", 0), 16)
    assert lev is not None
    assert evconnlistener_get_base(lev) is cbase
    port = port_of(lev)
    bev = bufferevent_socket_new(cbase, -1, BEV_OPT_CLOSE_ON_FREE)
    events = []
    bufferevent_setcb(bev, None, None, lambda b, what, arg: events.append(what), None)
    assert bufferevent_socket_connect(bev, ("127.0.0.1", port)) == 0
    run_until(cbase, lambda: events and accepted)
    assert events == [BEV_EVENT_CONNECTED]
    assert accepted[0][1] == "L"
    os.close(accepted[0][0])
    bufferevent_free(bev)
    # connect_hostname to localhost; loop kept alive by the guard timer.
    bev = bufferevent_socket_new(cbase, -1, BEV_OPT_CLOSE_ON_FREE)
    events.clear()
    bufferevent_setcb(bev, None, None, lambda b, what, arg: events.append(what), None)
    assert bufferevent_socket_connect_hostname(bev, None, socket.AF_INET, "localhost",
                                               port) == 0
    run_until(cbase, lambda: events and len(accepted) == 2)
    assert events == [BEV_EVENT_CONNECTED]
    os.close(accepted[1][0])
    bufferevent_free(bev)
    evconnlistener_free(lev)


def test_bufferevent_connect_failures(cbase):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    addr = s.getsockname()
    s.close()
    bev = bufferevent_socket_new(cbase, -1, BEV_OPT_CLOSE_ON_FREE)
    events = []
    bufferevent_setcb(bev, None, None, lambda b, what, arg: events.append(what), None)
    assert bufferevent_socket_connect(bev, addr) == 0
    run_until(cbase, lambda: events)
    assert events == [BEV_EVENT_ERROR] and bev.last_error == errno.ECONNREFUSED
    bufferevent_free(bev)
    bev = bufferevent_socket_new(cbase, -1, BEV_OPT_CLOSE_ON_FREE)
    events.clear()
    bufferevent_setcb(bev, None, None, lambda b, what, arg: events.append(what), None)
    assert bufferevent_socket_connect_hostname(bev, None, socket.AF_UNSPEC,
                                               "nonexistent.invalid", 80) == 0
    run_until(cbase, lambda: events)
    assert events == [BEV_EVENT_ERROR]
    assert bufferevent_socket_get_dns_error(bev) != 0
    bufferevent_free(bev)


def test_bufferevent_bad_input(cbase, failures):
    assert bufferevent_socket_new(None, -1, 0) is None
    assert bufferevent_socket_new(cbase, -1, 0x100) is None  # unknown option
    assert bufferevent_socket_new(cbase, "fd", 0) is None
    assert bufferevent_pair_new(cbase, 0x100) == (-1, None)
    assert bufferevent_pair_new("base", 0) == (-1, None)
    bev = bufferevent_socket_new(cbase, -1, 0)
    assert bufferevent_enable(bev, EV_SIGNAL) == -1  # wrong iotype
    assert bufferevent_disable(bev, "read") == -1
    bufferevent_setwatermark(bev, EV_READ, -1, 0)  # void: logged
    assert bufferevent_getwatermark(bev, EV_READ) == (0, (0, 0))  # unchanged
    assert bufferevent_getwatermark(bev, EV_READ | EV_WRITE) == (-1, None)
    assert bufferevent_set_timeouts(bev, 5, None) == -1  # must be a timeval
    assert bufferevent_set_timeouts(bev, (-1, 0), None) == -1
    assert bufferevent_write(bev, "str") == -1
    assert bufferevent_write(bev, b"abc", 4) == -1
    assert bufferevent_write_buffer(bev, b"not a buffer") == -1
    assert bufferevent_read(bev, -1) is None
    assert bufferevent_read_buffer(bev, None) == -1
    assert bufferevent_flush(bev, EV_WRITE, 9) == -1
    assert bufferevent_priority_set(bev, "0") == -1
    assert bufferevent_set_max_single_read(bev, "x") == -1
    assert bufferevent_set_max_single_write(bev, None) == -1
    assert bufferevent_socket_connect(bev, None) == -1  # sa == NULL is not supported
    assert bufferevent_socket_connect(bev, 1234) == -1
    assert bufferevent_socket_connect_hostname(bev, None, socket.AF_UNIX, "x", 1) == -1
    assert bufferevent_setfd(bev, "fd") == -1
    bufferevent_setcb(bev, "not callable", None, None, None)
    assert bufferevent_getcb(bev) == (None, None, None, None)
    bufferevent_trigger(bev, EV_SIGNAL, 0)
    bufferevent_trigger_event(bev, BEV_EVENT_EOF, 0x100)
    for getter in (bufferevent_getfd, bufferevent_get_priority,
                   bufferevent_get_max_single_read, bufferevent_get_max_single_write):
        assert getter("bev") == -1
    for getter in (bufferevent_get_base, bufferevent_get_input, bufferevent_get_output,
                   bufferevent_getcb, bufferevent_get_underlying, bufferevent_pair_get_partner,
                   EVBUFFER_INPUT, EVBUFFER_OUTPUT):
        assert getter(None) is None
    assert bufferevent_get_enabled(None) == 0
    assert bufferevent_socket_get_dns_error(None) == 0
    bufferevent_free(42)
    assert len(failures()) >= 30
    bufferevent_free(bev)


# -- listener ---------------------------------------------------------------------------------

def test_evconnlistener_functions(cbase):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    fd = s.detach()
    accepted = []
    lev = evconnlistener_new(cbase, lambda lis, nfd, addr, arg: accepted.append((lis, nfd, arg)),
                             "first", LEV_OPT_DISABLED, 8, fd)
    assert lev is not None
    assert evconnlistener_get_fd(lev) == fd
    errors = []
    evconnlistener_set_error_cb(lev, lambda lis, arg: errors.append(arg))
    c1 = socket.create_connection(("127.0.0.1", port_of(lev)))
    try:
        event_base_loop(cbase, EVLOOP_NONBLOCK)
        assert accepted == []  # LEV_OPT_DISABLED
        assert evconnlistener_enable(lev) == 0
        run_until(cbase, lambda: accepted)
        assert accepted[0][0] is lev and accepted[0][2] == "first"
        assert os.get_blocking(accepted[0][1]) is False
        assert evconnlistener_disable(lev) == 0
        evconnlistener_set_cb(lev, lambda lis, nfd, addr, arg: accepted.append((lis, nfd, arg)),
                              "second")
        c2 = socket.create_connection(("127.0.0.1", port_of(lev)))
        event_base_loop(cbase, EVLOOP_NONBLOCK)
        assert len(accepted) == 1
        assert evconnlistener_enable(lev) == 0
        run_until(cbase, lambda: len(accepted) == 2)
        assert accepted[1][2] == "second"
        c2.close()
        assert errors == []
    finally:
        c1.close()
        for _, nfd, _ in accepted:
            os.close(nfd)
        evconnlistener_free(lev)
    os.fstat(fd)  # not LEV_OPT_CLOSE_ON_FREE: still open
    os.close(fd)


def test_evconnlistener_bad_input(cbase, failures):
    cb = lambda *a: None  # noqa: E731
    assert evconnlistener_new_bind(None, cb, None, 0, -1, ("127.0.0.1", 0)) is None
    assert evconnlistener_new_bind(cbase, cb, None, 1 << 12, -1, ("127.0.0.1", 0)) is None
    assert evconnlistener_new_bind(cbase, "cb", None, 0, -1, ("127.0.0.1", 0)) is None
    assert evconnlistener_new_bind(cbase, cb, None, 0, -1, "x" * 200) is None  # path too long
    assert evconnlistener_new(cbase, cb, None, 0, -1, "fd") is None
    assert evconnlistener_new(cbase, cb, None, 0, -1, -1) is None
    assert evconnlistener_enable(None) == -1
    assert evconnlistener_disable("lev") == -1
    assert evconnlistener_get_fd(None) == -1
    assert evconnlistener_get_base(None) is None
    evconnlistener_set_cb(None, cb, None)
    evconnlistener_set_error_cb(None, cb)
    evconnlistener_free(None)
    lev = evconnlistener_new_bind(cbase, cb, None, 0, -1, ("127.0.0.1", 0))
    evconnlistener_set_cb(lev, 42, None)  # logged; the old cb stays
    evconnlistener_free(lev)
    assert evconnlistener_enable(lev) == -1  # use after free
    assert evconnlistener_get_fd(lev) == -1
    assert len(failures()) >= 13
