"""Life cycle of loops and transports, as asyncio has it: what the first
import of a program does to asyncio's task bookkeeping, the contexts a
protocol's callbacks run in, Unix server socket files, fork, loops that
are dropped without close(), and a loop's EventBase.

Every test runs on the stdlib loop and on evloop unless it is about an
evloop-only object (``loop.event_base``); forks are real (``os.fork`` and
multiprocessing's fork start method) and every wait is bounded.
"""
import asyncio
import contextvars
import gc
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings

import pytest
from aio_harness import known_difference, run

import evloop

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _python(code, *args, timeout=60):
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, PYTHONPATH=ROOT), check=False)


def _fd_set():
    return {fd for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}")}


def _fd_count():
    return len(os.listdir("/proc/self/fd"))


# -- the first import of a program -----------------------------------------------------

# argv[1]: the module the program imports first; argv[2]: the loop it runs.
FIRST_IMPORT = r"""
import sys
if sys.argv[1] == "evloop":
    import evloop              # before anything has imported asyncio
import asyncio
if sys.argv[2] == "evloop":
    import evloop
    make = evloop.new_event_loop
else:
    make = asyncio.SelectorEventLoop

async def child():
    return asyncio.current_task()

async def main():
    me = asyncio.current_task()
    other = asyncio.create_task(child())
    seen = [me is not None, me in asyncio.all_tasks(), (await other) is other]
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(10):     # "Timeout should be used inside a task"
            await asyncio.sleep(0)
    return seen

loop = make()
try:
    print(loop.run_until_complete(main()))
finally:
    loop.close()
"""


def test_tasks_know_themselves_when_the_loop_package_is_imported_first(loop_name):
    # gunicorn (27) imports the worker class, evloop.workers, before
    # anything imports asyncio; uvicorn's shutdown then failed with
    # "Timeout should be used inside a task".
    r = _python(FIRST_IMPORT, loop_name, loop_name)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[0] == "[True, True, True]", r.stderr


def test_importing_evloop_first_leaves_the_stdlib_loop_intact():
    r = _python(FIRST_IMPORT, "evloop", "asyncio")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[0] == "[True, True, True]", r.stderr


# -- contexts of protocol callbacks ----------------------------------------------------
#
# asyncio (3.10-3.13 alike) passes no context to the handles of its
# transports, so each copies the current context when it is made:
# connection_made a copy of the context that made the transport; the read
# callbacks (data_received, get_buffer, buffer_updated, eof_received) one
# persistent copy made when reading starts (and again by resume_reading);
# resume_writing, and connection_lost after a close() with data queued, a
# copy made by the write() that queued into an empty buffer.  Each callback
# below records VAR, then sets it to its own name, so the records also show
# which callbacks share a context.

VAR = contextvars.ContextVar("fidelity_lifecycle_var", default="unset")


def _collapse(seen):
    """Repeated calls of one callback (several reads) as one entry."""
    return [entry for i, entry in enumerate(seen) if i == 0 or seen[i - 1][0] != entry[0]]


class CtxProtocol(asyncio.Protocol):
    def __init__(self, loop, seen, reply=None):
        self.seen = seen
        self.reply = reply
        self.transport = None
        self.lost = loop.create_future()

    def note(self, name):
        self.seen.append((name, VAR.get()))
        VAR.set(name)

    def connection_made(self, transport):
        self.transport = transport
        self.note("connection_made")

    def data_received(self, data):
        self.note("data_received")
        if self.reply is not None:
            self.transport.write(self.reply)

    def eof_received(self):
        self.note("eof_received")     # None: the transport closes

    def pause_writing(self):
        self.note("pause_writing")

    def resume_writing(self):
        self.note("resume_writing")

    def connection_lost(self, exc):
        self.note("connection_lost")
        self.lost.set_result(exc)


class CtxBufferedProtocol(CtxProtocol, asyncio.BufferedProtocol):
    def __init__(self, loop, seen):
        super().__init__(loop, seen)
        self.buf = bytearray(1024)
        self.data = bytearray()

    def get_buffer(self, sizehint):
        self.note("get_buffer")
        return self.buf

    def buffer_updated(self, nbytes):
        self.note("buffer_updated")
        self.data += self.buf[:nbytes]


