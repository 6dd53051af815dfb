# The asyncio face's sock_* coroutines, compiled: sock_recv, sock_recv_into,
# sock_recvfrom, sock_recvfrom_into, sock_sendall, sock_sendto, sock_accept
# (CPython's selector_events methods of the same names, 3.11+ semantics,
# also on 3.10).  sock_connect and sock_sendfile stay the stdlib's.
#
# The OS facts first.  epoll is level-triggered here: a registered fd that
# is readable is reported by every epoll_wait until it is read.  Changing
# the registration costs an epoll_ctl system call each time, and on a
# virtual machine system calls dominate the cost of a small request.  A
# registration belongs to the open file: closing the socket removes it
# silently, and the fd number may then be reused by another socket.
#
# What the other loops do per sock_recv that has to wait: asyncio tries
# recv() first (EAGAIN), then add_reader (epoll_ctl ADD), and removes the
# reader when the future is done (epoll_ctl DEL): three wasted system calls
# per request of a ping-pong.  uvloop starts a poll handle first (libuv
# turns it into epoll_ctl calls) and reads when it fires.
#
# What evloop does:
#
# * One SockWatcher per fd and direction, kept in the loop's readers /
#   writers tables next to add_reader's FdWatchers.  A read watcher stays
#   registered after its operation completes ("lazy", libuv's lazy
#   removal): when it fires with nobody waiting it deletes itself (else
#   level-triggered readiness would fire every pass).
# * sock_recv / sock_recv_into on a socket whose read watcher is registered
#   and idle waits for readiness without trying: no EAGAIN recv, no
#   epoll_ctl.  The watcher being still registered means it has not fired
#   since the last read: the socket is most likely drained.  Otherwise
#   (first call, or the watcher fired with nobody waiting and left) it
#   tries the system call first, as asyncio does.  A ping-pong request
#   costs one recv, one send and a share of epoll_wait.  The guess only
#   changes the cost, never the result: the watcher is level-triggered, and
#   if data came in the same pass the watcher is already active and runs
#   after the task that started waiting.
# * recv, recv_into and send are done in C on the socket's fd (errors as
#   OSError from errno, EINTR retried, EAGAIN means wait); recvfrom,
#   recvfrom_into, sendto and accept call the socket's own methods (they
#   need the socket module's address conversion) and always try first.
# * sock_sendall sends at once; only what is left waits for writability.
#   The write watcher is deleted as soon as its operation ends or is
#   cancelled (a done callback), since writability is nearly always true.
#
# Safety of the lazy watcher.  It holds a weak reference to its socket
# (a strong one only while an operation waits), so a dropped socket is
# still collected and closed.  It is dropped when it fires with no waiter;
# when a sock_* call on the same fd number comes with another socket
# object (the old one was closed and the number reused); when
# add_reader/add_writer/remove_reader replace it (asyncio's _add_reader
# semantics); when any other event is added on its fd — a transport's
# Bufferevent, the stdlib's transports (through _add_reader), a
# libevent-face Event — through the fd_yield hook of the evmap
# (evmap_io_claim), so the new event's registration starts from the fd's
# true state; and on loop close.  Deleting a registration of an fd that was
# closed meanwhile is harmless: the epoll backend ignores EBADF/ENOENT when
# deleting.  At fire time the watcher asks the socket for its fd again, so
# an operation on a socket closed meanwhile fails with EBADF (as asyncio's
# sock.recv() would) instead of reading another socket's fd.  A watcher
# whose operation still waits is kept when another event joins its fd —
# unless its socket no longer has that fd: then it is dropped and the
# operation fails with EBADF (drop_stale), since its registration would
# otherwise hide the fd from the newcomer.
#
# Observable behaviour is asyncio's: the same checks in the same order
# (SSLSocket: TypeError; debug mode and a socket with a timeout:
# ValueError "the socket must be non-blocking"; an fd owned by a transport:
# RuntimeError), the same exceptions, and the same odd cases: a second
# read operation on a socket replaces the first one's wait (the first
# future is left pending, as asyncio's _add_reader cancels the replaced
# handle), a cancelled operation leaves the data unread.  Differences: a
# recv-family call may wait one pass for data that already arrived (when
# it finds the idle watcher); a socket with a timeout outside debug mode
# is not blocked on (the C calls see O_NONBLOCK, which Python sets for
# timeouts); a memoryview of items larger than a byte is sent by bytes
# (asyncio compares len() in items).

