# The asyncio pipe transports (connect_read_pipe / connect_write_pipe, and
# the stdin/stdout/stderr of subprocesses) on a Bufferevent over the pipe's
# fd (docs/design.md, "Pipe and process transports").
#
# Like StreamTransport (aio/transports.pyx), each transport *is* a socket-
# kind Bufferevent: its EV_READ / EV_WRITE events and output Evbuffer are
# the bufferevent's, and the transport overrides the hooks it needs:
#
# * ReadPipeTransport._socket_read read()s up to 256 KiB (asyncio's
#   max_size) into the loop's receive buffer and hands one `bytes` to
#   protocol.data_received; the input Evbuffer stays unused.
# * WritePipeTransport.write() tries write() at once when nothing is
#   queued (asyncio's fast path) and queues the rest in the output
#   Evbuffer, which the bufferevent's write event drains with writev().
#   The write low watermark is 0, so _run_writecb runs once the output is
#   empty: that is where asyncio's _write_ready resumes the protocol and
#   finishes a close.  On a fifo or socket, the EV_READ event watches the
#   write end: it fires when the reader closes (asyncio's "reader trick").
#
# Contexts (contextvars) are asyncio's, as StreamTransport keeps them: the
# read callbacks run in a copy of the context reading started in (the
# call_soon'd _start_reading, or resume_reading()'s caller: asyncio's reader
# handle); the drain callbacks (resume_writing, the end of close()) in a
# copy of the context of the write() that queued into an empty buffer
# (asyncio's writer handle); the reader-closed callback in a copy of the
# context the reader watch started in.
#
# Everything else follows CPython's _UnixReadPipeTransport and
# _UnixWritePipeTransport (asyncio/unix_events.py, the same in 3.10-3.13
# apart from is_reading, which 3.11 added) method by method: same checks,
# same messages, same order of protocol calls.  Differences: write() of a
# non-bytes object raises TypeError (asyncio asserts), and the transports
# are not instances of the asyncio classes (they report one as __class__,
# as StreamTransport does).

import errno as _errno
import stat as _stat
from asyncio import transports as _asyncio_transports

cdef int C_EIO = _errno.EIO
cdef int C_EPIPE = _errno.EPIPE
cdef object _S_ISFIFO = _stat.S_ISFIFO
cdef object _S_ISSOCK = _stat.S_ISSOCK
cdef object _S_ISCHR = _stat.S_ISCHR
cdef bint _IS_AIX = _sys2.platform.startswith("aix")


