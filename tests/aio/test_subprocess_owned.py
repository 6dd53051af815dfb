"""The subprocess transport (subprocess_exec / subprocess_shell and
asyncio.create_subprocess_*), on both loops: the transport contract, the
protocol's call order, early-closed pipes, many children at once, children
of a thread's loop, big communicate(), signals, close() of a running child;
afterwards no zombie is left.  On evloop every transport is evloop's own and
no thread is started."""
import asyncio
import gc
import os
import signal
import subprocess
import sys
import threading
import warnings

import pytest

import evloop
from aio_harness import run
from evloop import _evloop


def assert_no_zombie():
    # Every child this test made was reaped: waitpid(-1) has none left.
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return
    assert pid == 0 or pytest.fail(f"an unreaped child: {pid}")
    # A child still running (pid 0): none of ours may be a zombie either.
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                assert fields[0] != "Z", f"zombie child {entry}"


def assert_owned(loop_name, proc):
    if loop_name == "evloop":
        tr = proc._transport
        assert type(tr).__module__ == "evloop._evloop", type(tr)
        for fd in (0, 1, 2):
            pipe = tr.get_pipe_transport(fd)
            if pipe is not None:
                assert type(pipe).__module__ == "evloop._evloop", type(pipe)


class ProcRecorder(asyncio.SubprocessProtocol):
    def __init__(self, loop):
        self.calls = []
        self.out = {1: bytearray(), 2: bytearray()}
        self.done = loop.create_future()

    def connection_made(self, transport):
        self.calls.append("made")

    def pipe_data_received(self, fd, data):
        if self.calls[-1] != ("data", fd):
            self.calls.append(("data", fd))
        self.out[fd] += data

    def pipe_connection_lost(self, fd, exc):
        self.calls.append(("pipe_lost", fd, exc))

    def process_exited(self):
        self.calls.append("exited")

    def connection_lost(self, exc):
        self.calls.append(("lost", exc))
        self.done.set_result(None)


def test_transport_contract_and_call_order(loop, loop_name):
    async def main():
        tr, proto = await loop.subprocess_exec(
            lambda: ProcRecorder(loop), sys.executable, "-c",
            "import sys; sys.stdout.write(sys.stdin.read().upper()); sys.exit(7)",
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None)
        if loop_name == "evloop":
            assert type(tr).__module__ == "evloop._evloop"
        assert isinstance(tr, asyncio.SubprocessTransport)
        assert tr.get_pid() > 0
        assert tr.get_returncode() is None
        assert tr.get_pipe_transport(2) is None
        assert isinstance(tr.get_extra_info("subprocess"), subprocess.Popen)
        stdin = tr.get_pipe_transport(0)
        stdin.write(b"shout")
        stdin.close()
        await proto.done
        assert tr.get_returncode() == 7
        assert proto.out[1] == b"SHOUT"
        # asyncio's order: made, pipe events, and connection_lost last,
        # after the exit and every pipe.
        assert proto.calls[0] == "made"
        assert proto.calls[-1] == ("lost", None)
        middle = proto.calls[1:-1]
        assert set(middle) == {("data", 1), ("pipe_lost", 0, None), ("pipe_lost", 1, None),
                               "exited"}
        assert middle.index(("data", 1)) < middle.index(("pipe_lost", 1, None))
        tr.close()
        assert tr.is_closing()
        with pytest.raises(ProcessLookupError):
            tr.send_signal(signal.SIGTERM)   # the process is gone

    run(loop, main(), timeout=30)
    assert_no_zombie()


def test_child_closes_stdout_early(loop, loop_name):
    async def main():
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c",
            "import os, sys, time; sys.stdout.write('bye'); sys.stdout.flush(); "
            "os.close(1); time.sleep(0.3); sys.exit(4)",
            stdout=asyncio.subprocess.PIPE)
        assert_owned(loop_name, proc)
        out = await proc.stdout.read()      # EOF long before the exit
        assert proc.returncode is None
        return out, await proc.wait()

    assert run(loop, main(), timeout=30) == (b"bye", 4)
    assert_no_zombie()


def test_many_concurrent_subprocesses(loop, loop_name):
    async def one(i):
        proc = await asyncio.create_subprocess_exec(
            "sh", "-c", f"echo {i}; exit {i % 7}", stdout=asyncio.subprocess.PIPE)
        assert_owned(loop_name, proc)
        out, _ = await proc.communicate()
        return int(out), proc.returncode

    async def main():
        return await asyncio.gather(*(one(i) for i in range(200)))

    results = run(loop, main(), timeout=120)
    assert results == [(i, i % 7) for i in range(200)]
    assert_no_zombie()