from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE, PyBUF_WRITABLE
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING
from cpython.number cimport PyNumber_Index
from cpython.ref cimport Py_INCREF, Py_DECREF
from cpython.weakref cimport PyWeakref_NewRef

import _socket as _csocket

cdef extern from "Python.h":
    int _PyBytes_Resize(PyObject **, Py_ssize_t) except -1

cdef extern from "<errno.h>":
    int EWOULDBLOCK

cdef enum:
    OP_RECV = 1
    OP_RECV_INTO = 2
    OP_RECVFROM = 3
    OP_RECVFROM_INTO = 4
    OP_ACCEPT = 5
    OP_SENDALL = 6
    OP_SENDTO = 7

cdef enum:
    # sock_recv(n) reads straight into a bytes of n up to this size; glibc
    # serves mallocs below 128 KiB (its default mmap threshold) from the heap.
    RECV_DIRECT_MAX = 120 * 1024

cdef object _AGAIN = object()          # "would block": wait for readiness
cdef object _PySocket = _socket.socket
cdef object _CSocket = _csocket.socket
cdef object _CSocket_recv = _csocket.socket.recv
cdef object _CSocket_recv_into = _csocket.socket.recv_into
cdef object _CSocket_send = _csocket.socket.send
cdef object _check_ssl_socket = _base_events._check_ssl_socket


# -- system calls ------------------------------------------------------------

cdef object c_recv_bytes(int fd, Py_ssize_t n):
    """recv() up to n bytes into a new bytes; _AGAIN if it would block."""
    cdef ssize_t got
    cdef int err
    cdef object b
    cdef PyObject *pb
    if n == 0:
        return b""          # as sock.recv(0): no system call
    if n > RECV_DIRECT_MAX:
        # A bytes this large would be mmap'ed by glibc and unmapped or
        # mremap'ed again after the read (three system calls and page
        # faults per call; docs/benchmarks.md).  Read at most the loop's
        # 256 KiB buffer instead and copy out what arrived: recv() may
        # return less than asked.
        if n > RECV_BUF_SIZE:
            n = RECV_BUF_SIZE
        while True:
            got = c_recv(fd, RECV_BUF, <size_t>n, 0)
            if got >= 0:
                return PyBytes_FromStringAndSize(RECV_BUF, got)
            err = errno
            if err == EINTR:
                PyErr_CheckSignals()
                continue
            if err == EAGAIN or err == EWOULDBLOCK:
                return _AGAIN
            raise OSError(err, _os.strerror(err))
    # Into a bytes of n, shrunk in place to what arrived (no copy; the
    # socket module's recv() does the same).
    b = PyBytes_FromStringAndSize(NULL, n)
    while True:
        got = c_recv(fd, PyBytes_AS_STRING(b), <size_t>n, 0)
        if got >= 0:
            break
        err = errno
        if err == EINTR:
            PyErr_CheckSignals()
            continue
        if err == EAGAIN or err == EWOULDBLOCK:
            return _AGAIN
        raise OSError(err, _os.strerror(err))
    if got != n:
        # Shrink in place; _PyBytes_Resize needs the only reference.
        pb = <PyObject *>b
        Py_INCREF(b)
        b = None
        _PyBytes_Resize(&pb, got)
        b = <object>pb
        Py_DECREF(b)
    return b


cdef object c_recv_into(int fd, object buf):
    """recv() into buf's buffer; the byte count, or _AGAIN."""
    cdef Py_buffer view
    cdef ssize_t got
    cdef int err
    PyObject_GetBuffer(buf, &view, PyBUF_WRITABLE)
    try:
        if view.len == 0:
            return 0        # as sock.recv_into() of an empty buffer
        while True:
            got = c_recv(fd, view.buf, <size_t>view.len, 0)
            if got >= 0:
                return got
            err = errno
            if err == EINTR:
                PyErr_CheckSignals()
                continue
            if err == EAGAIN or err == EWOULDBLOCK:
                return _AGAIN
            raise OSError(err, _os.strerror(err))
    finally:
        PyBuffer_Release(&view)