cdef class ReadPipeTransport(Bufferevent):
    """asyncio.ReadTransport for the read end of a pipe, a socket or a
    character device (a PTY master): made by connect_read_pipe."""

    max_size = 256 * 1024   # bytes read in one pass at most (asyncio's max_size)

    @property
    def __class__(self):
        # isinstance(transport, asyncio.ReadTransport) holds (see
        # StreamTransport.__class__); type(transport) stays exact.
        return _ReadPipeTransportClass

    def __init__(self, loop, pipe, protocol, waiter=None, extra=None):
        cdef Loop cl = <Loop?>loop
        fileno = pipe.fileno()
        mode = _os.fstat(fileno).st_mode
        if not (_S_ISFIFO(mode) or _S_ISSOCK(mode) or _S_ISCHR(mode)):
            raise ValueError("Pipe transport is for pipes/sockets only.")
        Bufferevent.__init__(self, cl.base, fileno, 0)
        self.loop = loop
        self.pipe = pipe
        self.fileno = fileno
        self.extra = {} if extra is None else dict(extra)
        self.extra["pipe"] = pipe
        self.protocol = protocol
        self.proto_data_received = protocol.data_received
        self.enabled = 0
        _os.set_blocking(fileno, False)
        loop.call_soon(protocol.connection_made, self)
        # only start reading when connection_made() has been called
        loop.call_soon(self._start_reading)
        if waiter is not None:
            # only wake up the waiter when connection_made() has been called
            loop.call_soon(_set_result_unless_cancelled, waiter, None)

    def _start_reading(self):
        if self.is_reading() and not self.freed:
            # asyncio's call_soon(_add_reader): the reader handle copies
            # the context this runs in.
            self.read_ctx = _copy_context()
            self.enabled |= C_EV_READ
            self._enable_impl(C_EV_READ)

    @property
    def _loop(self):
        return self.loop

    @property
    def _pipe(self):
        return self.pipe

    @property
    def _fileno(self):
        return self.fileno if self.pipe is not None else None

    @property
    def _protocol(self):
        return self.protocol

    @property
    def _closing(self):
        return self.closing

    @property
    def _paused(self):
        return self.paused

    def get_extra_info(self, name, default=None):
        return self.extra.get(name, default)

    def is_reading(self):
        return not self.paused and not self.closing

    def set_protocol(self, protocol):
        self.protocol = protocol
        self.proto_data_received = protocol.data_received

    def get_protocol(self):
        return self.protocol

    def is_closing(self):
        return self.closing

    def __repr__(self):
        info = [self.__class__.__name__]
        if self.pipe is None:
            info.append("closed")
        elif self.closing:
            info.append("closing")
        info.append(f"fd={self.fileno}")
        if self.pipe is not None:
            polling = not self.freed and bool(self.ev_read.flags & C_EVLIST_INSERTED)
            info.append("polling" if polling else "idle")
        else:
            info.append("closed")
        return "<{}>".format(" ".join(info))

    cdef int _socket_read(self, int res) except -1:
        # asyncio's _read_ready runs in its reader handle's context.
        cdef object ctx = self.read_ctx
        if ctx is None:
            return self._read_ready_c()
        PyContext_Enter(ctx)
        try:
            return self._read_ready_c()
        finally:
            PyContext_Exit(ctx)

    cdef int _read_ready_c(self) except -1:
        cdef ssize_t n
        cdef int err
        if self.closing or self.freed:
            return 0
        # (No GIL release: a non-blocking read returns at once.)
        n = read(self.fileno, RECV_BUF, RECV_BUF_SIZE)
        err = errno
        if n > 0:
            self.proto_data_received(PyBytes_FromStringAndSize(RECV_BUF, n))
            return 0
        if n == 0:
            if self.loop.get_debug():
                _logger.info("%r was closed by peer", self)
            self.closing = True
            self.enabled &= ~C_EV_READ
            self._disable_impl(C_EV_READ)
            self.loop.call_soon(self.protocol.eof_received)
            self.loop.call_soon(self._call_connection_lost, None)
            return 0
        if err == EAGAIN or err == EINTR:
            return 0
        self._fatal_error_c(OSError(err, _os.strerror(err)),
                            "Fatal read error on pipe transport")
        return 0

    def pause_reading(self):
        if not self.is_reading():
            return
        self.paused = True
        self.enabled &= ~C_EV_READ
        if not self.freed:
            self._disable_impl(C_EV_READ)
        if self.loop.get_debug():
            _logger.debug("%r pauses reading", self)

    def resume_reading(self):
        if self.closing or not self.paused:
            return
        self.paused = False
        if not self.freed:
            # asyncio adds a new reader handle: the caller's context, copied.
            self.read_ctx = _copy_context()
            self.enabled |= C_EV_READ
            self._enable_impl(C_EV_READ)
        if self.loop.get_debug():
            _logger.debug("%r resumes reading", self)

    def close(self):
        if not self.closing:
            self._close_c(None)

    def __del__(self):
        if self.pipe is not None:
            _warnings.warn(f"unclosed transport {self!r}", ResourceWarning, source=self)
            self.pipe.close()

    def _fatal_error(self, exc, message="Fatal error on pipe transport"):
        self._fatal_error_c(exc, message)

    cdef int _fatal_error_c(self, object exc, str message) except -1:
        # asyncio: EIO is how a PTY master reports that the other side
        # closed; it is not worth the exception handler.
        if isinstance(exc, OSError) and exc.errno == C_EIO:
            if self.loop.get_debug():
                _logger.debug("%r: %s", self, message, exc_info=True)
        else:
            self.loop.call_exception_handler({
                "message": message, "exception": exc,
                "transport": self, "protocol": self.protocol})
        self._close_c(exc)
        return 0

    def _close(self, exc):
        self._close_c(exc)

    cdef int _close_c(self, object exc) except -1:
        self.closing = True
        self.enabled &= ~C_EV_READ
        if not self.freed:
            self._disable_impl(C_EV_READ)
        self.loop.call_soon(self._call_connection_lost, exc)
        return 0

    def _call_connection_lost(self, exc):
        try:
            self.protocol.connection_lost(exc)
        finally:
            if not self.freed:
                self._teardown()
            self.pipe.close()
            self.pipe = None
            self.protocol = None
            self.proto_data_received = None
            self.read_ctx = None
            self.loop = None


