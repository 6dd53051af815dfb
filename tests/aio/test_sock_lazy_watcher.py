"""evloop only: the lazy read watcher of the compiled sock_* coroutines
(evloop/aio/sockops.pyx).

A sock_recv leaves its EV_READ watcher registered after it completes; the
watcher deletes itself when it fires with nobody waiting, and steps aside
when the fd is taken by anything else: another socket object with the same
fd number, add_reader, a transport, a libevent-face Event, loop close.
These tests look at the watchers through ``loop.event_base.foreach_event``
and check that nothing is lost or leaked when fd numbers are reused.  Also
evloop-only: a sock_recv of more than 120 KiB reads at most 256 KiB.
"""
import asyncio
import contextlib
import errno
import gc
import socket
import weakref

import pytest

import evloop
from aio_harness import run


@pytest.fixture
def loop_name():
    # Only evloop: this is its own mechanism (the harness still checks
    # teardown, the exception handler and ResourceWarnings).
    return "evloop"


def sock_watchers(loop):
    """[(fd, "read"/"write")] of the loop's registered sock watchers."""
    found = []

    def visit(base, ev, arg):
        if type(ev).__name__ == "SockWatcher" and ev.pending(evloop.EV_READ | evloop.EV_WRITE):
            found.append((ev.fd, "read" if ev.events & evloop.EV_READ else "write"))
        return 0

    loop.event_base.foreach_event(visit)
    return found


def nonblocking_pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


async def recv_once(loop, a, b, payload=b"x"):
    """A sock_recv that has to wait (so it registers the watcher)."""
    t = loop.create_task(loop.sock_recv(a, 100))
    await asyncio.sleep(0.005)
    await loop.sock_sendall(b, payload)
    return await t


def test_read_watcher_stays_registered_between_calls(loop, pair):
    a, b = pair

    async def main():
        assert await recv_once(loop, a, b, b"one") == b"one"
        assert sock_watchers(loop) == [(a.fileno(), "read")]
        # The next call waits on the same registration.
        assert await recv_once(loop, a, b, b"two") == b"two"
        assert sock_watchers(loop) == [(a.fileno(), "read")]
        return True

    assert run(loop, main())


def test_idle_watcher_deletes_itself_when_it_fires(loop, pair):
    a, b = pair

    async def main():
        await recv_once(loop, a, b)
        assert sock_watchers(loop) == [(a.fileno(), "read")]
        b.send(b"unasked")          # readable with nobody waiting
        await asyncio.sleep(0.01)
        assert sock_watchers(loop) == []
        # The data is still there for the next call (tried at once).
        return await loop.sock_recv(a, 100)

    assert run(loop, main()) == b"unasked"


def test_cancelled_recv_leaves_idle_watcher_that_goes_away(loop, pair):
    a, b = pair

    async def main():
        t = loop.create_task(loop.sock_recv(a, 100))
        await asyncio.sleep(0.005)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        b.send(b"late")
        await asyncio.sleep(0.01)
        assert sock_watchers(loop) == []
        return await loop.sock_recv(a, 100)

    assert run(loop, main()) == b"late"


def test_write_watcher_is_removed_when_sendall_completes(loop, pair):
    a, b = pair
    payload = b"w" * (4 << 20)

    async def main():
        writer = loop.create_task(loop.sock_sendall(b, payload))
        await asyncio.sleep(0.005)
        assert (b.fileno(), "write") in sock_watchers(loop)
        got = 0
        while got < len(payload):
            got += len(await loop.sock_recv(a, 1 << 20))
        await writer
        assert (b.fileno(), "write") not in sock_watchers(loop)
        return got

    assert run(loop, main()) == len(payload)