cdef Py_ssize_t c_send_raw(int fd, const char *p, Py_ssize_t n) except -2:
    """send() n bytes from p (MSG_NOSIGNAL); bytes sent, -1 if it would block."""
    cdef ssize_t sent
    cdef int err
    while True:
        sent = c_send(fd, p, <size_t>n, MSG_NOSIGNAL)
        if sent >= 0:
            return sent
        err = errno
        if err == EINTR:
            PyErr_CheckSignals()
            continue
        if err == EAGAIN or err == EWOULDBLOCK:
            return -1
        raise OSError(err, _os.strerror(err))


cdef Py_ssize_t c_send_from(int fd, object data, Py_ssize_t pos, Py_ssize_t *total) except -2:
    """send() data's bytes from pos on; bytes sent, -1 if it would block."""
    cdef Py_buffer view
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        total[0] = view.len
        if pos >= view.len:
            return 0
        return c_send_raw(fd, <const char *>view.buf + pos, view.len - pos)
    finally:
        PyBuffer_Release(&view)


# -- the watcher ----------------------------------------------------------------

cdef class SockWatcher(FdWatcher):
    """The EV_READ or EV_WRITE event of the sock_* coroutines on one fd
    (see the module comment).  Internal: never handed out."""

    cdef bint owned_by(self, object sock):
        if sock is None:
            return False
        if self.weak:
            # (calling the weakref: PyWeakref_GET_OBJECT is deprecated in 3.13)
            return self.owner() is sock
        return self.owner is sock

    cdef int wait(self, object fut, int op, object sock, bint cfast,
                  Py_ssize_t n, object arg, object arg2) except -1:
        # A waiter already here is replaced and left pending, as asyncio's
        # _add_reader/_add_writer cancel the replaced handle.
        self.fut = fut
        self.op = op
        self.sock = sock
        self.cfast = cfast
        self.n = n
        self.pos = 0
        self.arg = arg
        self.arg2 = arg2
        return 0

    cdef int drop(self) except -1:
        """Unregister and forget: out of the loop's table, event_del (an fd
        closed meanwhile is fine: the backend ignores EBADF/ENOENT on
        delete), references released."""
        cdef Loop loop = self.loop
        cdef dict table
        if loop is not None:
            table = loop.readers if self.events & C_EV_READ else loop.writers
            if table.get(self.fd) is self:
                del table[self.fd]
        if self.base is not None and not self.base.freed:
            event_del_nolock(self.base, self, False)
        self.fut = self.sock = self.arg = self.arg2 = None
        return 0

    cdef int live(self) except -1:
        return self.fut is not None and not self.fut.done()

    cdef int drop_stale(self) except -1:
        """Drop a watcher whose fd was taken over.  If an operation waits
        and its socket no longer has this fd (closed or detached: epoll
        forgot the registration, the number is someone else's), fail it
        with EBADF — what its recv()/send() would raise — instead of
        leaving it pending forever.  A waiter whose socket is still open is
        left pending, as asyncio's _add_reader leaves a replaced one."""
        cdef object fut = self.fut
        cdef int fd = -1
        if self.live():
            try:
                fd = self.sock.fileno()
            except Exception:
                fd = -1
            if fd != self.fd:
                self.drop()
                fut.set_exception(OSError(EBADF, _os.strerror(EBADF)))
                return 0
        self.drop()
        return 0

    cdef int _fd_claimed(self, Event newcomer) except -1:
        # Another event is being added on our fd (evmap_io_claim).  While an
        # operation waits on an open socket, both may watch the fd (libevent
        # allows several events per fd).  An idle watcher, or one whose
        # socket was closed, steps aside, unless the newcomer is the other
        # direction's watcher of the same socket.
        cdef SockWatcher other
        cdef object sock
        if self.live():
            sock = self.sock
            try:
                if sock.fileno() == self.fd:
                    return 0
            except Exception:
                pass
            return self.drop_stale()
        if type(newcomer) is SockWatcher:
            other = <SockWatcher>newcomer
            if other.weak and self.owned_by(other.owner()):
                return 0
            if not other.weak and self.owned_by(other.owner):
                return 0
        self.drop()
        return 0

    def _write_done(self, fut):
        # Done callback of a waiting sendall/sendto: a cancelled one takes
        # its write watcher away at once (asyncio's _sock_write_done).
        if self.fut is fut:
            self.drop()

    cdef int _run_custom(self) except -1:
        cdef object fut = self.fut
        cdef object r
        if fut is None or fut.done():
            # Nobody waits (idle lazy reader, or a cancelled operation):
            # leave the fd, or level-triggered readiness fires every pass.
            self.drop()
            return 0
        try:
            r = sock_attempt(self)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self.finish()
            fut.set_exception(exc)
            return 0
        if r is _AGAIN:
            return 0
        self.finish()
        fut.set_result(r)
        return 0

    cdef int finish(self) except -1:
        if self.events & C_EV_WRITE:
            self.drop()
        else:
            # The read watcher stays registered (lazy).
            self.fut = self.sock = self.arg = self.arg2 = None
        return 0

    def __repr__(self):
        kind = "read" if self.events & C_EV_READ else "write"
        state = "waiting" if self.live() else "idle"
        return f"<SockWatcher fd={self.fd} {kind} {state}>"


