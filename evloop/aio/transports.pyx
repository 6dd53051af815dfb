# The asyncio stream transport (TCP and Unix sockets) on a socket
# Bufferevent (docs/design.md, "The asyncio face").
#
# StreamTransport *is* a socket Bufferevent: its EV_READ/EV_WRITE events,
# enable/disable switches and output Evbuffer are the bufferevent's, and
# `transport.get_extra_info('bufferevent')` returns it.  It overrides three
# of the bufferevent's hooks:
#
# * _socket_read: instead of filling the input Evbuffer and calling readcb,
#   it recv()s into the loop's 256 KiB buffer and hands one `bytes` to
#   protocol.data_received (or recv_into()s the BufferedProtocol's buffer):
#   no Python frame of evloop between epoll_wait and the protocol;
# * _run_writecb: the bufferevent calls it when output drains to the write
#   low watermark, which is set to the transport's low water mark — that is
#   resume_writing(), and, once output is empty, the end of close() and
#   write_eof();
# * _run_eventcb: write errors become the protocol's connection_lost(exc).
#
# write() tries send() at once when nothing is queued (uvloop's and
# asyncio's fast path) and queues only the rest, so the output Evbuffer
# (and its writev() of up to 64 chunks) is used only under back-pressure.
#
# Contexts (contextvars): asyncio runs a transport's protocol callbacks in
# the contexts of the loop handles that call them, and evloop keeps the same
# contexts without the handles (the same on 3.10-3.13: selector_events.py
# passes no context, so each handle copies the current one):
# * connection_made: call_soon from __init__ (a copy of the context that
#   made the transport: the create_connection caller's, or the accepting
#   task's, which copied the one create_server/start_serving ran in);
# * data_received, get_buffer, buffer_updated, eof_received (and what they
#   call: pause_writing, close): the reader handle's context, copied when
#   reading starts (_start_reading, itself run by call_soon) and again by
#   each resume_reading() -- read_ctx;
# * resume_writing, and connection_lost once the output drains after
#   close(): the writer handle's context, copied by the write() that queued
#   data into an empty buffer -- write_ctx;
# * pause_writing: inside write(), the caller's; connection_lost after
#   close()/abort(): call_soon from there, a copy of the caller's.
#
# The rest follows asyncio's _SelectorSocketTransport method by method
# (same names, same messages), so protocols see the same calls in the same
# order.  A Cython class cannot derive from asyncio.Transport, yet
# isinstance(transport, asyncio.Transport) holds: the class reports a Python
# subclass through __class__ (see __init__).

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE, PyByteArray_Resize
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE, PyBUF_WRITABLE

from asyncio import base_events as _base_events
from asyncio import constants as _aconstants
from asyncio import futures as _futures
from asyncio import protocols as _protocols
from asyncio import transports as _asyncio_transports
from asyncio import trsock as _trsock
import warnings as _warnings

cdef extern from "<sys/socket.h>" nogil:
    ssize_t c_recv "recv" (int fd, void *buf, size_t n, int flags)
    ssize_t c_send "send" (int fd, const void *buf, size_t n, int flags)
    int MSG_NOSIGNAL

cdef enum:
    RECV_BUF_SIZE = 262144
    WRITELINES_IOV = 64

cdef char RECV_BUF[262144]
cdef object _BufferedProtocol = _protocols.BufferedProtocol
# asyncio.start_server/open_connection's protocol: when a transport's
# protocol is exactly the stdlib StreamReaderProtocol over an exact
# StreamReader (and neither method was replaced), _socket_read does what
# StreamReaderProtocol.data_received -> StreamReader.feed_data do, in C:
# the bytes go straight from the receive buffer into reader._buffer.
cdef object _StreamReaderProtocol = _asyncio.StreamReaderProtocol
cdef object _StreamReader = _asyncio.StreamReader
cdef object _SRP_data_received = _asyncio.StreamReaderProtocol.data_received
cdef object _SR_feed_data = _asyncio.StreamReader.feed_data
cdef object _SR_wakeup_waiter = _asyncio.StreamReader._wakeup_waiter
cdef object _TransportSocket = _trsock.TransportSocket
cdef int LOG_THRESHOLD_FOR_CONNLOST_WRITES = _aconstants.LOG_THRESHOLD_FOR_CONNLOST_WRITES
cdef object _set_result_unless_cancelled = _futures._set_result_unless_cancelled