async def _open_pair(loop, kind, tmp_path, server_factory, client_factory):
    """A server (or an accepted socket) and a client; returns a closer."""
    if kind == "tcp":
        VAR.set("create_server")
        server = await loop.create_server(server_factory, "127.0.0.1", 0)
        VAR.set("after create_server")   # later changes are not seen
        port = server.sockets[0].getsockname()[1]
        VAR.set("create_connection")
        tr, pr = await loop.create_connection(client_factory, "127.0.0.1", port)
    elif kind == "unix":
        path = str(tmp_path / "ctx.sock")
        VAR.set("create_server")
        server = await loop.create_unix_server(server_factory, path)
        VAR.set("after create_server")
        VAR.set("create_connection")
        tr, pr = await loop.create_unix_connection(client_factory, path)
    else:   # connect_accepted_socket, and create_unix_connection(sock=)
        a, b = socket.socketpair()
        server = None
        VAR.set("create_server")
        await loop.connect_accepted_socket(server_factory, a)
        VAR.set("create_connection")
        tr, pr = await loop.create_unix_connection(client_factory, sock=b)
    VAR.set("after create_connection")
    return server, tr, pr


@pytest.mark.parametrize("kind", ["tcp", "unix", "accepted"])
def test_protocol_callbacks_run_in_asyncio_contexts(loop, kind, tmp_path):
    server_seen, client_seen = [], []
    servers = []

    def server_factory():
        server_seen.append(("factory", VAR.get()))
        VAR.set("factory")
        p = CtxProtocol(loop, server_seen, reply=b"pong")
        servers.append(p)
        return p

    async def client():
        server, tr, pr = await _open_pair(loop, kind, tmp_path, server_factory,
                                          lambda: CtxProtocol(loop, client_seen))
        tr.write(b"ping")
        tr.write_eof()
        await pr.lost
        await servers[0].lost
        if server is not None:
            server.close()
            await server.wait_closed()

    async def main():
        VAR.set("main")
        await asyncio.create_task(client())

    run(loop, main())
    expected_server = [("connection_made", "factory"), ("data_received", "factory"),
                       ("eof_received", "data_received"), ("connection_lost", "eof_received")]
    # The accepting task copied the context create_server ran in;
    # connect_accepted_socket calls the factory in the caller's task.
    expected_server.insert(0, ("factory", "create_server"))
    assert _collapse(server_seen) == expected_server
    assert _collapse(client_seen) == [
        ("connection_made", "create_connection"), ("data_received", "create_connection"),
        ("eof_received", "data_received"), ("connection_lost", "eof_received")]