cdef object sock_attempt(SockWatcher w):
    """Run w's operation once its fd is ready: the result, _AGAIN, or an
    exception.  The socket is asked for its fd again: if it was closed
    meanwhile the call fails with EBADF, as asyncio's sock.recv() would."""
    cdef object sock = w.sock
    cdef int op = w.op
    cdef object r
    cdef Py_ssize_t n, total = 0
    if op == OP_RECV:
        if w.cfast:
            return c_recv_bytes(sock.fileno(), w.n)
        try:
            return sock.recv(w.arg)
        except (BlockingIOError, InterruptedError):
            return _AGAIN
    if op == OP_RECV_INTO:
        if w.cfast:
            return c_recv_into(sock.fileno(), w.arg)
        try:
            return sock.recv_into(w.arg)
        except (BlockingIOError, InterruptedError):
            return _AGAIN
    if op == OP_SENDALL:
        if w.cfast:
            n = c_send_from(sock.fileno(), w.arg, w.pos, &total)
            if n < 0:
                return _AGAIN
            w.pos += n
            return None if w.pos >= total else _AGAIN
        try:
            n = sock.send(w.arg[w.pos:])
        except (BlockingIOError, InterruptedError):
            return _AGAIN
        w.pos += n
        return None if w.pos == len(w.arg) else _AGAIN
    try:
        if op == OP_RECVFROM:
            return sock.recvfrom(w.arg)
        if op == OP_RECVFROM_INTO:
            return sock.recvfrom_into(w.arg, w.arg2)
        if op == OP_SENDTO:
            return sock.sendto(w.arg, 0, w.arg2)
        if op == OP_ACCEPT:
            conn, address = sock.accept()
            conn.setblocking(False)
            return (conn, address)
    except (BlockingIOError, InterruptedError):
        return _AGAIN
    raise RuntimeError(f"SockWatcher: unknown operation {op}")  # pragma: no cover


# -- helpers of the entry points ------------------------------------------------

cdef int sock_prologue(Loop loop, object sock) except -1:
    """asyncio's checks, in its order (an SSLSocket: TypeError; debug mode
    and a socket that is not non-blocking: ValueError).  Returns 1 if
    recv/recv_into/send may run in C on sock's fd: a socket whose methods
    are the C socket's."""
    cdef object t = type(sock)
    if t is not _PySocket:
        _check_ssl_socket(sock)
    if loop.c_debug and sock.gettimeout() != 0:
        raise ValueError("the socket must be non-blocking")
    if t is _PySocket:
        return 1
    return (isinstance(sock, _CSocket) and t.recv is _CSocket_recv and
            t.recv_into is _CSocket_recv_into and t.send is _CSocket_send)


cdef inline int check_open(Loop loop) except -1:
    if loop.c_closed:
        raise RuntimeError("Event loop is closed")
    return 0


