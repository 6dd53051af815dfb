# The asyncio datagram transport (UDP and AF_UNIX SOCK_DGRAM sockets) of
# create_datagram_endpoint (docs/design.md, "The asyncio face").
#
# The OS facts first.  A datagram socket delivers whole messages: one
# recvfrom() returns one datagram (truncated to the buffer given) and the
# sender's address; one sendto() queues one datagram whole or not at all
# (EAGAIN when the socket's send buffer is full, and then nothing was
# sent).  Errors of earlier datagrams come back later: after a UDP
# datagram to a closed port the ICMP "port unreachable" makes the next
# recvfrom()/send() on a *connected* socket fail with ECONNREFUSED, once.
# epoll is level-triggered here, so a socket with datagrams waiting is
# reported by every epoll_wait until they are read.
#
# What that means for the code:
#
# * Reading: the read event (the loop's EV_READ FdWatcher, as asyncio's
#   add_reader) calls _read_ready, which does recvfrom() in C into the
#   loop's 256 KiB receive buffer (asyncio's max_size) in a loop until
#   EAGAIN, at most READ_BATCH (32, libuv's count per wake-up) datagrams
#   a wake-up, so that one busy socket cannot starve the other events and
#   callbacks: what is left is reported again by the next epoll_wait.
#   asyncio reads one datagram per wake-up; the protocol sees the same
#   calls in the same order, only fewer loop passes between them.  Each
#   datagram becomes one bytes object; the sender address is converted
#   in C (CPython's makesockaddr rules for AF_INET, AF_INET6, AF_UNIX) and
#   the Python object is reused while the sender stays the same.  Other
#   families use the socket's own recvfrom().
# * Writing: sendto() sends at once when nothing is queued (one system
#   call, no loop pass): send() on a connected socket, sendto() with the
#   address converted in C (numeric IPv4/IPv6 tuples; the last one is
#   cached) or else by the socket module (host names, AF_UNIX paths).
#   When the socket would block, the datagram is copied into a deque and
#   an EV_WRITE event (the loop's add_writer) sends the queue when the
#   socket is writable, as asyncio's _sendto_ready.
# * Errors: an OSError of recvfrom()/sendto() goes to
#   protocol.error_received() and the transport stays open; anything else
#   is fatal (exception handler, connection_lost(exc)), as asyncio.
#
# Everything else follows CPython's selector_events._SelectorDatagramTransport
# and its _SelectorTransport base method by method (same names, messages,
# order of protocol calls, flow control at the same watermarks and the
# version's differences: empty datagrams and 8 header bytes a queued
# datagram from Python 3.13).  Exceptions of datagram_received /
# error_received reach the exception handler as asyncio's do, as
# "Exception in callback DatagramTransport._read_ready()".
#
# Differences from asyncio: up to 32 datagrams a wake-up (see above); the
# transport is not an instance of asyncio's classes (a Cython class cannot
# derive from them; __class__ reports one, see StreamTransport); on Python
# 3.13 the buffer accounting is the fixed one of gh-135444 (the 3.13
# releases before that fix never take the 8 header bytes of a sent queued
# datagram off the size; the fix added _SelectorDatagramTransport._header_size).

from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.string cimport memcmp

cdef extern from "Python.h":
    object PyUnicode_DecodeFSDefaultAndSize(const char *s, Py_ssize_t size)

cdef extern from "<string.h>" nogil:
    size_t strnlen(const char *s, size_t maxlen)

cdef enum:
    READ_BATCH = 32          # datagrams read per wake-up at most (libuv's number)

# Python 3.13 (gh-113812): empty datagrams are sent, and a queued datagram
# counts 8 header bytes more in get_write_buffer_size().
cdef bint _SEND_EMPTY = _sys2.version_info >= (3, 13)
cdef Py_ssize_t _HEADER_SIZE = 8 if _sys2.version_info >= (3, 13) else 0