def test_buffered_protocol_callbacks_run_in_the_reading_context(loop):
    seen = []

    async def main():
        server = await loop.create_server(lambda: CtxProtocol(loop, [], reply=b"pong"),
                                          "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        VAR.set("create_connection")
        tr, pr = await loop.create_connection(lambda: CtxBufferedProtocol(loop, seen),
                                              "127.0.0.1", port)
        VAR.set("after create_connection")
        tr.write(b"ping")
        tr.write_eof()
        await pr.lost
        server.close()
        await server.wait_closed()
        return bytes(pr.data)

    assert run(loop, main()) == b"pong"
    assert seen == [("connection_made", "create_connection"),
                    ("get_buffer", "create_connection"), ("buffer_updated", "get_buffer"),
                    ("get_buffer", "buffer_updated"), ("eof_received", "get_buffer"),
                    ("connection_lost", "eof_received")]


def test_resume_reading_reads_in_the_resumers_context(loop):
    seen = []

    async def main():
        server = await loop.create_server(lambda: CtxProtocol(loop, [], reply=b"pong"),
                                          "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        VAR.set("create_connection")
        tr, pr = await loop.create_connection(lambda: CtxProtocol(loop, seen),
                                              "127.0.0.1", port)
        tr.pause_reading()
        VAR.set("resumer")
        tr.resume_reading()
        VAR.set("after resume_reading")
        tr.write(b"ping")
        tr.write_eof()
        await pr.lost
        server.close()
        await server.wait_closed()

    run(loop, main())
    assert _collapse(seen)[:2] == [("connection_made", "create_connection"),
                                   ("data_received", "resumer")]


def test_flow_control_callbacks_run_in_the_writers_context(loop):
    seen = []
    big = b"x" * (16 << 20)     # more than the kernel's socket buffers take

    class Sink(asyncio.Protocol):
        def __init__(self):
            self.n = 0
            self.done = loop.create_future()

        def data_received(self, data):
            self.n += len(data)

        def eof_received(self):
            self.done.set_result(self.n)

    sinks = []

    def sink():
        sinks.append(Sink())
        return sinks[0]

    async def writer(tr):
        VAR.set("writer task")
        tr.set_write_buffer_limits(high=1)
        tr.write(big)         # pause_writing, right here
        VAR.set("after write")
        tr.close()            # with data queued: connection_lost once it drains

    async def main():
        server = await loop.create_server(sink, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        VAR.set("create_connection")
        tr, pr = await loop.create_connection(lambda: CtxProtocol(loop, seen),
                                              "127.0.0.1", port)
        await asyncio.create_task(writer(tr))
        await pr.lost
        n = await sinks[0].done
        server.close()
        await server.wait_closed()
        return n

    assert run(loop, main(), timeout=30) == len(big)
    assert seen == [("connection_made", "create_connection"),
                    ("pause_writing", "writer task"), ("resume_writing", "writer task"),
                    ("connection_lost", "resume_writing")]


# -- Unix server sockets ---------------------------------------------------------------

def _unix_sock(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    return s


@pytest.mark.parametrize("given", ["path", "sock"])
def test_closing_a_unix_server_cleans_up_its_file_as_this_pythons_asyncio(loop, tmp_path, given):
    # cleanup_socket (default True) is Python 3.13's; before, asyncio
    # leaves the socket file, sock= or not.
    path = str(tmp_path / "s.sock")

    async def main():
        if given == "path":
            server = await loop.create_unix_server(asyncio.Protocol, path)
        else:
            server = await loop.create_unix_server(asyncio.Protocol, sock=_unix_sock(path))
        server.close()
        await server.wait_closed()

    run(loop, main())
    assert os.path.exists(path) is (sys.version_info < (3, 13))


def _excused(frame):
    """blockbuster's rule for os.stat/os.unlink: excused inside asyncio's
    own create_unix_server and _stop_serving (and linecache, for
    tracebacks)."""
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename.replace(os.sep, "/")
        if filename.endswith("asyncio/unix_events.py") and code.co_name in (
                "create_unix_server", "_stop_serving"):
            return True
        if filename.endswith("/linecache.py"):
            return True
        frame = frame.f_back
    return False


@pytest.mark.parametrize("cleanup", ["default", "cleanup_socket=True"])
def test_unix_server_makes_no_blocking_file_calls_that_asyncio_does_not(
        loop, loop_name, request, tmp_path, monkeypatch, cleanup):
    # aiohttp's test suite runs blockbuster, which flags os.stat/os.unlink
    # on the event loop thread except asyncio's own.
    kwargs = {}
    if cleanup != "default":
        kwargs["cleanup_socket"] = True
        if sys.version_info < (3, 13):
            known_difference(request, loop_name,
                             "cleanup_socket= is new in Python 3.13's asyncio; evloop accepts "
                             "it on 3.10-3.12 too", on="asyncio")
    flagged = []

    def spy(real):
        def wrapper(*args, **kw):
            if asyncio._get_running_loop() is not None and not _excused(sys._getframe(1)):
                flagged.append((real.__name__, sys._getframe(1).f_code.co_filename))
            return real(*args, **kw)
        return wrapper

    path = str(tmp_path / "bb.sock")

    async def main():
        monkeypatch.setattr(os, "stat", spy(os.stat))
        monkeypatch.setattr(os, "unlink", spy(os.unlink))
        try:
            server = await loop.create_unix_server(asyncio.Protocol, path, **kwargs)
            server.close()
            await server.wait_closed()
        finally:
            monkeypatch.undo()

    run(loop, main())
    assert flagged == []
    assert os.path.exists(path) is (sys.version_info < (3, 13) and cleanup == "default")


@pytest.mark.parametrize("kind", ["tcp", "unix", "tcp sock="])
def test_a_server_that_fails_half_way_closes_the_socket_it_made(loop, loop_name, request,
                                                               tmp_path, kind):
    if kind != "tcp sock=":
        known_difference(request, loop_name,
                         "asyncio leaves the listening socket it made open when the server "
                         "fails after binding, here in listen(): to the garbage collector "
                         "(ResourceWarning), and on 3.13 a Unix one in its cleanup table",
                         on="asyncio")
    given = None
    if kind == "tcp sock=":
        given = socket.socket()
        given.bind(("127.0.0.1", 0))

    async def main():
        with pytest.raises(OverflowError):
            if kind == "unix":
                await loop.create_unix_server(asyncio.Protocol, str(tmp_path / "f.sock"),
                                              backlog=2 ** 100)
            elif given is not None:
                await loop.create_server(asyncio.Protocol, sock=given, backlog=2 ** 100)
            else:
                await loop.create_server(asyncio.Protocol, "127.0.0.1", 0, backlog=2 ** 100)

    before = _fd_set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        run(loop, main())
        still_open = _fd_set() - before
        # asyncio 3.13 also keeps a failed Unix server's socket in the
        # loop's cleanup table; let the collector have it (and warn) here.
        getattr(loop, "_unix_server_sockets", {}).clear()
        gc.collect()
    assert still_open == set()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    if given is not None:
        # The caller's socket: still open, and its own to close.
        assert given.fileno() >= 0
        given.close()


# -- fork ------------------------------------------------------------------------------

def _fork_quietly(start):
    # Python 3.12+ warns (DeprecationWarning) about fork() in a process with
    # threads; pytest turns warnings into errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return start()


@pytest.mark.parametrize("from_thread", [False, True], ids=["main thread", "other thread"])
def test_forked_child_makes_a_loop_with_signal_handlers(loop, loop_factory, from_thread):
    got = loop.create_future()
    loop.add_signal_handler(signal.SIGUSR1, got.set_result, "parent")

    def child():
        code = 2
        try:
            child_loop = loop_factory()
            try:
                fut = child_loop.create_future()
                child_loop.add_signal_handler(signal.SIGUSR2, fut.set_result, "child")
                os.kill(os.getpid(), signal.SIGUSR2)
                if child_loop.run_until_complete(asyncio.wait_for(fut, 10)) == "child":
                    code = 0
            finally:
                child_loop.close()
        finally:
            os._exit(code)

    proc = multiprocessing.get_context("fork").Process(target=child)
    if from_thread:
        t = threading.Thread(target=_fork_quietly, args=(proc.start,))
        t.start()
        t.join()
    else:
        _fork_quietly(proc.start)
    try:
        proc.join(30)
        assert proc.exitcode == 0
    finally:
        if proc.exitcode is None:
            proc.kill()
            proc.join()
        proc.close()
    # The parent's handler still gets the parent's signals.
    os.kill(os.getpid(), signal.SIGUSR1)
    assert run(loop, got) == "parent"
    assert loop.remove_signal_handler(signal.SIGUSR1)


def test_a_signal_of_a_forked_child_does_not_reach_the_parents_loop(loop, loop_name, request):
    if sys.version_info < (3, 12):
        known_difference(request, loop_name,
                         "before Python 3.12 asyncio keeps its wake-up fd in a forked child, "
                         "so a signal the child gets runs the parent's handler (3.12 resets "
                         "it in the child: asyncio/events.py on_fork)", on="asyncio")
    calls = []
    loop.add_signal_handler(signal.SIGUSR1, calls.append, "usr1")
    pid = _fork_quietly(os.fork)
    if pid == 0:
        try:
            os.kill(os.getpid(), signal.SIGUSR1)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # A signal of our own: its byte comes after any the child left.
    fut = loop.create_future()
    loop.add_signal_handler(signal.SIGUSR2, fut.set_result, None)
    os.kill(os.getpid(), signal.SIGUSR2)

    async def main():
        await fut
        await asyncio.sleep(0)    # the sibling callbacks of the same wake-up

    run(loop, main())
    loop.remove_signal_handler(signal.SIGUSR1)
    loop.remove_signal_handler(signal.SIGUSR2)
    assert calls == []


def test_reinit_in_a_forked_child_leaves_the_parents_loop_awake():
    # EventBase.reinit() is libevent's event_reinit: the child's base gets
    # its own epoll instance; the parent's registrations must survive.
    loop = evloop.new_event_loop()
    try:
        got = loop.create_future()
        loop.add_signal_handler(signal.SIGUSR1, got.set_result, "signal")
        pid = _fork_quietly(os.fork)
        if pid == 0:
            code = 1
            try:
                loop.event_base.reinit()
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        # The signal socket is still watched by the parent's epoll.
        os.kill(os.getpid(), signal.SIGUSR1)
        assert loop.run_until_complete(asyncio.wait_for(got, 10)) == "signal"
        # So is the wake-up eventfd: a libevent-face event activated from
        # another thread wakes the sleeping loop.
        woken = loop.create_future()
        ev = evloop.Event(loop.event_base, -1, 0, lambda fd, what, arg: woken.set_result(what))

        def poke():
            time.sleep(0.2)     # let the loop go to sleep first
            ev.active(evloop.EV_TIMEOUT)

        t = threading.Thread(target=poke)
        t.start()
        try:
            assert loop.run_until_complete(asyncio.wait_for(woken, 5)) == evloop.EV_TIMEOUT
        finally:
            t.join()
        loop.remove_signal_handler(signal.SIGUSR1)
    finally:
        loop.close()


# -- loops dropped without close() -----------------------------------------------------

def _drop_loops(loop_factory, n, with_signal=False):
    """Make n loops and drop them; collect.  The ResourceWarnings, by
    message start.

    A selector loop is in a reference cycle (the self-pipe's reader handle
    points back at it), so the collector finalizes it together with its
    self-pipe sockets, in an order of its own; when the sockets go first
    they warn "unclosed socket", and asyncio's __del__ then fails in close()
    ("Invalid file descriptor: -1", seen on 3.12).  The sockets are held
    here until the collection is over, so the test is about the loops."""
    pipes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(n):
            dropped = loop_factory()
            if with_signal:
                dropped.add_signal_handler(signal.SIGUSR1, lambda: None)
            pipes += [dropped._ssock, dropped._csock]
            del dropped
        gc.collect()
    # The loops' close() closed them.
    assert [p.fileno() for p in pipes] == [-1] * len(pipes)
    return [str(w.message).split(" <")[0] for w in caught
            if issubclass(w.category, ResourceWarning)]


def test_dropped_loops_are_collected_closed_and_warned_about(loop_factory):
    gc.collect()
    before = _fd_count()
    assert _drop_loops(loop_factory, 200) == ["unclosed event loop"] * 200
    assert _fd_count() == before


def test_a_dropped_loop_gives_its_signals_back(loop_factory):
    gc.collect()
    before = _fd_count()
    assert _drop_loops(loop_factory, 1, with_signal=True) == ["unclosed event loop"]
    assert _fd_count() == before
    later = loop_factory()
    try:
        got = later.create_future()
        later.add_signal_handler(signal.SIGUSR1, got.set_result, "later")
        os.kill(os.getpid(), signal.SIGUSR1)
        assert later.run_until_complete(asyncio.wait_for(got, 10)) == "later"
        later.remove_signal_handler(signal.SIGUSR1)
    finally:
        later.close()


# -- the EventBase of a loop -----------------------------------------------------------

def test_the_base_of_an_open_loop_cannot_be_freed():
    # Freeing the engine under an open loop would leave a loop that looks
    # open and takes call_soon; close the loop instead.
    loop = evloop.new_event_loop()
    base = loop.event_base
    try:
        for free in (base.free, base.free_nofinalize):
            with pytest.raises(RuntimeError, match=r"close the loop"):
                free()
        assert not base.closed and not loop.is_closed()
        assert loop.run_until_complete(asyncio.sleep(0, "still running")) == "still running"
    finally:
        loop.close()
    assert base.closed
    base.free()                  # idempotent once the loop is closed
    with pytest.raises(RuntimeError, match="closed"):
        loop.call_soon(print)

