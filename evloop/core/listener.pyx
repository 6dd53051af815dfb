# Listener: libevent's evconnlistener (listener.c).
#
# A persistent read event on a listening socket; on readiness it accepts in
# a loop until EAGAIN and calls cb(listener, fd, address, arg) for each new
# connection (non-blocking unless LEV_OPT_LEAVE_SOCKETS_BLOCKING; CPython
# makes every fd close-on-exec already).  It stops early when the callback
# disables or frees the listener, as libevent does.
#
# Accept errors: ECONNABORTED and EINTR are retried (the peer went away
# before we accepted); anything else goes to the error callback (or is
# logged).  libevent does not back off, so an EMFILE with a connection
# still queued makes it spin (libevent#363).  evloop disables the listener
# after EMFILE/ENFILE/ENOBUFS/ENOMEM and re-enables it after a back-off that
# doubles up to one second, resetting after a successful accept.

import logging as _logging

_lev_logger = _logging.getLogger("evloop")

cdef enum:
    C_LEV_OPT_LEAVE_SOCKETS_BLOCKING = 1 << 0
    C_LEV_OPT_CLOSE_ON_FREE = 1 << 1
    C_LEV_OPT_CLOSE_ON_EXEC = 1 << 2
    C_LEV_OPT_REUSEABLE = 1 << 3
    C_LEV_OPT_THREADSAFE = 1 << 4
    C_LEV_OPT_DISABLED = 1 << 5
    C_LEV_OPT_DEFERRED_ACCEPT = 1 << 6
    C_LEV_OPT_REUSEABLE_PORT = 1 << 7
    C_LEV_OPT_BIND_IPV6ONLY = 1 << 8
    C_LEV_KNOWN = (1 << 9) - 1

LEV_OPT_LEAVE_SOCKETS_BLOCKING = C_LEV_OPT_LEAVE_SOCKETS_BLOCKING
LEV_OPT_CLOSE_ON_FREE = C_LEV_OPT_CLOSE_ON_FREE
LEV_OPT_CLOSE_ON_EXEC = C_LEV_OPT_CLOSE_ON_EXEC
LEV_OPT_REUSEABLE = C_LEV_OPT_REUSEABLE
LEV_OPT_THREADSAFE = C_LEV_OPT_THREADSAFE
LEV_OPT_DISABLED = C_LEV_OPT_DISABLED
LEV_OPT_DEFERRED_ACCEPT = C_LEV_OPT_DEFERRED_ACCEPT
LEV_OPT_REUSEABLE_PORT = C_LEV_OPT_REUSEABLE_PORT
LEV_OPT_BIND_IPV6ONLY = C_LEV_OPT_BIND_IPV6ONLY

cdef double BACKOFF_MIN = 0.01
cdef double BACKOFF_MAX = 1.0


cdef class ListenerEvent(Event):
    cdef int _run_custom(self) except -1:
        cdef Listener lev = self.listener
        if lev is None or lev.freed:
            return 0
        return lev._accept_ready()


def _listener_noop(fd, what, arg):
    pass


cdef int check_lev_flags(object flags) except -1:
    if not isinstance(flags, int) or isinstance(flags, bool):
        raise TypeError(f"flags must be an int of LEV_OPT_* bits, not {type(flags).__name__}")
    if flags < 0 or flags & ~C_LEV_KNOWN:
        raise ValueError(f"flags: unknown LEV_OPT_* bits in {flags:#x}")
    return 0