cdef class WritePipeTransport(Bufferevent):
    """asyncio.WriteTransport for the write end of a pipe, a socket or a
    character device (a PTY master): made by connect_write_pipe."""

    @property
    def __class__(self):
        return _WritePipeTransportClass

    def __init__(self, loop, pipe, protocol, waiter=None, extra=None):
        cdef Loop cl = <Loop?>loop
        fileno = pipe.fileno()
        mode = _os.fstat(fileno).st_mode
        is_char = _S_ISCHR(mode)
        is_fifo = _S_ISFIFO(mode)
        is_socket = _S_ISSOCK(mode)
        if not (is_char or is_fifo or is_socket):
            raise ValueError("Pipe transport is only for "
                             "pipes, sockets and character devices")
        Bufferevent.__init__(self, cl.base, fileno, 0)
        self.loop = loop
        self.pipe = pipe
        self.fileno = fileno
        self.extra = {} if extra is None else dict(extra)
        self.extra["pipe"] = pipe
        self.protocol = protocol
        self.high_water = 64 * 1024
        self.low_water = 16 * 1024
        # writecb only once the output is empty: asyncio's _write_ready
        # resumes the protocol (and ends a close) when its buffer drained.
        self.wm_write_low = 0
        self.max_single_write = 1 << 30
        self.enabled = 0
        _os.set_blocking(fileno, False)
        loop.call_soon(protocol.connection_made, self)
        # asyncio: on AIX the reader trick (notified when the read end
        # closes) only works for sockets; elsewhere for pipes and sockets.
        self.watch_reader = bool(is_socket or (is_fifo and not _IS_AIX))
        if self.watch_reader:
            # only start reading when connection_made() has been called
            loop.call_soon(self._start_reader)
        if waiter is not None:
            loop.call_soon(_set_result_unless_cancelled, waiter, None)

    def _start_reader(self):
        if not self.freed and self.pipe is not None:
            # asyncio's call_soon(loop._add_reader): its handle's context.
            self.reader_ctx = _copy_context()
            self.enabled |= C_EV_READ
            self._enable_impl(C_EV_READ)

    @property
    def _loop(self):
        return self.loop

    @property
    def _pipe(self):
        return self.pipe

    @property
    def _fileno(self):
        return self.fileno if self.pipe is not None else None

    @property
    def _protocol(self):
        return self.protocol

    @property
    def _closing(self):
        return self.closing

    @property
    def _protocol_paused(self):
        return self.protocol_paused

    @property
    def _conn_lost(self):
        return self.conn_lost

    def get_extra_info(self, name, default=None):
        return self.extra.get(name, default)

    def __repr__(self):
        info = [self.__class__.__name__]
        if self.pipe is None:
            info.append("closed")
        elif self.closing:
            info.append("closing")
        info.append(f"fd={self.fileno}")
        if self.pipe is not None:
            polling = not self.freed and bool(self.ev_write.flags & C_EVLIST_INSERTED)
            info.append("polling" if polling else "idle")
            info.append(f"bufsize={self.get_write_buffer_size()}")
        else:
            info.append("closed")
        return "<{}>".format(" ".join(info))

    def get_write_buffer_size(self):
        return self.output.total_len

    cdef int _socket_read(self, int res) except -1:
        # The fd of a write end became "readable": the reader closed
        # (asyncio's _read_ready, in its reader handle's context).
        cdef object ctx = self.reader_ctx
        if ctx is None:
            return self._reader_closed()
        PyContext_Enter(ctx)
        try:
            return self._reader_closed()
        finally:
            PyContext_Exit(ctx)

    cdef int _reader_closed(self) except -1:
        if self.freed or self.pipe is None:
            return 0
        if self.loop.get_debug():
            _logger.info("%r was closed by peer", self)
        if self.output.total_len:
            self._close_c(BrokenPipeError())
        else:
            self._close_c(None)
        return 0

    def write(self, data):
        cdef Py_buffer view
        cdef ssize_t n
        cdef int err
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be a bytes-like object, "
                            f"not {type(data).__name__!r}")
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            if view.len == 0:
                return
            if self.conn_lost or self.closing:
                if self.conn_lost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                    _logger.warning("pipe closed by peer or "
                                    "os.write(pipe, data) raised exception.")
                self.conn_lost += 1
                return
            n = 0
            if self.output.total_len == 0:
                # Attempt to send it right away first.
                n = write(self.fileno, view.buf, view.len)
                if n < 0:
                    err = errno
                    if err == EAGAIN or err == EINTR:
                        n = 0
                    else:
                        self.conn_lost += 1
                        self._fatal_error_c(OSError(err, _os.strerror(err)),
                                            "Fatal write error on pipe transport")
                        return
                if n == view.len:
                    return
                # asyncio adds its writer handle here: this context, copied.
                self.write_ctx = _copy_context()
            # Queue the rest; the output callback starts the write event.
            self.enabled |= C_EV_WRITE
            self.output._add(<char *>view.buf + n, view.len - n)
        finally:
            PyBuffer_Release(&view)
        self._maybe_pause_protocol()

    def writelines(self, list_of_data):
        # asyncio's WriteTransport.writelines: one write of the joined data.
        self.write(b"".join(list_of_data))

    cdef int _run_writecb(self, int options) except -1:
        # The output drained (the write low watermark is 0): asyncio's
        # _write_ready after a complete write, in its writer handle's context.
        cdef object ctx = self.write_ctx
        if ctx is None:
            return self._write_drained()
        PyContext_Enter(ctx)
        try:
            return self._write_drained()
        finally:
            PyContext_Exit(ctx)

    cdef int _write_drained(self) except -1:
        self.enabled &= ~C_EV_WRITE
        self._maybe_resume_protocol()   # may append to the buffer
        if self.closing and self.output.total_len == 0 and not self.freed:
            self.enabled &= ~C_EV_READ
            self._disable_impl(C_EV_READ)
            self._call_connection_lost(None)
        return 0

    cdef int _run_readcb(self, int options) except -1:
        return 0

    cdef int _run_eventcb(self, int what, int options) except -1:
        cdef object ctx
        if not (what & C_BEV_EVENT_ERROR):
            return 0
        if self.last_error == C_EPIPE and self.watch_reader:
            # The reader closed while output was queued.  asyncio's
            # selector reports the fd readable and writable in the same
            # pass and runs the reader first, so the protocol sees its
            # _read_ready's BrokenPipeError() (no errno), not the write's.
            return self._socket_read(C_EV_READ)
        # asyncio's _write_ready fails in its writer handle's context.
        ctx = self.write_ctx
        if ctx is None:
            return self._write_failed(self.last_error)
        PyContext_Enter(ctx)
        try:
            return self._write_failed(self.last_error)
        finally:
            PyContext_Exit(ctx)

    cdef int _write_failed(self, int err) except -1:
        # asyncio: the buffer cleared, the write counted as lost.
        self.output.freeze_start &= ~FROZEN_BEV
        self.output._drain(self.output.total_len)
        self.output.freeze_start |= FROZEN_BEV
        self.conn_lost += 1
        self._fatal_error_c(OSError(err, _os.strerror(err)),
                            "Fatal write error on pipe transport")
        return 0

    def can_write_eof(self):
        return True

    def write_eof(self):
        if self.closing:
            return
        if self.pipe is None:
            raise RuntimeError("write_eof() on a closed pipe transport")
        self.closing = True
        if self.output.total_len == 0:
            self.enabled &= ~C_EV_READ
            if not self.freed:
                self._disable_impl(C_EV_READ)
            self.loop.call_soon(self._call_connection_lost, None)

    def set_protocol(self, protocol):
        self.protocol = protocol

    def get_protocol(self):
        return self.protocol

    def is_closing(self):
        return self.closing

    def close(self):
        if self.pipe is not None and not self.closing:
            # write_eof is all what we needed to close the write pipe
            self.write_eof()

    def __del__(self):
        if self.pipe is not None:
            _warnings.warn(f"unclosed transport {self!r}", ResourceWarning, source=self)
            self.pipe.close()

    def abort(self):
        self._close_c(None)

    # -- flow control (asyncio's _FlowControlMixin) ------------------------

    def get_write_buffer_limits(self):
        return (self.low_water, self.high_water)

    def set_write_buffer_limits(self, high=None, low=None):
        if high is None:
            high = 64 * 1024 if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self.high_water = high
        self.low_water = low
        self._maybe_pause_protocol()

    cdef int _maybe_pause_protocol(self) except -1:
        if self.output.total_len <= self.high_water:
            return 0
        if not self.protocol_paused:
            self.protocol_paused = True
            try:
                self.protocol.pause_writing()
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self.loop.call_exception_handler({
                    "message": "protocol.pause_writing() failed",
                    "exception": exc, "transport": self, "protocol": self.protocol})
        return 0

    cdef int _maybe_resume_protocol(self) except -1:
        if self.protocol_paused and self.output.total_len <= self.low_water:
            self.protocol_paused = False
            try:
                self.protocol.resume_writing()
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self.loop.call_exception_handler({
                    "message": "protocol.resume_writing() failed",
                    "exception": exc, "transport": self, "protocol": self.protocol})
        return 0

    # -- closing -------------------------------------------------------------

    def _fatal_error(self, exc, message="Fatal error on pipe transport"):
        self._fatal_error_c(exc, message)

    cdef int _fatal_error_c(self, object exc, str message) except -1:
        if isinstance(exc, OSError):
            if self.loop.get_debug():
                _logger.debug("%r: %s", self, message, exc_info=True)
        else:
            self.loop.call_exception_handler({
                "message": message, "exception": exc,
                "transport": self, "protocol": self.protocol})
        self._close_c(exc)
        return 0

    def _close(self, exc=None):
        self._close_c(exc)

    cdef int _close_c(self, object exc) except -1:
        self.closing = True
        if not self.freed:
            if self.output.total_len:
                self.output.freeze_start &= ~FROZEN_BEV
                self.output._drain(self.output.total_len)
                self.output.freeze_start |= FROZEN_BEV
            self.enabled &= ~(C_EV_READ | C_EV_WRITE)
            self._disable_impl(C_EV_READ | C_EV_WRITE)
        self.loop.call_soon(self._call_connection_lost, exc)
        return 0

    def _call_connection_lost(self, exc):
        if self.pipe is None:
            return
        try:
            self.protocol.connection_lost(exc)
        finally:
            if not self.freed:
                self._teardown()
            self.pipe.close()
            self.pipe = None
            self.protocol = None
            self.write_ctx = self.reader_ctx = None
            self.loop = None


class _ReadPipeTransportClass(_asyncio_transports.ReadTransport):
    """What ReadPipeTransport reports as its __class__ (see
    StreamTransport.__class__); never instantiated."""
    __slots__ = ()

    def __new__(cls, *args, **kwargs):  # pragma: no cover
        raise TypeError("not instantiable: use loop.connect_read_pipe()")


class _WritePipeTransportClass(_asyncio_transports._FlowControlMixin,
                               _asyncio_transports.WriteTransport):
    """What WritePipeTransport reports as its __class__; never instantiated."""
    __slots__ = ()

    def __new__(cls, *args, **kwargs):  # pragma: no cover
        raise TypeError("not instantiable: use loop.connect_write_pipe()")


_ReadPipeTransportClass.__name__ = _ReadPipeTransportClass.__qualname__ = "ReadPipeTransport"
_WritePipeTransportClass.__name__ = _WritePipeTransportClass.__qualname__ = "WritePipeTransport"
