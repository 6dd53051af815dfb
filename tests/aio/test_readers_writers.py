"""add_reader / remove_reader / add_writer / remove_writer on socketpairs,
on both loops (asyncio's ``selector_events`` semantics: a second add
replaces the callback, remove returns True only if something was
registered, callbacks are level-triggered)."""
import asyncio
import socket

import pytest

from aio_harness import run


def test_add_reader_fires_on_data(loop, pair):
    a, b = pair
    got = loop.create_future()

    def on_readable(sock):
        data = sock.recv(100)
        if not got.done():
            got.set_result(data)

    loop.add_reader(a.fileno(), on_readable, a)
    b.send(b"ping")
    assert run(loop, got) == b"ping"
    assert loop.remove_reader(a.fileno()) is True
    assert loop.remove_reader(a.fileno()) is False


def test_add_reader_accepts_socket_object(loop, pair):
    a, b = pair
    got = loop.create_future()
    loop.add_reader(a, lambda: got.done() or got.set_result(a.recv(10)))
    b.send(b"obj")
    assert run(loop, got) == b"obj"
    # Removing by the fd number works for a reader added with the object.
    assert loop.remove_reader(a.fileno()) is True
    assert loop.remove_reader(a) is False


def test_remove_unknown_reader_and_writer(loop, pair):
    a, b = pair
    assert loop.remove_reader(a) is False
    assert loop.remove_writer(a) is False


def test_add_writer_fires_when_writable(loop, pair):
    a, b = pair
    fired = loop.create_future()
    loop.add_writer(a, lambda: fired.done() or fired.set_result("writable"))
    assert run(loop, fired) == "writable"
    assert loop.remove_writer(a) is True
    assert loop.remove_writer(a) is False


def test_reader_is_level_triggered(loop, pair):
    a, b = pair
    calls = []
    done = loop.create_future()

    def on_readable():
        # Read one byte per call: the callback must keep firing while
        # data remains.
        calls.append(a.recv(1))
        if len(calls) == 5:
            loop.remove_reader(a)
            done.set_result(None)

    loop.add_reader(a, on_readable)
    b.send(b"12345")
    run(loop, done)
    assert calls == [b"1", b"2", b"3", b"4", b"5"]


def test_add_reader_twice_replaces_callback(loop, pair):
    a, b = pair
    seen = []
    done = loop.create_future()

    def first():
        seen.append("first")

    def second():
        seen.append("second")
        a.recv(100)
        done.set_result(None)

    loop.add_reader(a, first)
    loop.add_reader(a, second)
    b.send(b"x")
    run(loop, done)
    assert seen == ["second"]
    assert loop.remove_reader(a) is True
    assert loop.remove_reader(a) is False


def test_reader_and_writer_on_the_same_fd(loop, pair):
    a, b = pair
    events = set()
    done = loop.create_future()

    def mark(what):
        events.add(what)
        if what == "r":
            a.recv(100)
            loop.remove_reader(a)
        else:
            loop.remove_writer(a)
        if events == {"r", "w"}:
            done.set_result(None)

    loop.add_reader(a, mark, "r")
    loop.add_writer(a, mark, "w")
    b.send(b"x")
    run(loop, done)
    assert events == {"r", "w"}
    # Removing one direction left the other untouched and both are gone.
    assert loop.remove_reader(a) is False
    assert loop.remove_writer(a) is False


def test_remove_writer_keeps_reader(loop, pair):
    a, b = pair
    got = loop.create_future()
    loop.add_reader(a, lambda: got.done() or got.set_result(a.recv(10)))
    loop.add_writer(a, lambda: None)
    assert loop.remove_writer(a) is True
    b.send(b"still")
    assert run(loop, got) == b"still"
    assert loop.remove_reader(a) is True


def test_remove_reader_inside_its_callback(loop, pair):
    a, b = pair
    calls = []

    def on_readable():
        calls.append(1)
        loop.remove_reader(a)   # data stays unread: no second call

    loop.add_reader(a, on_readable)
    b.send(b"unread")
    run(loop, asyncio.sleep(0.02))
    assert calls == [1]


def test_reader_removed_by_earlier_callback_does_not_run(loop, pair):
    a, b = pair
    c, d = socket.socketpair()
    c.setblocking(False)
    calls = []
    try:
        def first():
            calls.append("first")
            loop.remove_reader(a)
            loop.remove_reader(c)

        def second():
            calls.append("second")

        # Both become readable before the loop polls; whichever runs first
        # removes the other, which must then not run.
        loop.add_reader(a, first)
        loop.add_reader(c, second)
        b.send(b"x")
        d.send(b"y")
        run(loop, asyncio.sleep(0.02))
    finally:
        loop.remove_reader(c)
        c.close()
        d.close()
    assert calls in (["first"], ["second", "first"])


def test_writer_args(loop, pair):
    a, b = pair
    got = loop.create_future()
    loop.add_writer(a, lambda x, y: got.done() or got.set_result((x, y)), 1, "two")
    assert run(loop, got) == (1, "two")
    loop.remove_writer(a)


def test_add_reader_invalid_fd(loop):
    with pytest.raises(ValueError):
        loop.add_reader(-1, print)
    with pytest.raises(ValueError):
        loop.add_writer(-1, print)
    with pytest.raises(ValueError):
        loop.add_reader(object(), print)


def test_echo_over_add_reader_add_writer(loop, pair):
    """A tiny non-blocking echo built only on add_reader/add_writer."""
    a, b = pair
    payload = bytes(range(256)) * 4096   # 1 MiB
    received = bytearray()
    done = loop.create_future()
    out = memoryview(payload)
    state = {"sent": 0}

    def on_writable():
        try:
            n = b.send(out[state["sent"]:state["sent"] + 65536])
        except BlockingIOError:
            return
        state["sent"] += n
        if state["sent"] == len(payload):
            loop.remove_writer(b)
            b.shutdown(socket.SHUT_WR)

    def on_readable():
        try:
            chunk = a.recv(65536)
        except BlockingIOError:
            return
        if not chunk:
            loop.remove_reader(a)
            done.set_result(None)
            return
        received.extend(chunk)

    loop.add_reader(a, on_readable)
    loop.add_writer(b, on_writable)
    run(loop, done)
    assert bytes(received) == payload