def reuse_fd(number, make):
    """Call make() until it returns sockets of which one has fd ``number``
    (the kernel hands out the lowest free number, so this is immediate);
    returns (that socket, the others)."""
    made = []
    try:
        for _ in range(20):
            socks = make()
            made.extend(socks)
            for s in socks:
                if s.fileno() == number:
                    return s, [o for o in made if o is not s]
    except BaseException:
        for s in made:
            s.close()
        raise
    for s in made:
        s.close()
    pytest.fail(f"fd {number} was not reused")


@contextlib.asynccontextmanager
async def stale_fd_reused(loop):
    """A socketpair read once with sock_recv (its lazy watcher stays
    registered), closed, and its fd number handed to a new socketpair:
    yields (new socket with that number, its peer); closes both after."""
    a, b = nonblocking_pair()
    try:
        await recv_once(loop, a, b)
        fd = a.fileno()
    finally:
        a.close()
        b.close()
    new, others = reuse_fd(fd, socket.socketpair)
    try:
        yield new, others[0]
    finally:
        new.close()
        for s in others:
            s.close()


def test_closed_socket_fd_reused_by_socketpair(loop):
    a, b = nonblocking_pair()

    async def main():
        await recv_once(loop, a, b, b"old")
        fd = a.fileno()
        assert sock_watchers(loop) == [(fd, "read")]
        a.close()                    # the lazy watcher is still registered
        b.close()
        new, others = reuse_fd(fd, socket.socketpair)
        try:
            peer = others[-1] if others else None
            for s in [new] + others:
                s.setblocking(False)
            # The new socket with the reused number works, both ways.
            peer = [s for s in others][0]
            t = loop.create_task(loop.sock_recv(new, 100))
            await asyncio.sleep(0.005)
            await loop.sock_sendall(peer, b"new socket")
            assert await t == b"new socket"
            await loop.sock_sendall(new, b"reply")
            assert await loop.sock_recv(peer, 100) == b"reply"
            assert sock_watchers(loop).count((fd, "read")) == 1
        finally:
            new.close()
            for s in others:
                s.close()
        return True

    assert run(loop, main())


def test_closed_socket_fd_reused_by_accept(loop):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(10)
    srv.setblocking(False)
    a, b = nonblocking_pair()

    async def main():
        await recv_once(loop, a, b)
        fd = a.fileno()
        a.close()
        b.close()
        client = socket.socket()
        client.setblocking(False)
        conns = []
        try:
            # client may take the number itself; then accept gets another
            await loop.sock_connect(client, srv.getsockname())
            conn, _ = await loop.sock_accept(srv)
            conns.append(conn)
            assert fd in (client.fileno(), conn.fileno())
            t = loop.create_task(loop.sock_recv(conn, 100))
            await asyncio.sleep(0.005)
            await loop.sock_sendall(client, b"c->s")
            assert await t == b"c->s"
            t = loop.create_task(loop.sock_recv(client, 100))
            await asyncio.sleep(0.005)
            await loop.sock_sendall(conn, b"s->c")
            assert await t == b"s->c"
        finally:
            client.close()
            for c in conns:
                c.close()
        return True

    try:
        assert run(loop, main())
    finally:
        srv.close()


def test_reused_fd_taken_by_transport(loop):
    class Collect(asyncio.Protocol):
        def __init__(self):
            self.data = loop.create_future()

        def data_received(self, data):
            if not self.data.done():
                self.data.set_result(data)

    async def main():
        async with stale_fd_reused(loop) as (new, peer):
            tr, proto = await loop.create_connection(Collect, sock=new)
            peer.setblocking(False)
            await loop.sock_sendall(peer, b"to the transport")
            data = await asyncio.wait_for(proto.data, 2)
            tr.close()
            await asyncio.sleep(0.01)
        return data

    assert run(loop, main()) == b"to the transport"


def test_reused_fd_taken_by_add_reader(loop):
    async def main():
        async with stale_fd_reused(loop) as (new, peer):
            fired = loop.create_future()
            loop.add_reader(new, lambda: fired.done() or fired.set_result(new.recv(100)))
            assert sock_watchers(loop) == []
            peer.send(b"to the reader")
            data = await asyncio.wait_for(fired, 2)
            assert loop.remove_reader(new)
        return data

    assert run(loop, main()) == b"to the reader"


