# The asyncio subprocess transport (subprocess_exec / subprocess_shell, and
# so asyncio.create_subprocess_exec/_shell), docs/design.md "Pipe and
# process transports".
#
# ProcessTransport is CPython's base_subprocess.BaseSubprocessTransport
# with _UnixSubprocessTransport's _start (subprocess.Popen), compiled, with
# the version-dependent parts of the running Python (3.12 moved the wake-up
# of wait() from process exit to connection_lost; 3.13 sends signals with
# os.kill instead of Popen.send_signal).  Its stdin/stdout/stderr are the
# pipe transports of aio/pipes.pyx, connected through loop.connect_*_pipe
# with the stdlib's own pipe protocols (base_subprocess's
# WriteSubprocessPipeProto / ReadSubprocessPipeProto), so the protocol sees
# pipe_data_received / pipe_connection_lost / process_exited /
# connection_lost in asyncio's order.
#
# The child's exit is watched without a thread and without SIGCHLD: a
# one-shot EV_READ event (ChildExitWatcher) on a pidfd (os.pidfd_open,
# Linux >= 5.3), which becomes readable when the child exits — what the
# stdlib's PidfdChildWatcher does with add_reader.  It works from any
# thread's loop.  Where pidfd_open is missing or refused (old kernel,
# seccomp), one daemon thread per child blocks in waitpid(pid) and hands
# the status to the loop with call_soon_threadsafe — the stdlib's
# ThreadedChildWatcher, its default on 3.8-3.13.

import collections as _collections
import subprocess as _subprocess
import threading as _threading2
from asyncio import base_subprocess as _base_subprocess
from asyncio import transports as _asyncio_transports2

cdef object _pidfd_open = getattr(_os, "pidfd_open", None)
cdef bint _use_pidfd = _pidfd_open is not None
cdef object _waitstatus_to_exitcode = _os.waitstatus_to_exitcode
cdef object _PIPE = _subprocess.PIPE
cdef object _WriteSubprocessPipeProto = _base_subprocess.WriteSubprocessPipeProto
cdef object _ReadSubprocessPipeProto = _base_subprocess.ReadSubprocessPipeProto
cdef bint _WAKE_WAITERS_AT_LOST = _sys2.version_info >= (3, 12)
cdef bint _SIGNAL_WITH_KILL = _sys2.version_info >= (3, 13)


def _process_use_pidfd(flag=None):
    """Testing hook: whether new process transports watch their child
    with a pidfd (True) or the waitpid thread fallback (False); with a
    flag, set it (True only where os.pidfd_open exists).  Returns the
    previous setting."""
    global _use_pidfd
    old = _use_pidfd
    if flag is not None:
        _use_pidfd = bool(flag) and _pidfd_open is not None
    return old


cdef class ChildExitWatcher(Event):
    cdef int _run_custom(self) except -1:
        cdef ProcessTransport tr = self.transport
        cdef object ctx
        if tr is None:
            return 0
        # PidfdChildWatcher's add_reader handle copied the context of
        # subprocess_exec's caller; process_exited is scheduled from there.
        ctx = tr.exit_ctx
        tr.exit_ctx = None
        if ctx is None:
            return tr._child_exited()
        PyContext_Enter(ctx)
        try:
            return tr._child_exited()
        finally:
            PyContext_Exit(ctx)