cdef class Listener:
    """evconnlistener: accept connections on a listening socket.

    ``Listener(base, cb, arg, flags, backlog, sock)`` is evconnlistener_new
    (``sock`` an fd or a socket object; backlog > 0 calls listen(backlog),
    < 0 listen(128), 0 means it already listens); ``Listener.bind(base, cb,
    arg, flags, backlog, address)`` is evconnlistener_new_bind.  ``cb`` is
    called as cb(listener, fd, address, arg); a None cb closes accepted
    connections.

    Differences from libevent: errors raise; after EMFILE-like accept errors
    the listener backs off instead of spinning; the address is given as the
    socket module gives it (a tuple or a path), not a sockaddr.
    """

    def __cinit__(self):
        self.fd = -1
        self.freed = True

    def __init__(self, base, cb, arg, flags, backlog, sock):
        cdef EventBase b
        cdef int ifd
        if self.base is not None:
            # Its event is registered on its socket, and the socket object
            # would be dropped (and closed by the garbage collector) under it.
            raise RuntimeError("Listener.__init__ called twice: make a new Listener")
        b = usable_base(base, "create a listener")
        check_lev_flags(flags)
        if cb is not None and not callable(cb):
            raise TypeError(f"cb must be callable or None, not {type(cb).__name__}")
        if not isinstance(backlog, int) or isinstance(backlog, bool):
            raise TypeError(f"backlog must be an int, not {type(backlog).__name__}")
        if backlog > INT_MAX:
            raise ValueError(f"backlog must be <= {INT_MAX}, got {backlog}")
        ifd = fd_of(sock, "sock")
        if ifd < 0:
            raise ValueError("sock must be an open socket")
        if fcntl(ifd, F_GETFD) == -1:
            raise OSError(errno, f"sock: {_os.strerror(errno)}")
        self.base = b
        self.cb = cb
        self.cbarg = arg
        self.flags = flags
        self.fd = ifd
        sock_obj = _socket.socket(fileno=ifd)
        try:
            sock_obj.setblocking(False)
            if backlog > 0:
                sock_obj.listen(backlog)
            elif backlog < 0:
                sock_obj.listen(128)
        except BaseException:
            # evconnlistener_new returns NULL and leaves the caller's fd alone.
            sock_obj.detach()
            raise
        self.sock = sock_obj
        self.freed = False
        self.backoff = 0
        ev = ListenerEvent.__new__(ListenerEvent)
        event_assign_internal(ev, b, ifd, C_EV_READ | C_EV_PERSIST, _listener_noop)
        (<ListenerEvent>ev).flags = C_EVLIST_INIT
        (<ListenerEvent>ev).closure = CLOSURE_CUSTOM
        (<ListenerEvent>ev).pri = b.nqueues // 2
        (<ListenerEvent>ev).listener = self
        self.ev = ev
        if not (flags & C_LEV_OPT_DISABLED):
            self.enable()

    @classmethod
    def bind(cls, base, cb, arg, flags, backlog, address, family=None):
        """evconnlistener_new_bind: create a stream socket for ``address``
        ((host, port), an IPv6 4-tuple, or a unix path), apply the options,
        bind and listen.  The listener owns the socket (CLOSE_ON_FREE is
        implied, as libevent does)."""
        check_lev_flags(flags)
        if family is None:
            if isinstance(address, (str, bytes)):
                family = _socket.AF_UNIX
            elif isinstance(address, tuple) and (len(address) == 4 or ":" in str(address[0])):
                family = _socket.AF_INET6
            elif isinstance(address, tuple) and len(address) == 2:
                family = _socket.AF_INET
            else:
                raise TypeError(f"address must be (host, port), an IPv6 4-tuple or a path, "
                                f"not {address!r}")
        s = _socket.socket(family, _socket.SOCK_STREAM)
        try:
            s.setblocking(False)
            if flags & C_LEV_OPT_REUSEABLE and family != _socket.AF_UNIX:
                s.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
            if flags & C_LEV_OPT_REUSEABLE_PORT:
                s.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEPORT, 1)
            if flags & C_LEV_OPT_DEFERRED_ACCEPT and family != _socket.AF_UNIX:
                s.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_DEFER_ACCEPT, 1)
            if flags & C_LEV_OPT_BIND_IPV6ONLY and family == _socket.AF_INET6:
                s.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY, 1)
            s.bind(address)
            lev = cls(base, cb, arg, flags | C_LEV_OPT_CLOSE_ON_FREE, backlog if backlog else -1, s)
        except BaseException:
            s.close()
            raise
        s.detach()
        return lev

    cdef int _check(self, str what) except -1:
        if self.base is None:
            raise RuntimeError(f"cannot {what}: the listener was never initialised")
        if self.freed:
            raise RuntimeError(f"cannot {what}: the listener was freed")
        if self.base.freed:
            raise RuntimeError(f"cannot {what}: the listener's EventBase was freed")
        return 0

    def enable(self):
        """evconnlistener_enable."""
        self._check("enable the listener")
        self.enabled = True
        if self.cb is not None and self.backoff_ev is None:
            event_add_nolock(self.base, self.ev, 0, False, False)

    def disable(self):
        """evconnlistener_disable."""
        self._check("disable the listener")
        self.enabled = False
        event_del_nolock(self.base, self.ev, False)

    def set_cb(self, cb, arg=None):
        """evconnlistener_set_cb: with a None cb an enabled listener closes
        the connections it accepts, as libevent does."""
        self._check("set the callback")
        if cb is not None and not callable(cb):
            raise TypeError(f"cb must be callable or None, not {type(cb).__name__}")
        # evconnlistener_set_cb: going from no callback to one enables an
        # enabled listener; a listener that loses its callback keeps
        # accepting and closes what it accepts (listener_read_cb).
        enable = self.enabled and self.cb is None
        self.cb = cb
        self.cbarg = arg
        if enable and cb is not None and self.backoff_ev is None:
            event_add_nolock(self.base, self.ev, 0, False, False)

    def set_error_cb(self, errorcb):
        """evconnlistener_set_error_cb: errorcb(listener, arg) on accept
        errors; listener.last_error holds the errno."""
        self._check("set the error callback")
        if errorcb is not None and not callable(errorcb):
            raise TypeError(f"errorcb must be callable or None, not {type(errorcb).__name__}")
        self.errorcb = errorcb

    def get_fd(self):
        """evconnlistener_get_fd."""
        return self.fd

    def get_base(self):
        """evconnlistener_get_base."""
        return self.base

    cdef int _accept_ready(self) except -1:
        """listener_read_cb: accept until EAGAIN."""
        cdef int newfd, fl
        while not self.freed and self.enabled:
            try:
                newfd, addr = self.sock._accept()
            except (BlockingIOError, InterruptedError):
                return 0
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                self.last_error = exc.errno or 0
                if exc.errno in (_errno.EMFILE, _errno.ENFILE, _errno.ENOBUFS, _errno.ENOMEM):
                    self._back_off()
                if self.errorcb is not None:
                    self.errorcb(self, self.cbarg)
                else:
                    _lev_logger.warning("evconnlistener: accept failed: %s", exc)
                return 0
            self.backoff = 0
            if not (self.flags & C_LEV_OPT_LEAVE_SOCKETS_BLOCKING):
                fl = fcntl(newfd, F_GETFL)
                fcntl(newfd, 4, fl | O_NONBLOCK)     # F_SETFL
            if self.cb is None:
                close(newfd)
                continue
            self.cb(self, newfd, addr, self.cbarg)
        return 0

    def _back_off(self):
        cdef Event ev
        if self.freed or self.base.freed:
            return
        event_del_nolock(self.base, self.ev, False)
        self.backoff = min(BACKOFF_MAX, self.backoff * 2 if self.backoff else BACKOFF_MIN)
        ev = Event(self.base, -1, 0, self._backoff_done, None)
        self.backoff_ev = ev
        ev.add(self.backoff)

    def _backoff_done(self, fd, what, arg):
        self.backoff_ev = None
        if not self.freed and self.enabled and self.cb is not None and not self.base.freed:
            event_add_nolock(self.base, self.ev, 0, False, False)

    def free(self):
        """evconnlistener_free: stop; close the socket with
        LEV_OPT_CLOSE_ON_FREE.  Idempotent."""
        if self.freed:
            return
        self.freed = True
        if not self.base.freed:
            event_del_nolock(self.base, self.ev, False)
            if self.backoff_ev is not None:
                event_del_nolock(self.base, self.backoff_ev, False)
        self.backoff_ev = None
        self.ev.listener = None
        self.cb = self.errorcb = self.cbarg = None
        if self.flags & C_LEV_OPT_CLOSE_ON_FREE:
            self.sock.close()
        else:
            self.sock.detach()
        self.fd = -1

    def __dealloc__(self):
        if not self.freed and self.sock is not None:
            if self.flags & C_LEV_OPT_CLOSE_ON_FREE:
                try:
                    self.sock.close()
                except BaseException:
                    pass
            else:
                try:
                    self.sock.detach()
                except BaseException:
                    pass

    def __repr__(self):
        return f"<evloop.Listener fd={self.fd}{' freed' if self.freed else ''}>"