cdef int ensure_no_transport(Loop loop, int fd) except -1:
    """asyncio's _ensure_fd_no_transport, with a C dict probe first
    (_transports is a WeakValueDictionary: .data maps fd -> weakref)."""
    cdef object data = loop.transports_data
    if data is None:
        data = loop.transports_data = (<object>loop)._transports.data
    if fd in <dict>data:
        (<object>loop)._ensure_fd_no_transport(fd)
    return 0


cdef SockWatcher idle_reader(Loop loop, int fd, object sock):
    """fd's read watcher if it is registered for sock and idle: wait for
    readiness without trying.  None otherwise (a waiting operation: try
    first, as asyncio does).  A watcher of another socket object on the same fd number
    (the old socket was closed, the number reused) is dropped."""
    cdef SockWatcher w
    cdef object o
    if fd < 0:
        return None
    o = loop.readers.get(fd)
    if type(o) is not SockWatcher:
        return None
    w = <SockWatcher>o
    if not w.owned_by(sock):
        w.drop_stale()
        return None
    if w.live():
        return None
    return w


cdef SockWatcher sock_watcher(Loop loop, int fd, object sock, int what):
    """The watcher for sock on fd in direction what, made and registered if
    needed.  Whatever else is registered there is replaced, as asyncio's
    _add_reader/_add_writer replace (and cancel) the previous handle."""
    cdef dict table = loop.readers if what == C_EV_READ else loop.writers
    cdef object o
    cdef SockWatcher w
    check_open(loop)
    ensure_no_transport(loop, fd)
    o = table.get(fd)
    if o is not None:
        if type(o) is SockWatcher:
            w = <SockWatcher>o
            if w.owned_by(sock):
                return w
            w.drop_stale()
        else:
            (<object>loop)._remove_watcher(fd, table)
    if fd < 0:
        raise ValueError(f"Invalid file descriptor: {fd}")
    w = SockWatcher.__new__(SockWatcher)
    event_assign_internal(w, loop.base, fd, what | C_EV_PERSIST, _noop_cb)
    w.flags = C_EVLIST_INIT
    w.closure = CLOSURE_CUSTOM
    w.pri = 1
    w.fd_yield = True
    w.loop = loop
    try:
        w.owner = PyWeakref_NewRef(sock, None)
        w.weak = True
    except TypeError:
        w.owner = sock      # not weak-referenceable (a bare _socket.socket)
        w.weak = False
    event_add_nolock(loop.base, w, 0, False, False)
    table[fd] = w
    return w


cdef object read_wait(Loop loop, SockWatcher w, int fd, object sock, int op,
                      bint cfast, Py_ssize_t n, object arg, object arg2):
    """Wait on fd's read watcher (w if the caller found it idle)."""
    cdef object fut
    if w is None:
        w = sock_watcher(loop, fd, sock, C_EV_READ)
    else:
        check_open(loop)
        ensure_no_transport(loop, fd)
    fut = _CFuture(loop=loop)
    w.wait(fut, op, sock, cfast, n, arg, arg2)
    return fut


cdef object write_wait(Loop loop, int fd, object sock, int op, bint cfast,
                       Py_ssize_t pos, object arg, object arg2):
    cdef SockWatcher w = sock_watcher(loop, fd, sock, C_EV_WRITE)
    cdef object fut = _CFuture(loop=loop)
    w.wait(fut, op, sock, cfast, 0, arg, arg2)
    w.pos = pos
    fut.add_done_callback(w._write_done)
    return fut


# -- the entry points (Loop's sock_* coroutines call these) -------------------

cdef object recv_fast(Loop loop, object sock, int op, Py_ssize_t size, object buf):
    # sock_recv/sock_recv_into on a plain socket: wait first on an idle
    # registered watcher, else try the syscall at once (see the module
    # comment); the result, or the future to await.
    cdef int fd = sock.fileno()
    cdef SockWatcher w = idle_reader(loop, fd, sock)
    cdef object r
    if w is None:
        r = c_recv_bytes(fd, size) if op == OP_RECV else c_recv_into(fd, buf)
        if r is not _AGAIN:
            return r
    return read_wait(loop, w, fd, sock, op, True, size, buf, None)