def test_subprocess_from_a_thread_loop(loop_factory, loop_name):
    # A loop running in a non-main thread starts children and sees them
    # exit (no signal handler can be installed there).
    results = []

    def worker():
        lp = loop_factory()
        try:
            async def main():
                procs = [await asyncio.create_subprocess_exec(
                    sys.executable, "-c", f"print({i})", stdout=asyncio.subprocess.PIPE)
                    for i in range(5)]
                if loop_name == "evloop":
                    for p in procs:
                        assert_owned(loop_name, p)
                return [(await p.communicate())[0] for p in procs], [p.returncode for p in procs]
            results.append(lp.run_until_complete(asyncio.wait_for(main(), 30)))
        except BaseException as exc:  # reported below
            results.append(exc)
        finally:
            lp.close()

    t = threading.Thread(target=worker)
    t.start()
    t.join(60)
    assert not t.is_alive()
    assert results == [([b"%d\n" % i for i in range(5)], [0] * 5)]
    assert_no_zombie()


def test_communicate_big_input_and_output(loop, loop_name):
    data = os.urandom(1024) * 4096   # 4 MiB

    async def main():
        proc = await asyncio.create_subprocess_exec(
            "cat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        assert_owned(loop_name, proc)
        out, err = await proc.communicate(data)
        return out, err, proc.returncode

    out, err, rc = run(loop, main(), timeout=60)
    assert out == data and err == b"" and rc == 0
    assert_no_zombie()


def test_shell_signals_and_kill_on_close(loop, loop_name):
    async def main():
        proc = await asyncio.create_subprocess_shell(
            "exec sleep 60", stdout=asyncio.subprocess.PIPE)
        assert_owned(loop_name, proc)
        proc.send_signal(signal.SIGTERM)
        assert await proc.wait() == -signal.SIGTERM
        proc2 = await asyncio.create_subprocess_exec("sleep", "60")
        proc2.kill()
        assert await proc2.wait() == -signal.SIGKILL
        # close() of a transport whose child still runs kills it (asyncio's
        # BaseSubprocessTransport.close).
        tr, proto = await loop.subprocess_exec(lambda: ProcRecorder(loop), "sleep", "60")
        tr.close()
        await proto.done
        return tr.get_returncode()

    assert run(loop, main(), timeout=30) == -signal.SIGKILL
    assert_no_zombie()


def test_spawn_failure(loop):
    async def main():
        with pytest.raises(FileNotFoundError):
            await asyncio.create_subprocess_exec("/nonexistent/program")

    run(loop, main())
    assert_no_zombie()


def test_unclosed_process_transport_warns(loop):
    async def main():
        tr, proto = await loop.subprocess_exec(lambda: ProcRecorder(loop), "true")
        await proto.done
        return tr

    tr = run(loop, main())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        del tr
        gc.collect()
    assert any(issubclass(w.category, ResourceWarning) and "unclosed transport" in str(w.message)
               for w in caught), [str(w.message) for w in caught]
    assert_no_zombie()


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs os.pidfd_open")
def test_waitpid_thread_fallback():
    # Where pidfd_open is missing, a waitpid thread per child (documented).
    old = _evloop._process_use_pidfd(False)
    try:
        async def main():
            proc = await asyncio.create_subprocess_exec(
                "sh", "-c", "read x; exit 3", stdin=asyncio.subprocess.PIPE)
            # the child waits for its input: its waitpid thread is there
            names = [t.name for t in threading.enumerate()]
            assert f"evloop-waitpid-{proc.pid}" in names, names
            await proc.communicate(b"go\n")
            return proc.returncode
        assert evloop.run(main()) == 3
    finally:
        _evloop._process_use_pidfd(old)
    assert_no_zombie()


def test_no_thread_under_evloop_run():
    # create_subprocess_exec(...).communicate() under evloop.run: the child
    # is watched by a pidfd event, not a thread.  Threads are compared by
    # identity (a fallback test's waitpid thread may still be ending when
    # this one starts: it may go, but no thread may come).
    started = []

    async def main():
        before = set(threading.enumerate())
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import sys; sys.stdout.write(sys.stdin.read())",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        started.append(set(threading.enumerate()) - before)
        out, _ = await proc.communicate(b"x" * 100000)
        started.append(set(threading.enumerate()) - before)
        assert_owned("evloop", proc)
        return out

    out = evloop.run(main())
    assert out == b"x" * 100000
    assert started == [set(), set()], started
    assert_no_zombie()