cdef class ProcessTransport:
    """asyncio.SubprocessTransport for a child made with subprocess.Popen;
    see the module comment."""

    @property
    def __class__(self):
        # isinstance(transport, asyncio.SubprocessTransport) holds (see
        # StreamTransport.__class__); type(transport) stays exact.
        return _ProcessTransportClass

    def __cinit__(self):
        self.pidfd = -1

    def __init__(self, loop, protocol, args, shell, stdin, stdout, stderr, bufsize,
                 waiter=None, extra=None, kwargs=None):
        cdef Loop cl = <Loop?>loop
        self.extra = {} if extra is None else dict(extra)
        self.closed = False
        self.protocol = protocol
        self.loop = loop
        self.proc = None
        self.pid = None
        self.returncode = None
        self.exit_waiters = []
        self.pending_calls = _collections.deque()
        self.pipes = {}
        self.finished = False

        if stdin == _PIPE:
            self.pipes[0] = None
        if stdout == _PIPE:
            self.pipes[1] = None
        if stderr == _PIPE:
            self.pipes[2] = None

        # Create the child process: set the proc attribute
        try:
            self.proc = _subprocess.Popen(
                args, shell=shell, stdin=stdin, stdout=stdout, stderr=stderr,
                universal_newlines=False, bufsize=bufsize, **(kwargs or {}))
        except:
            self.close()
            raise

        self.pid = self.proc.pid
        self.extra["subprocess"] = self.proc

        if loop.get_debug():
            if isinstance(args, (bytes, str)):
                program = args
            else:
                program = args[0]
            _logger.debug("process %r created: pid %s", program, self.pid)

        loop.create_task(self._connect_pipes(waiter))
        # (asyncio registers the child with its watcher right after this.)
        self._watch_exit()

    # -- watching the child --------------------------------------------------

    cdef int _watch_exit(self) except -1:
        cdef ChildExitWatcher w
        cdef Loop loop = <Loop>self.loop
        if _use_pidfd:
            try:
                self.pidfd = _pidfd_open(self.pid)
            except OSError:
                # ENOSYS (kernel < 5.3), EPERM (seccomp), ...: the fallback.
                self.pidfd = -1
        if self.pidfd < 0:
            _threading2.Thread(target=self._wait_in_thread, args=(self.loop, self.pid),
                               name=f"evloop-waitpid-{self.pid}", daemon=True).start()
            return 0
        self.exit_ctx = _copy_context()
        w = ChildExitWatcher.__new__(ChildExitWatcher)
        event_assign_internal(w, loop.base, self.pidfd, C_EV_READ, _noop_cb)
        w.flags = C_EVLIST_INIT
        w.closure = CLOSURE_CUSTOM
        w.pri = 1
        w.transport = self
        event_add_nolock(loop.base, w, 0, False, False)
        self.watcher = w
        return 0

    cdef int _stop_watching(self) except -1:
        cdef ChildExitWatcher w = self.watcher
        if w is not None:
            self.watcher = None
            w.transport = None
            if w.base is not None and not w.base.freed:
                event_del_nolock(w.base, w, False)
        if self.pidfd >= 0:
            close(self.pidfd)
            self.pidfd = -1
        return 0

    cdef int _child_exited(self) except -1:
        # The pidfd is readable: the child exited (PidfdChildWatcher._do_wait).
        cdef object returncode
        pid = self.pid
        self._stop_watching()
        try:
            _, status = _os.waitpid(pid, 0)
        except ChildProcessError:
            # Already reaped: by Popen.poll() (close(), or send_signal()
            # before 3.13), which kept the status, or by a waitpid()
            # elsewhere, which did not (asyncio's watchers report 255).
            returncode = self.proc.returncode if self.proc is not None else None
            if returncode is None:
                returncode = 255
                _logger.warning("child process pid %d exit status already read: "
                                " will report returncode 255", pid)
        else:
            returncode = _waitstatus_to_exitcode(status)
        if self.proc is not None and self.proc.returncode is None:
            self.proc.returncode = returncode
        # asyncio's watcher callback hands the code over with
        # call_soon_threadsafe: process_exited one callback later.
        self.loop.call_soon(self._process_exited, returncode)
        return 0

    def _wait_in_thread(self, loop, pid):
        # The fallback: ThreadedChildWatcher._do_waitpid.
        try:
            _, status = _os.waitpid(pid, 0)
        except ChildProcessError:
            proc = self.proc
            returncode = proc.returncode if proc is not None else None
            if returncode is None:
                returncode = 255
                _logger.warning("Unknown child process pid %d, will report returncode 255",
                                pid)
        else:
            returncode = _waitstatus_to_exitcode(status)
        if loop.is_closed():
            _logger.warning("Loop %r that handles pid %r is closed", loop, pid)
        else:
            loop.call_soon_threadsafe(self._process_exited, returncode)

    def __dealloc__(self):
        if self.pidfd >= 0:
            close(self.pidfd)
            self.pidfd = -1

    # -- asyncio's private interface (base_subprocess) -----------------------

    @property
    def _loop(self):
        return self.loop

    @property
    def _protocol(self):
        return self.protocol

    @property
    def _proc(self):
        return self.proc

    @property
    def _pid(self):
        return self.pid

    @property
    def _returncode(self):
        return self.returncode

    @property
    def _pipes(self):
        return self.pipes

    @property
    def _closed(self):
        return self.closed

    @property
    def _finished(self):
        return self.finished

    @property
    def _extra(self):
        return self.extra

    def get_extra_info(self, name, default=None):
        return self.extra.get(name, default)

    def __repr__(self):
        info = [self.__class__.__name__]
        if self.closed:
            info.append("closed")
        if self.pid is not None:
            info.append(f"pid={self.pid}")
        if self.returncode is not None:
            info.append(f"returncode={self.returncode}")
        elif self.pid is not None:
            info.append("running")
        else:
            info.append("not started")

        stdin = self.pipes.get(0)
        if stdin is not None:
            info.append(f"stdin={stdin.pipe}")

        stdout = self.pipes.get(1)
        stderr = self.pipes.get(2)
        if stdout is not None and stderr is stdout:
            info.append(f"stdout=stderr={stdout.pipe}")
        else:
            if stdout is not None:
                info.append(f"stdout={stdout.pipe}")
            if stderr is not None:
                info.append(f"stderr={stderr.pipe}")

        return "<{}>".format(" ".join(info))

    def set_protocol(self, protocol):
        self.protocol = protocol

    def get_protocol(self):
        return self.protocol

    def is_closing(self):
        return self.closed

    def close(self):
        if self.closed:
            return
        self.closed = True

        for proto in self.pipes.values():
            if proto is None:
                continue
            proto.pipe.close()

        if (self.proc is not None and
                # has the child process finished?
                self.returncode is None and
                # the child process has finished, but the
                # transport hasn't been notified yet?
                self.proc.poll() is None):

            if self.loop is not None and self.loop.get_debug():
                _logger.warning("Close running child process: kill %r", self)

            try:
                self.proc.kill()
            except (ProcessLookupError, PermissionError):
                # the process may have already exited or may be running setuid
                pass

            # Don't clear the proc reference yet: _connect_pipes may still run

    def __del__(self):
        if not self.closed:
            _warnings.warn(f"unclosed transport {self!r}", ResourceWarning, source=self)
            self.close()

    def get_pid(self):
        return self.pid

    def get_returncode(self):
        return self.returncode

    def get_pipe_transport(self, fd):
        if fd in self.pipes:
            return self.pipes[fd].pipe
        else:
            return None

    def _check_proc(self):
        if self.proc is None:
            raise ProcessLookupError()

    def send_signal(self, signal):
        self._check_proc()
        if _SIGNAL_WITH_KILL:
            # 3.13: os.kill, so that a signal never reaps the child.
            try:
                _os.kill(self.proc.pid, signal)
            except ProcessLookupError:
                pass
        else:
            self.proc.send_signal(signal)

    def terminate(self):
        if _SIGNAL_WITH_KILL:
            self.send_signal(_signal.SIGTERM)
        else:
            self._check_proc()
            self.proc.terminate()

    def kill(self):
        if _SIGNAL_WITH_KILL:
            self.send_signal(_signal.SIGKILL)
        else:
            self._check_proc()
            self.proc.kill()

    async def _connect_pipes(self, waiter):
        try:
            proc = self.proc
            loop = self.loop

            if proc.stdin is not None:
                _, pipe = await loop.connect_write_pipe(
                    lambda: _WriteSubprocessPipeProto(self, 0),
                    proc.stdin)
                self.pipes[0] = pipe

            if proc.stdout is not None:
                _, pipe = await loop.connect_read_pipe(
                    lambda: _ReadSubprocessPipeProto(self, 1),
                    proc.stdout)
                self.pipes[1] = pipe

            if proc.stderr is not None:
                _, pipe = await loop.connect_read_pipe(
                    lambda: _ReadSubprocessPipeProto(self, 2),
                    proc.stderr)
                self.pipes[2] = pipe

            assert self.pending_calls is not None

            loop.call_soon(self.protocol.connection_made, self)
            for callback, data in self.pending_calls:
                loop.call_soon(callback, *data)
            self.pending_calls = None
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            if waiter is not None and not waiter.cancelled():
                waiter.set_exception(exc)
        else:
            if waiter is not None and not waiter.cancelled():
                waiter.set_result(None)

    def _call(self, cb, *data):
        if self.pending_calls is not None:
            self.pending_calls.append((cb, data))
        else:
            self.loop.call_soon(cb, *data)

    def _pipe_connection_lost(self, fd, exc):
        self._call(self.protocol.pipe_connection_lost, fd, exc)
        self._try_finish()

    def _pipe_data_received(self, fd, data):
        self._call(self.protocol.pipe_data_received, fd, data)

    def _process_exited(self, returncode):
        assert returncode is not None, returncode
        assert self.returncode is None, self.returncode
        if self.loop.get_debug():
            _logger.info("%r exited with return code %r", self, returncode)
        self.returncode = returncode
        if self.proc.returncode is None:
            # asyncio uses a child watcher: copy the status into the Popen
            # object. On Python 3.6, it is required to avoid a ResourceWarning.
            self.proc.returncode = returncode
        self._call(self.protocol.process_exited)
        if _WAKE_WAITERS_AT_LOST:
            self._try_finish()
        else:
            self._try_finish()
            # wake up futures waiting for wait()
            for waiter in self.exit_waiters:
                if not waiter.cancelled():
                    waiter.set_result(returncode)
            self.exit_waiters = None

    async def _wait(self):
        """Wait until the process exit and return the process return code.

        This method is a coroutine."""
        if self.returncode is not None:
            return self.returncode

        waiter = self.loop.create_future()
        self.exit_waiters.append(waiter)
        return await waiter

    def _try_finish(self):
        assert not self.finished
        if self.returncode is None:
            return
        if all(p is not None and p.disconnected
               for p in self.pipes.values()):
            self.finished = True
            self._call(self._call_connection_lost, None)

    def _call_connection_lost(self, exc):
        try:
            self.protocol.connection_lost(exc)
        finally:
            if _WAKE_WAITERS_AT_LOST:
                # wake up futures waiting for wait()
                for waiter in self.exit_waiters:
                    if not waiter.cancelled():
                        waiter.set_result(self.returncode)
                self.exit_waiters = None
            self.loop = None
            self.proc = None
            self.protocol = None


class _ProcessTransportClass(_asyncio_transports2.SubprocessTransport):
    """What ProcessTransport reports as its __class__; never instantiated."""
    __slots__ = ()

    def __new__(cls, *args, **kwargs):  # pragma: no cover
        raise TypeError("not instantiable: use loop.subprocess_exec()")


_ProcessTransportClass.__name__ = _ProcessTransportClass.__qualname__ = "ProcessTransport"