def test_reused_fd_taken_by_libevent_event(loop):
    async def main():
        async with stale_fd_reused(loop) as (new, peer):
            fired = loop.create_future()
            ev = evloop.Event(loop.event_base, new.fileno(), evloop.EV_READ,
                              lambda fd, what, arg: fired.done() or fired.set_result(what))
            try:
                ev.add()
                assert sock_watchers(loop) == []
                peer.send(b"!")
                return await asyncio.wait_for(fired, 2)
            finally:
                ev.delete()

    assert run(loop, main()) & evloop.EV_READ


def test_watcher_does_not_keep_a_dropped_socket_alive(loop):
    a, b = nonblocking_pair()

    async def main():
        await recv_once(loop, a, b)
        assert sock_watchers(loop) == [(a.fileno(), "read")]

    try:
        run(loop, main())
        ref = weakref.ref(a)
        a.close()
        a = None  # the last reference (main() closes over it: not del)
        gc.collect()
        assert ref() is None
    finally:
        b.close()


def test_loop_close_releases_watchers(loop_factory):
    lp = loop_factory()
    a, b = nonblocking_pair()
    try:
        async def main():
            await recv_once(lp, a, b)
            pending = lp.create_task(lp.sock_recv(a, 100))
            await asyncio.sleep(0.005)
            return pending

        pending = lp.run_until_complete(main())
        assert sock_watchers(lp) == [(a.fileno(), "read")]
        pending.cancel()
        lp.run_until_complete(asyncio.sleep(0))
    finally:
        lp.close()
    ref = weakref.ref(a)
    a.close()
    b.close()
    a = None  # the last reference (main() closes over it: not del)
    gc.collect()
    assert ref() is None


def test_wait_first_then_data_already_there(loop, pair):
    # The idle-watcher path waits for readiness without trying recv; data
    # that arrived before the call must still be delivered.
    a, b = pair

    async def main():
        await recv_once(loop, a, b)
        b.send(b"already here")
        return await loop.sock_recv(a, 100)

    assert run(loop, main()) == b"already here"


def test_idle_watcher_other_socket_same_number_is_dropped(loop):
    # A sock op on the same fd number with another socket object (the first
    # one was detached, not closed) re-registers instead of trusting the
    # old watcher.
    a, b = nonblocking_pair()

    async def main():
        await recv_once(loop, a, b)
        fd = a.detach()
        other = socket.socket(fileno=fd)
        other.setblocking(False)
        try:
            b.send(b"to other")
            got = await loop.sock_recv(other, 100)
            assert sock_watchers(loop).count((fd, "read")) <= 1
            return got
        finally:
            other.close()

    try:
        assert run(loop, main()) == b"to other"
    finally:
        b.close()


def test_closed_socket_while_waiting_fails_with_ebadf_not_other_fd(loop):
    # A socket closed while its sock_recv waits must never read another
    # socket that got the same fd number; its operation fails with EBADF
    # (what its recv() raises) when the number is taken over.
    a, b = nonblocking_pair()

    async def main():
        t = loop.create_task(loop.sock_recv(a, 100))
        await asyncio.sleep(0.005)
        fd = a.fileno()
        a.close()
        b.close()
        new, others = reuse_fd(fd, socket.socketpair)
        peer = others[0]
        try:
            for s in [new] + others:
                s.setblocking(False)
            r = loop.create_task(loop.sock_recv(new, 100))
            await asyncio.sleep(0.005)
            peer.send(b"for new only")
            assert await asyncio.wait_for(r, 2) == b"for new only"
            assert t.done()
            with pytest.raises(OSError) as info:
                t.result()
            assert info.value.errno == errno.EBADF
        finally:
            new.close()
            for s in others:
                s.close()
        return True

    assert run(loop, main())