cdef object sock_recv_c(Loop loop, object sock, object n):
    cdef int cfast = sock_prologue(loop, sock)
    cdef Py_ssize_t size
    if cfast:
        if type(n) is not int:
            n = PyNumber_Index(n)
        size = n
        if size < 0:
            raise ValueError("negative buffersize in recv")
        return recv_fast(loop, sock, OP_RECV, size, None)
    try:
        return sock.recv(n)
    except (BlockingIOError, InterruptedError):
        pass
    return read_wait(loop, None, sock.fileno(), sock, OP_RECV, False, 0, n, None)


cdef object sock_recv_into_c(Loop loop, object sock, object buf):
    cdef int cfast = sock_prologue(loop, sock)
    cdef Py_buffer view
    cdef Py_ssize_t size = 0
    if cfast:
        try:
            PyObject_GetBuffer(buf, &view, PyBUF_WRITABLE)
        except (TypeError, BufferError):
            cfast = 0       # sock.recv_into() raises its own error below
        else:
            size = view.len
            PyBuffer_Release(&view)
    if cfast:
        return recv_fast(loop, sock, OP_RECV_INTO, size, buf)
    try:
        return sock.recv_into(buf)
    except (BlockingIOError, InterruptedError):
        pass
    return read_wait(loop, None, sock.fileno(), sock, OP_RECV_INTO, False, 0, buf, None)


cdef object sock_recvfrom_c(Loop loop, object sock, object bufsize):
    sock_prologue(loop, sock)
    try:
        return sock.recvfrom(bufsize)
    except (BlockingIOError, InterruptedError):
        pass
    return read_wait(loop, None, sock.fileno(), sock, OP_RECVFROM, False, 0, bufsize, None)


cdef object sock_recvfrom_into_c(Loop loop, object sock, object buf, object nbytes):
    sock_prologue(loop, sock)
    if not nbytes:
        nbytes = len(buf)
    try:
        return sock.recvfrom_into(buf, nbytes)
    except (BlockingIOError, InterruptedError):
        pass
    return read_wait(loop, None, sock.fileno(), sock, OP_RECVFROM_INTO, False, 0, buf, nbytes)


cdef object sock_accept_c(Loop loop, object sock):
    sock_prologue(loop, sock)
    try:
        conn, address = sock.accept()
        conn.setblocking(False)
        return (conn, address)
    except (BlockingIOError, InterruptedError):
        pass
    return read_wait(loop, None, sock.fileno(), sock, OP_ACCEPT, False, 0, None, None)


cdef object sock_sendall_c(Loop loop, object sock, object data):
    cdef int cfast = sock_prologue(loop, sock)
    cdef Py_buffer view
    cdef Py_ssize_t sent = 0, total
    if cfast:
        try:
            PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        except (TypeError, BufferError):
            cfast = 0       # sock.send() raises its own error below
    if cfast:
        try:
            total = view.len
            sent = c_send_raw(sock.fileno(), <const char *>view.buf, total)
        finally:
            PyBuffer_Release(&view)
        if sent < 0:
            sent = 0
        if sent == total:
            return None
    else:
        try:
            sent = sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        if sent == len(data):
            return None
    return write_wait(loop, sock.fileno(), sock, OP_SENDALL, cfast, sent,
                      memoryview(data), None)


cdef object sock_sendto_c(Loop loop, object sock, object data, object address):
    sock_prologue(loop, sock)
    try:
        return sock.sendto(data, address)
    except (BlockingIOError, InterruptedError):
        pass
    return write_wait(loop, sock.fileno(), sock, OP_SENDTO, False, 0, data, address)


cdef int sock_watchers_clear(Loop loop) except -1:
    """Loop close: release what the sock watchers hold (the base deletes
    the events themselves)."""
    cdef SockWatcher w
    for table in (loop.readers, loop.writers):
        for o in (<dict>table).values():
            if type(o) is SockWatcher:
                w = <SockWatcher>o
                w.fut = w.sock = w.arg = w.arg2 = w.owner = None
                w.loop = None
    return 0