cdef class StreamTransport(Bufferevent):
    """asyncio.Transport for a connected stream socket, on a Bufferevent.

    Made by the loop (create_connection, create_server, start_server,
    open_connection, connect_accepted_socket, the unix variants); see the
    module comment for how it maps onto the bufferevent."""

    _sendfile_compatible = _aconstants._SendfileMode.TRY_NATIVE
    _start_tls_compatible = True

    @property
    def __class__(self):
        # isinstance(transport, asyncio.Transport) must hold (aiohttp and
        # others check it), but a Cython class cannot derive from
        # asyncio.Transport (its __slots__ conflict with our C layout).
        # isinstance() consults __class__ when the real type does not match,
        # so report a Python subclass of asyncio.Transport (mock uses the
        # same rule); type(transport) stays exact.
        return _TransportClass

    def __init__(self, loop, sock, protocol, waiter=None, extra=None, server=None):
        cdef Loop cl = <Loop?>loop
        Bufferevent.__init__(self, cl.base, sock.fileno(), 0)
        self.loop = loop
        self.sock = sock
        self.extra = {} if extra is None else dict(extra)
        self.extra["socket"] = _TransportSocket(sock)
        try:
            self.extra["sockname"] = sock.getsockname()
        except OSError:
            self.extra["sockname"] = None
        if "peername" not in self.extra:
            try:
                self.extra["peername"] = sock.getpeername()
            except OSError:
                self.extra["peername"] = None
        self.extra["bufferevent"] = self
        self.server = server
        self.high_water = 64 * 1024
        self.low_water = 16 * 1024
        # writecb (resume_writing / end of close) when output <= low water
        self.wm_write_low = self.low_water
        self.max_single_write = 1 << 30
        self.enabled = 0
        self._set_protocol(protocol)
        if server is not None:
            # 3.13's Server tracks its transports (evloop's own Server does
            # on 3.10-3.12, see evloop/loop.py); older ones only count.
            if _sys2.version_info >= (3, 13) or getattr(server, "_clients", None) is not None:
                server._attach(self)
            else:
                server._attach()
        loop._transports[self.fd] = self
        _base_events._set_nodelay(sock)
        self.protocol_connected = True
        loop.call_soon(protocol.connection_made, self)
        # Reading starts only after connection_made ran.
        loop.call_soon(self._start_reading)
        if waiter is not None:
            loop.call_soon(_set_result_unless_cancelled, waiter, None)

    def _start_reading(self):
        if not self.closing and not self.paused and not self.freed:
            # asyncio's call_soon(_add_reader): the reader handle copies
            # the context this runs in (see the module comment).
            self.read_ctx = _copy_context()
            self.enabled |= C_EV_READ
            self._enable_impl(C_EV_READ)

    cdef int _set_protocol_c(self, object protocol) except -1:
        self.protocol = protocol
        if isinstance(protocol, _BufferedProtocol):
            self.proto_buffered = True
            self.proto_get_buffer = protocol.get_buffer
            self.proto_buffer_updated = protocol.buffer_updated
            self.proto_data_received = None
        else:
            self.proto_buffered = False
            self.proto_data_received = protocol.data_received
            self.proto_get_buffer = self.proto_buffer_updated = None
        self.proto_stream = (type(protocol) is _StreamReaderProtocol
                             and _StreamReaderProtocol.data_received is _SRP_data_received
                             and _StreamReader.feed_data is _SR_feed_data
                             and _StreamReader._wakeup_waiter is _SR_wakeup_waiter)
        return 0

    def _set_protocol(self, protocol):
        self._set_protocol_c(protocol)

    def set_protocol(self, protocol):
        self._set_protocol_c(protocol)

    def get_protocol(self):
        return self.protocol

    @property
    def _sock(self):
        return self.sock

    @property
    def _sock_fd(self):
        return self.fd

    @property
    def _loop(self):
        return self.loop

    @property
    def _protocol(self):
        return self.protocol

    @property
    def _closing(self):
        return self.closing

    @property
    def _protocol_paused(self):
        # asyncio's _FlowControlMixin attribute (sendfile's fallback reads it)
        return self.protocol_paused

    @property
    def _server(self):
        return self.server

    @property
    def _extra(self):
        return self.extra

    def get_extra_info(self, name, default=None):
        return self.extra.get(name, default)

    def is_closing(self):
        return self.closing

    def is_reading(self):
        return not self.paused and not self.closing

    def pause_reading(self):
        if self.closing or self.paused:
            return
        self.paused = True
        self.enabled &= ~C_EV_READ
        self._disable_impl(C_EV_READ)

    def resume_reading(self):
        if self.closing or not self.paused:
            return
        self.paused = False
        # asyncio adds a new reader handle: the caller's context, copied.
        self.read_ctx = _copy_context()
        self.enabled |= C_EV_READ
        self._enable_impl(C_EV_READ)

    # -- reading ---------------------------------------------------------

    cdef int _socket_read(self, int res) except -1:
        # asyncio's _read_ready runs in its reader handle's context.
        cdef object ctx = self.read_ctx
        if ctx is None:
            return self._read_ready_c(res)
        PyContext_Enter(ctx)
        try:
            return self._read_ready_c(res)
        finally:
            PyContext_Exit(ctx)

    cdef int _read_ready_c(self, int res) except -1:
        cdef ssize_t n
        cdef Py_buffer view
        cdef int err = 0
        cdef bint got_view
        if self.closing or self.freed:
            return 0
        if self.proto_buffered:
            try:
                buf = self.proto_get_buffer(-1)
                if not len(buf):
                    raise RuntimeError("get_buffer() returned an empty buffer")
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error_c(exc, "Fatal error: protocol.get_buffer() call failed.")
                return 0
            got_view = False
            try:
                PyObject_GetBuffer(buf, &view, PyBUF_WRITABLE)
                got_view = True
            except (BufferError, TypeError):
                pass
            if got_view:
                try:
                    n = c_recv(self.fd, view.buf, view.len, 0)
                    err = errno
                finally:
                    PyBuffer_Release(&view)
            else:
                # Not a writable buffer (bytes, a read-only memoryview):
                # asyncio's sock.recv_into(buf) raises TypeError, a fatal
                # read error that closes the transport.  The socket's own
                # call raises the same exception.
                try:
                    n = self.sock.recv_into(buf)
                except (BlockingIOError, InterruptedError):
                    return 0
                except (SystemExit, KeyboardInterrupt):
                    raise
                except BaseException as exc:
                    self._fatal_error_c(exc, "Fatal read error on socket transport")
                    return 0
            if n > 0:
                try:
                    self.proto_buffer_updated(n)
                except (SystemExit, KeyboardInterrupt):
                    raise
                except BaseException as exc:
                    self._fatal_error_c(exc, "Fatal error: protocol.buffer_updated() call failed.")
                return 0
        else:
            n = c_recv(self.fd, RECV_BUF, RECV_BUF_SIZE, 0)
            err = errno
            if n > 0 and self.proto_stream:
                try:
                    self._stream_feed(n)
                except (SystemExit, KeyboardInterrupt):
                    raise
                except BaseException as exc:
                    self._fatal_error_c(
                        exc, "Fatal error: protocol.data_received() call failed.")
                return 0
            if n > 0:
                try:
                    self.proto_data_received(PyBytes_FromStringAndSize(RECV_BUF, n))
                except (SystemExit, KeyboardInterrupt):
                    raise
                except BaseException as exc:
                    self._fatal_error_c(
                        exc, "Fatal error: protocol.data_received() call failed.")
                return 0
        if n == 0:
            return self._read_ready_on_eof()
        if err == EAGAIN or err == EINTR:
            return 0
        self._fatal_error_c(OSError(err, _os.strerror(err)),
                            "Fatal read error on socket transport")
        return 0

    cdef int _stream_feed(self, Py_ssize_t n) except -1:
        # StreamReaderProtocol.data_received(RECV_BUF[:n]) and the
        # StreamReader.feed_data it calls, statement by statement, without
        # making a bytes object (see _StreamReaderProtocol above).
        cdef Py_ssize_t old
        wr = self.protocol._stream_reader_wr
        if wr is None:
            return 0
        reader = wr()
        if reader is None:
            return 0
        buf = reader._buffer
        if (type(reader) is not _StreamReader or type(buf) is not bytearray
                or reader._eof):
            # Anything unusual (including feed_data after feed_eof, which
            # must fail as the stdlib fails): the stdlib's own code.
            reader.feed_data(PyBytes_FromStringAndSize(RECV_BUF, n))
            return 0
        old = PyByteArray_GET_SIZE(buf)
        PyByteArray_Resize(buf, old + n)
        memcpy(PyByteArray_AS_STRING(buf) + old, RECV_BUF, n)
        waiter = reader._waiter
        if waiter is not None:
            reader._waiter = None
            if not waiter.cancelled():
                waiter.set_result(None)
        if (reader._transport is not None and not reader._paused
                and PyByteArray_GET_SIZE(buf) > 2 * reader._limit):
            try:
                reader._transport.pause_reading()
            except NotImplementedError:
                reader._transport = None
            else:
                reader._paused = True
        return 0

    cdef int _read_ready_on_eof(self) except -1:
        if self.loop.get_debug():
            _logger.debug("%r received EOF", self)
        try:
            keep_open = self.protocol.eof_received()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error_c(exc, "Fatal error: protocol.eof_received() call failed.")
            return 0
        if keep_open:
            # Stop reading; the protocol closes when it is done writing.
            self.enabled &= ~C_EV_READ
            self._disable_impl(C_EV_READ)
        else:
            self.close()
        return 0

    # -- writing ---------------------------------------------------------

    def write(self, data):
        cdef Py_buffer view
        cdef ssize_t n
        cdef int err
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be a bytes-like object, "
                            f"not {type(data).__name__!r}")
        if self.eof:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self.empty_waiter is not None:
            raise RuntimeError("unable to write; sendfile is in progress")
        if self.conn_lost:
            if self.conn_lost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                _logger.warning("socket.send() raised exception.")
            self.conn_lost += 1
            return
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            if view.len == 0:
                return
            if self.output.total_len == 0:
                # Try to write right away.
                n = self._sent(c_send(self.fd, view.buf, view.len, MSG_NOSIGNAL))
                if n < 0:
                    return
                if n == view.len:
                    return
                # asyncio adds its writer handle here: this context, copied.
                self.write_ctx = _copy_context()
            else:
                n = 0
            # Queue the rest; the output callback starts the write event.
            self.enabled |= C_EV_WRITE
            self.output._add(<char *>view.buf + n, view.len - n)
        finally:
            PyBuffer_Release(&view)
        self._maybe_pause_protocol()

    cdef Py_ssize_t _sent(self, Py_ssize_t n) except -2:
        # The result of a send()/writev() just made: the bytes written (0
        # for EAGAIN/EINTR), or -1 once a real error closed the transport.
        cdef int err
        if n >= 0:
            return n
        err = errno
        if err == EAGAIN or err == EINTR:
            return 0
        self._fatal_error_c(OSError(err, _os.strerror(err)),
                            "Fatal write error on socket transport")
        return -1

    def writelines(self, list_of_data):
        # All the buffers in one writev() when nothing is queued (asyncio
        # 3.12+ and uvloop send them together too); the unsent rest queued.
        cdef Py_buffer views[WRITELINES_IOV]
        cdef iovec iov[WRITELINES_IOV]
        cdef Py_ssize_t nbuf = 0, total = 0, n, i, skip
        cdef int err
        datas = list_of_data if type(list_of_data) is list else list(list_of_data)
        for data in datas:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"data argument must be a bytes-like object, "
                                f"not {type(data).__name__!r}")
        if (len(datas) < 2 or len(datas) > WRITELINES_IOV or self.output.total_len
                or self.eof or self.empty_waiter is not None or self.conn_lost):
            # Nothing to gain from writev (or write()'s errors to raise).
            for data in datas:
                self.write(data)
            return
        try:
            for data in datas:
                PyObject_GetBuffer(data, &views[nbuf], PyBUF_SIMPLE)
                iov[nbuf].iov_base = views[nbuf].buf
                iov[nbuf].iov_len = views[nbuf].len
                total += views[nbuf].len
                nbuf += 1
            if total == 0:
                return
            n = self._sent(writev(self.fd, iov, <int>nbuf))
            if n < 0:
                return
            if n == total:
                return
            self.write_ctx = _copy_context()   # the writer handle's (see write())
            self.enabled |= C_EV_WRITE
            skip = n
            for i in range(nbuf):
                if skip >= views[i].len:
                    skip -= views[i].len
                    continue
                self.output._add(<char *>views[i].buf + skip, views[i].len - skip)
                skip = 0
        finally:
            for i in range(nbuf):
                PyBuffer_Release(&views[i])
        self._maybe_pause_protocol()

    def write_eof(self):
        if self.closing or self.eof:
            return
        self.eof = True
        if self.output.total_len == 0:
            self.sock.shutdown(_socket.SHUT_WR)

    def can_write_eof(self):
        return True

    def get_write_buffer_size(self):
        return self.output.total_len

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
        self.wm_write_low = low
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

    cdef int _run_writecb(self, int options) except -1:
        # Output drained to the low water mark (see the module comment);
        # asyncio's _write_ready runs in its writer handle's context.
        cdef object ctx = self.write_ctx
        if ctx is not None:
            PyContext_Enter(ctx)
        try:
            self._write_drained()
        finally:
            if ctx is not None:
                PyContext_Exit(ctx)
        return 0

    cdef int _write_drained(self) except -1:
        self._maybe_resume_protocol()
        if self.output.total_len == 0 and not self.freed:
            if self.empty_waiter is not None:
                self.empty_waiter.set_result(None)
            if self.closing:
                self._call_connection_lost(None)
            elif self.eof:
                try:
                    self.sock.shutdown(_socket.SHUT_WR)
                except OSError:
                    pass
        return 0

    cdef int _run_readcb(self, int options) except -1:
        return 0

    cdef int _run_eventcb(self, int what, int options) except -1:
        # Only the write path reports events here (reads are _socket_read's):
        # asyncio's _write_ready fails in its writer handle's context.
        cdef object ctx = self.write_ctx
        if ctx is not None:
            PyContext_Enter(ctx)
        try:
            if what & C_BEV_EVENT_ERROR:
                err = self.last_error
                self._fatal_error_c(OSError(err, _os.strerror(err)),
                                    "Fatal write error on socket transport")
            elif what & C_BEV_EVENT_EOF:
                self._force_close_c(None)
        finally:
            if ctx is not None:
                PyContext_Exit(ctx)
        return 0

    # -- closing ---------------------------------------------------------

    def close(self):
        if self.closing:
            return
        self.closing = True
        self.enabled &= ~C_EV_READ
        self._disable_impl(C_EV_READ)
        if self.output.total_len == 0:
            self.conn_lost += 1
            self.enabled &= ~C_EV_WRITE
            self._disable_impl(C_EV_WRITE)
            self.loop.call_soon(self._call_connection_lost, None)

    def abort(self):
        self._force_close_c(None)

    def _force_close(self, exc):
        self._force_close_c(exc)

    cdef int _force_close_c(self, object exc) except -1:
        if self.conn_lost:
            return 0
        if self.output.total_len:
            self.output.freeze_start &= ~FROZEN_BEV
            self.output._drain(self.output.total_len)
            self.output.freeze_start |= FROZEN_BEV
        self.enabled &= ~C_EV_WRITE
        self._disable_impl(C_EV_WRITE)
        if not self.closing:
            self.closing = True
            self.enabled &= ~C_EV_READ
            self._disable_impl(C_EV_READ)
        self.conn_lost += 1
        self.loop.call_soon(self._call_connection_lost, exc)
        return 0

    def _fatal_error(self, exc, message="Fatal error on transport"):
        self._fatal_error_c(exc, message)

    cdef int _fatal_error_c(self, object exc, str message) except -1:
        if isinstance(exc, OSError):
            if self.loop.get_debug():
                _logger.debug("%r: %s", self, message, exc_info=True)
        else:
            self.loop.call_exception_handler({
                "message": message, "exception": exc,
                "transport": self, "protocol": self.protocol})
        self._force_close_c(exc)
        return 0

    def _call_connection_lost(self, exc):
        if self.freed and self.sock is None:
            return
        try:
            if self.protocol_connected:
                self.protocol.connection_lost(exc)
        finally:
            loop = self.loop
            transports = getattr(loop, "_transports", None)
            if transports is not None and transports.get(self.fd) is self:
                del transports[self.fd]
            if not self.freed:
                self._teardown()
            if self.sock is not None:
                self.sock.close()
                self.sock = None
            self.protocol = None
            self.proto_data_received = self.proto_get_buffer = self.proto_buffer_updated = None
            self.read_ctx = self.write_ctx = None
            server = self.server
            self.server = None
            if server is not None:
                if _sys2.version_info >= (3, 13) or getattr(server, "_clients", None) is not None:
                    server._detach(self)
                else:
                    server._detach()

    # -- sendfile support (asyncio's _sendfile_native) --------------------

    def _make_empty_waiter(self):
        if self.empty_waiter is not None:
            raise RuntimeError("Empty waiter is already set")
        self.empty_waiter = self.loop.create_future()
        if self.output.total_len == 0:
            self.empty_waiter.set_result(None)
        return self.empty_waiter

    def _reset_empty_waiter(self):
        self.empty_waiter = None

    def __repr__(self):
        info = [self.__class__.__name__]
        if self.sock is None:
            info.append("closed")
        elif self.closing:
            info.append("closing")
        info.append(f"fd={self.fd}")
        info.append(f"read={'polling' if self.is_reading() else 'idle'}")
        info.append(f"write=<bufsize={self.output.total_len if not self.freed else 0}>")
        return "<{}>".format(" ".join(info))

    def __del__(self):
        if self.sock is not None and not self.closing:
            _warnings.warn(f"unclosed transport {self!r}", ResourceWarning, source=self)
            try:
                self.sock.close()
            except OSError:
                pass



class _TransportClass(_asyncio_transports._FlowControlMixin, _asyncio.Transport):
    """What StreamTransport reports as its __class__ (see there), so that
    isinstance(transport, asyncio.Transport) is true; never instantiated.
    type(transport) is the real class."""
    __slots__ = ()

    def __new__(cls, *args, **kwargs):  # pragma: no cover
        raise TypeError("not instantiable: use the loop's transport factories")


_TransportClass.__name__ = _TransportClass.__qualname__ = "StreamTransport"