@pytest.mark.parametrize("taker", ["transport", "event", "add_reader"])
def test_fd_of_closed_socket_with_waiting_recv_taken_over(loop, taker):
    # The old socket's sock_recv still waits when its fd number is taken by
    # a transport / a libevent-face Event / add_reader: the newcomer must
    # get its events, the old operation fails with EBADF.
    a, b = nonblocking_pair()

    class Collect(asyncio.Protocol):
        def __init__(self):
            self.data = loop.create_future()

        def data_received(self, data):
            if not self.data.done():
                self.data.set_result(data)

    async def main():
        t = loop.create_task(loop.sock_recv(a, 100))
        await asyncio.sleep(0.005)
        fd = a.fileno()
        a.close()
        b.close()
        new, others = reuse_fd(fd, socket.socketpair)
        peer = others[0]
        ev = tr = None
        try:
            if taker == "transport":
                tr, proto = await loop.create_connection(Collect, sock=new)
                got = proto.data
            elif taker == "event":
                got = loop.create_future()
                ev = evloop.Event(loop.event_base, new.fileno(), evloop.EV_READ,
                                  lambda fd, what, arg: got.done() or got.set_result(new.recv(100)))
                ev.add()
            else:
                got = loop.create_future()
                new.setblocking(False)
                loop.add_reader(new, lambda: got.done() or got.set_result(new.recv(100)))
            peer.send(b"newcomer")
            data = await asyncio.wait_for(got, 2)
            assert t.done()
            with pytest.raises(OSError) as info:
                t.result()
            assert info.value.errno == errno.EBADF
            return data
        finally:
            if ev is not None:
                ev.delete()
            if taker == "add_reader":
                loop.remove_reader(new)
            if tr is not None:
                tr.close()
                await asyncio.sleep(0.01)
            new.close()
            for s in others:
                s.close()

    assert run(loop, main()) == b"newcomer"


def test_remove_reader_drops_idle_watcher_and_returns_false(loop, pair):
    # An idle lazy watcher is not a reader (asyncio would have removed its
    # reader already): remove_reader says False, and the watcher is gone.
    a, b = pair

    async def main():
        await recv_once(loop, a, b)
        assert sock_watchers(loop) == [(a.fileno(), "read")]
        assert loop.remove_reader(a) is False
        assert sock_watchers(loop) == []
        # sock_recv still works afterwards (registers again)
        return await recv_once(loop, a, b, b"again")

    assert run(loop, main()) == b"again"


def test_add_writer_on_fd_with_idle_reader(loop, pair):
    # add_writer on the same fd takes it over: the idle reader steps aside
    # (the fd_yield hook) and both the writer and later sock_recv work.
    a, b = pair

    async def main():
        await recv_once(loop, a, b)
        writable = loop.create_future()
        loop.add_writer(a, lambda: writable.done() or writable.set_result(True))
        assert await asyncio.wait_for(writable, 2)
        assert loop.remove_writer(a) is True
        return await recv_once(loop, a, b, b"still reads")

    assert run(loop, main()) == b"still reads"


def test_large_recv_size_reads_through_loop_buffer(loop, pair):
    # sock_recv(n) with n above 120 KiB reads at most the loop's 256 KiB
    # buffer per call (no mmap'ed bytes of n per call); nothing is lost.
    a, b = pair
    b.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    payload = bytes(range(256)) * 2048       # 512 KiB

    async def main():
        writer = loop.create_task(loop.sock_sendall(b, payload))
        got = []
        total = 0
        while total < len(payload):
            chunk = await loop.sock_recv(a, 8 << 20)
            assert 0 < len(chunk) <= 256 * 1024
            got.append(chunk)
            total += len(chunk)
        await writer
        return b"".join(got)

    assert run(loop, main()) == payload