cdef class DatagramTransport:
    """asyncio.DatagramTransport of create_datagram_endpoint.

    Made by the loop (``_make_datagram_transport``); see the module
    comment.  Differences from asyncio: see the module comment."""

    max_size = 256 * 1024    # asyncio's: the largest datagram read whole

    @property
    def __class__(self):
        # As StreamTransport: isinstance() against asyncio's classes holds
        # as for the stdlib's transport of this Python version.
        return _DatagramTransportClass

    def __init__(self, loop, sock, protocol, address=None, waiter=None, extra=None):
        self.cloop = <Loop?>loop
        self.loop = loop
        self.extra = {} if extra is None else extra
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
        self.sock = sock
        self.fd = sock.fileno()
        self.family = sock.family
        # asyncio: send() when the peername is true, else sendto(addr).
        self.use_send = bool(self.extra["peername"])
        self.cread = self.family in (AF_INET, AF_INET6, AF_UNIX)
        self.raddr_len = 0
        self.raddr_obj = None
        self.saddr_key = None
        self.protocol_connected = False
        self.set_protocol(protocol)
        self.buffer = _collections.deque()
        self.buffer_size = 0
        self.conn_lost = 0
        self.closing = False
        self.paused = False
        self.protocol_paused = False
        self.high_water = 64 * 1024
        self.low_water = 16 * 1024
        self.address = address
        loop._transports[self.fd] = self
        loop.call_soon(self.protocol.connection_made, self)
        # Only start reading when connection_made() has been called.
        loop.call_soon(self._add_reader, self.fd, self._read_ready)
        if waiter is not None:
            loop.call_soon(_set_result_unless_cancelled, waiter, None)

    # -- the asyncio attributes other code reads -------------------------

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
    def _conn_lost(self):
        return self.conn_lost

    @property
    def _address(self):
        return self.address

    @property
    def _buffer(self):
        return self.buffer

    @property
    def _extra(self):
        return self.extra

    @property
    def _protocol_paused(self):
        return self.protocol_paused

    def get_extra_info(self, name, default=None):
        return self.extra.get(name, default)

    def set_protocol(self, protocol):
        self.protocol = protocol
        self.protocol_connected = True

    def get_protocol(self):
        return self.protocol

    def is_closing(self):
        return self.closing

    def is_reading(self):
        return not self.closing and not self.paused

    def pause_reading(self):
        if not self.is_reading():
            return
        self.paused = True
        self.loop._remove_reader(self.fd)
        if self.loop.get_debug():
            _logger.debug("%r pauses reading", self)

    def resume_reading(self):
        if self.closing or not self.paused:
            return
        self.paused = False
        self._add_reader(self.fd, self._read_ready)
        if self.loop.get_debug():
            _logger.debug("%r resumes reading", self)

    def _add_reader(self, fd, callback, *args):
        if not self.is_reading():
            return
        self.loop._add_reader(fd, callback, *args)

    # -- reading ---------------------------------------------------------

    def _read_ready(self):
        self._read_ready_c()

    cdef int _read_ready_c(self) except -1:
        cdef sockaddr_storage sa
        cdef socklen_t salen
        cdef ssize_t n
        cdef int err, i
        if self.conn_lost:
            return 0
        for i in range(READ_BATCH):
            if not self.cread:
                try:
                    data, addr = self.sock.recvfrom(self.max_size)
                except (BlockingIOError, InterruptedError):
                    return 0
                except OSError as exc:
                    self.protocol.error_received(exc)
                    return 0
                except (SystemExit, KeyboardInterrupt):
                    raise
                except BaseException as exc:
                    self._fatal_error_c(exc, "Fatal read error on datagram transport")
                    return 0
            else:
                salen = sizeof(sa)
                n = c_recvfrom(self.fd, RECV_BUF, RECV_BUF_SIZE, 0, <sockaddr *>&sa, &salen)
                if n < 0:
                    err = errno
                    if err == EAGAIN or err == EINTR:
                        return 0
                    self.protocol.error_received(OSError(err, _os.strerror(err)))
                    return 0
                data = PyBytes_FromStringAndSize(RECV_BUF, n)
                if salen > sizeof(sa):
                    salen = sizeof(sa)
                if (self.raddr_obj is None or salen != self.raddr_len
                        or memcmp(&sa, &self.raddr, salen) != 0):
                    memcpy(&self.raddr, &sa, salen)
                    self.raddr_len = salen
                    self.raddr_obj = None
                    self.raddr_obj = self._addr_obj()
                addr = self.raddr_obj
            self.protocol.datagram_received(data, addr)
            # The protocol may have closed, aborted or paused us.
            if self.closing or self.paused or self.conn_lost:
                return 0
        return 0

    cdef object _addr_obj(self):
        """self.raddr as the socket module's recvfrom() returns it
        (CPython's makesockaddr: inet_ntop for IP hosts; AF_UNIX: None for
        an unnamed sender, bytes for a Linux abstract name, else str)."""
        cdef char host[64]
        cdef sockaddr_in *sin
        cdef sockaddr_in6 *sin6
        cdef sockaddr_un *sun
        cdef size_t plen
        cdef int fam
        if self.raddr_len == 0:
            return None
        fam = self.raddr.ss_family
        if fam == AF_INET and self.raddr_len >= sizeof(sockaddr_in):
            sin = <sockaddr_in *>&self.raddr
            inet_ntop(AF_INET, &sin.sin_addr, host, sizeof(host))
            return (host.decode("ascii"), ntohs(sin.sin_port))
        if fam == AF_INET6 and self.raddr_len >= sizeof(sockaddr_in6):
            sin6 = <sockaddr_in6 *>&self.raddr
            inet_ntop(AF_INET6, &sin6.sin6_addr, host, sizeof(host))
            return (host.decode("ascii"), ntohs(sin6.sin6_port),
                    ntohl(sin6.sin6_flowinfo), sin6.sin6_scope_id)
        if fam == AF_UNIX:
            sun = <sockaddr_un *>&self.raddr
            plen = self.raddr_len - <size_t>(<char *>sun.sun_path - <char *>sun)
            if plen > 0 and sun.sun_path[0] == 0:
                return PyBytes_FromStringAndSize(sun.sun_path, plen)
            return PyUnicode_DecodeFSDefaultAndSize(sun.sun_path, strnlen(sun.sun_path, plen))
        # Not reached: cread is set only for the three families above.
        return (fam, PyBytes_FromStringAndSize(<char *>&self.raddr, self.raddr_len))

    # -- writing ---------------------------------------------------------

    def sendto(self, data, addr=None):
        """Send data as one datagram to addr (None: the remote address);
        queued (flow control) if the socket would block."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be a bytes-like object, "
                            f"not {type(data).__name__!r}")
        if not _SEND_EMPTY and not data:
            return
        if self.address:
            if addr not in (None, self.address):
                raise ValueError(f"Invalid address: must be None or {self.address}")
            addr = self.address
        if self.conn_lost and self.address:
            if self.conn_lost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                _logger.warning("socket.send() raised exception.")
            self.conn_lost += 1
            return
        if not self.buffer:
            # Attempt to send it right away first.
            try:
                if self._send_c(data, addr) == 0:
                    return
                self.loop._add_writer(self.fd, self._sendto_ready)
            except OSError as exc:
                self.protocol.error_received(exc)
                return
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error_c(exc, "Fatal write error on datagram transport")
                return
        # Ensure that what we buffer is immutable.
        self.buffer.append((bytes(data), addr))
        self.buffer_size += len(data) + _HEADER_SIZE
        self._maybe_pause_protocol()

    cdef int _send_c(self, object data, object addr) except -1:
        """One send()/sendto() of data: 0 if sent, 1 if it would block;
        OSError for the system's errors (as the socket methods raise)."""
        cdef Py_buffer view
        cdef ssize_t n
        cdef int err
        if self.sock is None or not (self.use_send or self._c_saddr(addr)):
            # The socket module converts the address (and raises as
            # asyncio's call would, also once the transport is gone).
            try:
                self.sock.sendto(data, addr)
            except (BlockingIOError, InterruptedError):
                return 1
            return 0
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            if self.use_send:
                n = c_send(self.fd, view.buf, view.len, 0)
            else:
                n = c_sendto(self.fd, view.buf, view.len, 0,
                             <sockaddr *>&self.saddr, self.saddr_len)
            err = errno
        finally:
            PyBuffer_Release(&view)
        if n >= 0:
            return 0
        if err == EAGAIN or err == EINTR:
            return 1
        raise OSError(err, _os.strerror(err))

    cdef bint _c_saddr(self, object addr) except -1:
        """Put addr in self.saddr if it is a numeric IPv4/IPv6 address
        tuple of the socket's family; False to let the socket module
        convert it (host names, AF_UNIX paths, anything unusual)."""
        cdef sockaddr_in *sin
        cdef sockaddr_in6 *sin6
        cdef bytes hb
        cdef Py_ssize_t n
        if type(addr) is not tuple:
            return False
        if addr is self.saddr_key or (self.saddr_key is not None and addr == self.saddr_key):
            return True
        n = len(addr)
        if self.family == AF_INET:
            if n != 2:
                return False
        elif self.family == AF_INET6:
            if n < 2 or n > 4:
                return False
        else:
            return False
        host = addr[0]
        port = addr[1]
        if type(host) is not str or type(port) is not int or not 0 <= port <= 65535:
            return False
        if not (<str>host).isascii() or len(<str>host) >= 64:
            return False
        hb = (<str>host).encode("ascii")
        self.saddr_key = None
        memset(&self.saddr, 0, sizeof(self.saddr))
        if self.family == AF_INET:
            sin = <sockaddr_in *>&self.saddr
            if inet_pton(AF_INET, hb, &sin.sin_addr) != 1:
                return False
            sin.sin_family = AF_INET
            sin.sin_port = htons(port)
            self.saddr_len = sizeof(sockaddr_in)
        else:
            flowinfo = addr[2] if n > 2 else 0
            scope_id = addr[3] if n > 3 else 0
            if (type(flowinfo) is not int or type(scope_id) is not int
                    or not 0 <= flowinfo <= 0xfffff or not 0 <= scope_id <= 0xffffffff):
                return False
            sin6 = <sockaddr_in6 *>&self.saddr
            if inet_pton(AF_INET6, hb, &sin6.sin6_addr) != 1:
                return False
            sin6.sin6_family = AF_INET6
            sin6.sin6_port = htons(port)
            sin6.sin6_flowinfo = htonl(flowinfo)
            sin6.sin6_scope_id = scope_id
            self.saddr_len = sizeof(sockaddr_in6)
        self.saddr_key = addr
        return True

    def _sendto_ready(self):
        while self.buffer:
            data, addr = self.buffer.popleft()
            self.buffer_size -= len(data) + _HEADER_SIZE
            try:
                if self._send_c(data, addr):
                    self.buffer.appendleft((data, addr))  # Try again later.
                    self.buffer_size += len(data) + _HEADER_SIZE
                    break
            except OSError as exc:
                self.protocol.error_received(exc)
                return
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error_c(exc, "Fatal write error on datagram transport")
                return
        self._maybe_resume_protocol()  # May append to buffer.
        if not self.buffer:
            self.loop._remove_writer(self.fd)
            if self.closing:
                self._call_connection_lost(None)

    # -- flow control (asyncio's _FlowControlMixin) -----------------------

    def get_write_buffer_size(self):
        if _PY_LT_311:
            # Python 3.10 sums the queue (0 again after abort(), which
            # leaves 3.11+'s counter as it was).
            return sum([len(data) for data, _ in self.buffer])
        return self.buffer_size

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
        if self.buffer_size <= self.high_water:
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
        if self.protocol_paused and self.buffer_size <= self.low_water:
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

    # -- closing ---------------------------------------------------------

    def close(self):
        """Close after the queued datagrams are sent; connection_lost(None)."""
        if self.closing:
            return
        self.closing = True
        self.loop._remove_reader(self.fd)
        if not self.buffer:
            self.conn_lost += 1
            self.loop._remove_writer(self.fd)
            self.loop.call_soon(self._call_connection_lost, None)

    def abort(self):
        """Close at once, dropping the queued datagrams."""
        self._force_close_c(None)

    def _force_close(self, exc):
        self._force_close_c(exc)

    cdef int _force_close_c(self, object exc) except -1:
        if self.conn_lost:
            return 0
        if self.buffer:
            # (asyncio leaves _buffer_size as it was.)
            self.buffer.clear()
            self.loop._remove_writer(self.fd)
        if not self.closing:
            self.closing = True
            self.loop._remove_reader(self.fd)
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
        if self.sock is None:
            return
        try:
            if self.protocol_connected:
                self.protocol.connection_lost(exc)
        finally:
            transports = getattr(self.loop, "_transports", None)
            if transports is not None and transports.get(self.fd) is self:
                del transports[self.fd]
            self.sock.close()
            self.sock = None
            self.protocol = None
            self.loop = None
            self.cloop = None

    def __repr__(self):
        info = [self.__class__.__name__]
        if self.sock is None:
            info.append("closed")
        elif self.closing:
            info.append("closing")
        info.append(f"fd={self.fd}")
        if self.cloop is not None and not self.cloop.c_closed:
            info.append("read=polling" if self.fd in self.cloop.readers else "read=idle")
            state = "polling" if self.fd in self.cloop.writers else "idle"
            info.append(f"write=<{state}, bufsize={self.buffer_size}>")
        return "<{}>".format(" ".join(info))

    def __del__(self):
        if self.sock is not None:
            _warnings.warn(f"unclosed transport {self!r}", ResourceWarning, source=self)
            self.sock.close()


if _sys2.version_info >= (3, 12):
    # The stdlib's transport is an asyncio.DatagramTransport from 3.12
    # (and a Transport, through _SelectorTransport, on every version).
    _DGRAM_BASES = (_asyncio_transports._FlowControlMixin, _asyncio.DatagramTransport)
else:
    _DGRAM_BASES = (_asyncio_transports._FlowControlMixin,)


def _dgram_class_new(cls, *args, **kwargs):  # pragma: no cover
    raise TypeError("not instantiable: use loop.create_datagram_endpoint()")


# What DatagramTransport reports as its __class__ (see there); never
# instantiated.  type(transport) is the real class.
_DatagramTransportClass = type("DatagramTransport", _DGRAM_BASES,
                               {"__slots__": (), "__new__": _dgram_class_new,
                                "__module__": __name__})
