# Bufferevent: libevent's buffered I/O object (bufferevent.c,
# bufferevent_sock.c, bufferevent_pair.c).
#
# A bufferevent owns an input and an output Evbuffer.  A socket bufferevent
# reads from its fd into input and writes output to its fd, driven by two
# persistent events (EV_READ and EV_WRITE on the fd); a pair moves bytes
# from one side's output straight into the other side's input.  The user
# sees three callbacks, all sharing one arg:
#
#   readcb(bev, arg)        input grew to >= the read low watermark
#   writecb(bev, arg)       output drained to <= the write low watermark
#   eventcb(bev, what, arg) BEV_EVENT_READING/WRITING | EOF/ERROR/TIMEOUT,
#                           or BEV_EVENT_CONNECTED
#
# Rules copied from libevent 2.1 (the comments below cite where):
# * a new bufferevent has EV_WRITE enabled and EV_READ disabled;
# * reading and writing happen only when the user enabled the direction
#   (enable/disable) AND no internal reason suspends it (read high
#   watermark, a hostname lookup, a connect in progress): two separate sets;
# * on EOF, ERROR or TIMEOUT the direction is disabled *before* eventcb runs;
# * output is written whenever data is added while EV_WRITE is enabled, and
#   the write event is removed when output empties;
# * timeouts count only while the direction is pending, and every
#   successful read or write restarts them (persistent events with a
#   timeout do exactly that);
# * with BEV_OPT_DEFER_CALLBACKS (always on for pairs) callbacks run from
#   the loop: CONNECTED first, then readcb, writecb, then the other events;
# * free() drops unsent output, as libevent does; free(flush=True) is
#   evloop's flush-then-free path.

import socket as _socket
import threading as _threading
import errno as _errno

cdef extern from "<sys/socket.h>" nogil:
    int getsockopt(int fd, int level, int optname, void *optval, unsigned int *optlen)
    int SOL_SOCKET
    int SO_ERROR

cdef enum:
    C_BEV_EVENT_READING = 0x01
    C_BEV_EVENT_WRITING = 0x02
    C_BEV_EVENT_EOF = 0x10
    C_BEV_EVENT_ERROR = 0x20
    C_BEV_EVENT_TIMEOUT = 0x40
    C_BEV_EVENT_CONNECTED = 0x80

    C_BEV_OPT_CLOSE_ON_FREE = 0x01
    C_BEV_OPT_THREADSAFE = 0x02
    C_BEV_OPT_DEFER_CALLBACKS = 0x04
    C_BEV_OPT_UNLOCK_CALLBACKS = 0x08

    C_BEV_NORMAL = 0
    C_BEV_FLUSH = 1
    C_BEV_FINISHED = 2

    C_BEV_TRIG_IGNORE_WATERMARKS = 0x10000
    C_BEV_TRIG_DEFER_CALLBACKS = 0x04

    # Why a direction is suspended (bufferevent-internal.h BEV_SUSPEND_*).
    BEV_SUSPEND_WM = 0x01
    BEV_SUSPEND_BW = 0x02
    BEV_SUSPEND_BW_GROUP = 0x04
    BEV_SUSPEND_LOOKUP = 0x08
    BEV_SUSPEND_FILT_READ = 0x10

    BEV_KIND_SOCKET = 0
    BEV_KIND_PAIR = 1
    BEV_KIND_FILTER = 2     # a BuffereventFilter (bufferevent_filter.pyx)

    BEV_WHICH_READ = 0
    BEV_WHICH_WRITE = 1
    BEV_WHICH_DEFERRED = 2

BEV_EVENT_READING = C_BEV_EVENT_READING
BEV_EVENT_WRITING = C_BEV_EVENT_WRITING
BEV_EVENT_EOF = C_BEV_EVENT_EOF
BEV_EVENT_ERROR = C_BEV_EVENT_ERROR
BEV_EVENT_TIMEOUT = C_BEV_EVENT_TIMEOUT
BEV_EVENT_CONNECTED = C_BEV_EVENT_CONNECTED
BEV_OPT_CLOSE_ON_FREE = C_BEV_OPT_CLOSE_ON_FREE
BEV_OPT_THREADSAFE = C_BEV_OPT_THREADSAFE
BEV_OPT_DEFER_CALLBACKS = C_BEV_OPT_DEFER_CALLBACKS
BEV_OPT_UNLOCK_CALLBACKS = C_BEV_OPT_UNLOCK_CALLBACKS
BEV_NORMAL = C_BEV_NORMAL
BEV_FLUSH = C_BEV_FLUSH
BEV_FINISHED = C_BEV_FINISHED
BEV_TRIG_IGNORE_WATERMARKS = C_BEV_TRIG_IGNORE_WATERMARKS
BEV_TRIG_DEFER_CALLBACKS = C_BEV_TRIG_DEFER_CALLBACKS

# libevent's MAX_SINGLE_READ_DEFAULT / MAX_SINGLE_WRITE_DEFAULT.
cdef Py_ssize_t MAX_SINGLE_READ_DEFAULT = 16384
cdef Py_ssize_t MAX_SINGLE_WRITE_DEFAULT = 16384
cdef int KNOWN_BEV_OPTS = (C_BEV_OPT_CLOSE_ON_FREE | C_BEV_OPT_THREADSAFE |
                           C_BEV_OPT_DEFER_CALLBACKS | C_BEV_OPT_UNLOCK_CALLBACKS)


cdef class BevEvent(Event):
    cdef int _run_custom(self) except -1:
        cdef Bufferevent bev = self.bev
        if bev is None or bev.freed:
            return 0
        if self.which == BEV_WHICH_DEFERRED:
            return bev._run_deferred()
        if bev.kind == BEV_KIND_SOCKET:
            if self.which == BEV_WHICH_READ:
                return bev._socket_read(self.res)
            return bev._socket_write(self.res)
        # A pair's read/write events are pure timers: the generic timeouts
        # (bufferevent_generic_read_timeout_cb).
        if self.which == BEV_WHICH_READ:
            bev.enabled &= ~C_EV_READ
            bev._disable_impl(C_EV_READ)
            return bev._run_eventcb(C_BEV_EVENT_TIMEOUT | C_BEV_EVENT_READING, 0)
        bev.enabled &= ~C_EV_WRITE
        bev._disable_impl(C_EV_WRITE)
        return bev._run_eventcb(C_BEV_EVENT_TIMEOUT | C_BEV_EVENT_WRITING, 0)


cdef BevEvent new_bev_event(Bufferevent bev, int fd, int events, int which, bint internal):
    cdef BevEvent ev = BevEvent.__new__(BevEvent)
    event_assign_internal(ev, bev.base, fd, events, _bev_noop)
    if not internal:
        ev.flags = C_EVLIST_INIT
    ev.closure = CLOSURE_CUSTOM
    ev.pri = bev.base.nqueues // 2
    ev.bev = bev
    ev.which = which
    return ev


def _bev_noop(fd, what, arg):
    pass


cdef int socket_finished_connecting(int fd) except -2:
    """evutil_socket_finished_connecting_: 1 connected, 0 not yet, -1 failed
    (errno in the return of last_error)."""
    cdef int e = 0
    cdef unsigned int elen = sizeof(int)
    if getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0:
        return -1 - errno
    if e == 0:
        return 1
    if e == _errno.EINPROGRESS or e == EINTR:
        return 0
    return -1 - e


cdef int bev_socket_outbuf_cb(Evbuffer buf, Py_ssize_t orig_size, Py_ssize_t n_added,
                              Py_ssize_t n_deleted, object arg) except -1:
    """bufferevent_socket_outbuf_cb: data was added and we want to write but
    are not writing: start."""
    cdef Bufferevent bev = <Bufferevent>arg
    if (n_added and not bev.freed and (bev.enabled & C_EV_WRITE) and
            not (bev.ev_write.flags & C_EVLIST_INSERTED) and not bev.write_suspended):
        bev._add_io(bev.ev_write, bev.tmo_write_ns)
    return 0


cdef int bev_pair_outbuf_cb(Evbuffer buf, Py_ssize_t orig_size, Py_ssize_t n_added,
                            Py_ssize_t n_deleted, object arg) except -1:
    """be_pair_outbuf_cb: move what was written to the partner's input."""
    cdef Bufferevent bev = <Bufferevent>arg
    cdef Bufferevent partner = bev.partner
    if n_added > 0 and partner is not None and not bev.freed:
        if bev._pair_wants_to_talk(partner):
            bev._pair_transfer(partner, False)
    return 0


cdef int bev_inbuf_wm_cb(Evbuffer buf, Py_ssize_t orig_size, Py_ssize_t n_added,
                         Py_ssize_t n_deleted, object arg) except -1:
    """bufferevent_inbuf_wm_cb: stop reading at the read high watermark,
    start again below it."""
    cdef Bufferevent bev = <Bufferevent>arg
    if bev.freed or bev.wm_read_high == 0:
        return 0
    if buf.total_len >= bev.wm_read_high:
        bev._suspend_read(BEV_SUSPEND_WM)
    else:
        bev._unsuspend_read(BEV_SUSPEND_WM)
    return 0


cdef int check_bev_opts(object options) except -1:
    if not isinstance(options, int) or isinstance(options, bool):
        raise TypeError(f"options must be an int of BEV_OPT_* flags, not {type(options).__name__}")
    if options < 0 or options & ~KNOWN_BEV_OPTS:
        raise ValueError(f"options: unknown BEV_OPT_* bits in {options:#x}")
    return 0


cdef int check_iotype(object what, str argname) except -1:
    if not isinstance(what, int) or isinstance(what, bool):
        raise TypeError(f"{argname} must be an int of EV_READ/EV_WRITE, not {type(what).__name__}")
    if what < 0 or what & ~(C_EV_READ | C_EV_WRITE):
        raise ValueError(f"{argname}: only EV_READ and EV_WRITE are allowed, got {what:#x}")
    return 0


cdef Py_ssize_t check_size(object value, str argname) except -1:
    """A size_t argument of libevent's: an int >= 0; sizes beyond
    PY_SSIZE_T_MAX clamp to it (no buffer can be that large), as the
    Evbuffer's size arguments do."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{argname} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{argname} must be >= 0, got {value}")
    if value > PY_SSIZE_T_MAX:
        return PY_SSIZE_T_MAX
    return value


cdef int check_options(object options, int known, str names) except -1:
    if not isinstance(options, int) or isinstance(options, bool):
        raise TypeError(f"options must be an int of {names} flags, not {type(options).__name__}")
    if options < 0 or options & ~known:
        raise ValueError(f"options: unknown {names} bits in {options:#x}")
    return 0


cdef Py_ssize_t check_decr(object decr) except? -1:
    if not isinstance(decr, int) or isinstance(decr, bool):
        raise TypeError(f"decr must be an int, not {type(decr).__name__}")
    if decr > PY_SSIZE_T_MAX or decr < -PY_SSIZE_T_MAX:
        raise ValueError(f"decr must be in -{PY_SSIZE_T_MAX}..{PY_SSIZE_T_MAX}, got {decr}")
    return decr


cdef int KNOWN_BEV_EVENTS = (C_BEV_EVENT_READING | C_BEV_EVENT_WRITING | C_BEV_EVENT_EOF |
                             C_BEV_EVENT_ERROR | C_BEV_EVENT_TIMEOUT | C_BEV_EVENT_CONNECTED)


cdef int bev_init_common(Bufferevent bev, EventBase base, int options) except -1:
    """bufferevent_init_common_ (a C function: only a new bufferevent gets
    here, see Bufferevent.__init__)."""
    bev.base = base
    bev.input = Evbuffer()
    bev.output = Evbuffer()
    bev.options = options
    bev.enabled = C_EV_WRITE
    bev.max_single_read = MAX_SINGLE_READ_DEFAULT
    bev.max_single_write = MAX_SINGLE_WRITE_DEFAULT
    bev.freed = False
    # Not EVLIST_INTERNAL: libevent's deferred callbacks count as real
    # callbacks (EVLOOP_ONCE returns after them).
    bev.ev_deferred = new_bev_event(bev, -1, 0, BEV_WHICH_DEFERRED, False)
    return 0


cdef class Bufferevent:
    """bufferevent: buffered, callback-driven I/O on a socket or a pair.

    ``Bufferevent(base, fd=-1, options=0)`` is bufferevent_socket_new();
    ``Bufferevent.pair(base, options=0)`` is bufferevent_pair_new().
    Callbacks are set with setcb(readcb, writecb, eventcb, arg).

    Differences from libevent: errors raise (TypeError/ValueError naming the
    argument, OSError with errno, RuntimeError after free()) where libevent
    returns -1; free(flush=True) writes out pending output before freeing;
    the errno of the last error is ``bev.last_error`` (libevent leaves it in
    errno for the eventcb); BEV_OPT_THREADSAFE and UNLOCK_CALLBACKS are
    accepted and change nothing (the GIL serialises every call).
    """

    def __cinit__(self):
        self.fd = -1
        self.freed = True

    def __init__(self, base, fd=-1, options=0):
        cdef EventBase b
        cdef int ifd = -1
        if self.base is not None:
            # Its events are in the base and its input/output have their
            # callbacks; a second __init__ would orphan both (and, with
            # another fd, leave the first one registered).  Also after free().
            raise RuntimeError("Bufferevent.__init__ called twice: make a new Bufferevent")
        b = usable_base(base, "create a bufferevent")
        check_bev_opts(options)
        if fd is not None and not (isinstance(fd, int) and not isinstance(fd, bool) and fd == -1):
            ifd = fd_of(fd, "fd")
        bev_init_common(self, b, options)
        self.kind = BEV_KIND_SOCKET
        self.fd = ifd
        self.ev_read = new_bev_event(self, ifd, C_EV_READ | C_EV_PERSIST, BEV_WHICH_READ, False)
        self.ev_write = new_bev_event(self, ifd, C_EV_WRITE | C_EV_PERSIST, BEV_WHICH_WRITE, False)
        self.out_cb = self.output._add_c_cb(bev_socket_outbuf_cb, self, 1)
        # bufferevent_socket_new freezes the back of the input and the front
        # of the output: only the bufferevent itself reads into the one and
        # writes out of the other (it lifts its bit around its own I/O).
        self.input.freeze_end |= FROZEN_BEV
        self.output.freeze_start |= FROZEN_BEV

    def __dealloc__(self):
        # A bufferevent that was never freed and is garbage now: close the
        # socket if it owns it (nothing else can reach it any more).
        if not self.freed and self.options & C_BEV_OPT_CLOSE_ON_FREE and self.fd >= 0:
            close(self.fd)
            self.fd = -1

    @classmethod
    def pair(cls, base, options=0):
        """bufferevent_pair_new: two connected bufferevents; DEFER_CALLBACKS
        is always on for pairs (libevent forces it)."""
        cdef EventBase b = usable_base(base, "create a bufferevent pair")
        cdef Bufferevent a, c
        check_bev_opts(options)
        a = Bufferevent.__new__(Bufferevent)
        c = Bufferevent.__new__(Bufferevent)
        for x in (a, c):
            bev_init_common(<Bufferevent>x, b, options | C_BEV_OPT_DEFER_CALLBACKS)
            (<Bufferevent>x).kind = BEV_KIND_PAIR
            (<Bufferevent>x).ev_read = new_bev_event(x, -1, 0, BEV_WHICH_READ, False)
            (<Bufferevent>x).ev_write = new_bev_event(x, -1, 0, BEV_WHICH_WRITE, False)
            (<Bufferevent>x).out_cb = (<Bufferevent>x).output._add_c_cb(bev_pair_outbuf_cb, x, 1)
        a.partner = c
        c.partner = a
        return a, c

    @classmethod
    def filter(cls, Bufferevent underlying not None, input_filter, output_filter, options=0):
        """bufferevent_filter_new: a bufferevent that reads underlying's
        input through ``input_filter`` and writes its own output into
        underlying's output through ``output_filter``; each is called as
        ``fn(src, dst, dst_limit, mode)`` -> BEV_OK / BEV_NEED_MORE /
        BEV_ERROR, and None copies everything.  The filter takes over the
        underlying's callbacks; BEV_OPT_CLOSE_ON_FREE frees the underlying
        with the filter.  See core/bufferevent_filter.pyx.

        Differences from libevent: no free_context/ctx (use a closure);
        BEV_ERROR from a filter reaches eventcb as READING|ERROR or
        WRITING|ERROR (libevent 2.1 ignores it)."""
        return bufferevent_filter_new(underlying, input_filter, output_filter, options)

    cdef int _check(self, str what) except -1:
        if self.base is None:
            raise RuntimeError(f"cannot {what}: the bufferevent was never initialised")
        if self.freed:
            raise RuntimeError(f"cannot {what}: the bufferevent was freed")
        if self.base.freed:
            raise RuntimeError(f"cannot {what}: the bufferevent's EventBase was freed")
        return 0

    # -- callbacks ---------------------------------------------------------

    def setcb(self, readcb, writecb, eventcb, arg=None):
        """bufferevent_setcb: replace all three callbacks and the arg."""
        self._check("set callbacks")
        for name, cb in (("readcb", readcb), ("writecb", writecb), ("eventcb", eventcb)):
            if cb is not None and not callable(cb):
                raise TypeError(f"{name} must be callable or None, not {type(cb).__name__}")
        self.readcb = readcb
        self.writecb = writecb
        self.eventcb = eventcb
        self.cbarg = arg

    def getcb(self):
        """bufferevent_getcb: (readcb, writecb, eventcb, arg)."""
        return (self.readcb, self.writecb, self.eventcb, self.cbarg)

    cdef int _run_readcb(self, int options) except -1:
        """bufferevent_run_readcb_."""
        if self.readcb is None:
            return 0
        if (self.options & C_BEV_OPT_DEFER_CALLBACKS) or (options & C_BEV_TRIG_DEFER_CALLBACKS):
            self.readcb_pending = True
            return self._schedule_deferred()
        self.readcb(self, self.cbarg)
        return self._inbuf_wm_check()

    cdef int _inbuf_wm_check(self) except -1:
        """bufferevent_inbuf_wm_check (2.1.9+): reading is suspended at the
        high watermark, so if the readcb left the input there, run it again
        (deferred) or no more data would ever arrive to call it."""
        if self.freed or not self.wm_read_high or not (self.enabled & C_EV_READ):
            return 0
        if self.input.total_len < self.wm_read_high:
            return 0
        return self._trigger(C_EV_READ, C_BEV_TRIG_DEFER_CALLBACKS)

    cdef int _run_writecb(self, int options) except -1:
        """bufferevent_run_writecb_."""
        if self.writecb is None:
            return 0
        if (self.options & C_BEV_OPT_DEFER_CALLBACKS) or (options & C_BEV_TRIG_DEFER_CALLBACKS):
            self.writecb_pending = True
            return self._schedule_deferred()
        self.writecb(self, self.cbarg)
        return 0

    cdef int _run_eventcb(self, int what, int options) except -1:
        """bufferevent_run_eventcb_."""
        if self.eventcb is None:
            return 0
        if (self.options & C_BEV_OPT_DEFER_CALLBACKS) or (options & C_BEV_TRIG_DEFER_CALLBACKS):
            self.eventcb_pending |= what
            self.errno_pending = self.last_error
            return self._schedule_deferred()
        self.eventcb(self, what, self.cbarg)
        return 0

    cdef int _schedule_deferred(self) except -1:
        if self.ev_deferred is not None:
            event_deferred_schedule(self.base, self.ev_deferred)
        return 0

    cdef int _run_deferred(self) except -1:
        """bufferevent_run_deferred_callbacks_locked: CONNECTED first, then
        readcb, writecb, then the other events."""
        cdef int what
        if self.eventcb_pending & C_BEV_EVENT_CONNECTED:
            self.eventcb_pending &= ~C_BEV_EVENT_CONNECTED
            if self.eventcb is not None:
                self.eventcb(self, C_BEV_EVENT_CONNECTED, self.cbarg)
        if self.freed:
            return 0
        if self.readcb_pending and self.readcb is not None:
            self.readcb_pending = False
            self.readcb(self, self.cbarg)
            self._inbuf_wm_check()
        if self.freed:
            return 0
        if self.writecb_pending and self.writecb is not None:
            self.writecb_pending = False
            self.writecb(self, self.cbarg)
        if self.freed:
            return 0
        if self.eventcb_pending and self.eventcb is not None:
            what = self.eventcb_pending
            self.eventcb_pending = 0
            self.last_error = self.errno_pending
            self.errno_pending = 0
            self.eventcb(self, what, self.cbarg)
        return 0

    cdef int _trigger(self, int iotype, int options) except -1:
        """bufferevent_trigger_nolock_: run readcb/writecb if the watermarks
        say so (or regardless, with BEV_TRIG_IGNORE_WATERMARKS)."""
        if (iotype & C_EV_READ) and ((options & C_BEV_TRIG_IGNORE_WATERMARKS) or
                                     self.input.total_len >= self.wm_read_low):
            self._run_readcb(options)
        if self.freed:
            return 0
        if (iotype & C_EV_WRITE) and ((options & C_BEV_TRIG_IGNORE_WATERMARKS) or
                                      self.output.total_len <= self.wm_write_low):
            self._run_writecb(options)
        return 0

    def trigger(self, iotype, options=0):
        """bufferevent_trigger: run readcb and/or writecb as if data had
        arrived or drained."""
        self._check("trigger callbacks")
        check_iotype(iotype, "iotype")
        check_options(options, C_BEV_TRIG_IGNORE_WATERMARKS | C_BEV_TRIG_DEFER_CALLBACKS,
                      "BEV_TRIG_*")
        self._trigger(iotype, options)

    def trigger_event(self, what, options=0):
        """bufferevent_trigger_event: run eventcb with ``what``."""
        self._check("trigger the event callback")
        if not isinstance(what, int) or isinstance(what, bool):
            raise TypeError(f"what must be an int of BEV_EVENT_* flags, not {type(what).__name__}")
        if what < 0 or what & ~KNOWN_BEV_EVENTS:
            raise ValueError(f"what: unknown BEV_EVENT_* bits in {what:#x}")
        check_options(options, C_BEV_TRIG_DEFER_CALLBACKS, "BEV_TRIG_*")
        self._run_eventcb(what, options)

    # -- enabling, suspending ----------------------------------------------

    cdef int _add_io(self, BevEvent ev, int64_t tmo_ns) except -1:
        """bufferevent_add_event_: a zero timeout means none (and then an
        existing deadline is kept, as event_add(ev, NULL) does)."""
        if self.kind == BEV_KIND_SOCKET and self.fd < 0:
            return 0
        if self.kind != BEV_KIND_SOCKET:
            # Pairs and filters only have the generic timeout timers.
            if tmo_ns:
                event_add_nolock(self.base, ev, tmo_ns, True, False)
            else:
                event_del_nolock(self.base, ev, False)
            return 0
        if tmo_ns:
            event_add_nolock(self.base, ev, tmo_ns, True, False)
        else:
            event_add_nolock(self.base, ev, 0, False, False)
        return 0

    cdef int _enable_impl(self, int what) except -1:
        cdef Bufferevent partner
        if self.kind == BEV_KIND_SOCKET:
            # be_socket_enable
            if what & C_EV_READ:
                self._add_io(self.ev_read, self.tmo_read_ns)
            if what & C_EV_WRITE:
                self._add_io(self.ev_write, self.tmo_write_ns)
            return 0
        # be_pair_enable: restart the generic timeouts, then move whatever
        # can move now.
        if what & C_EV_READ:
            self._add_io(self.ev_read, self.tmo_read_ns)
        if (what & C_EV_WRITE) and self.output.total_len:
            self._add_io(self.ev_write, self.tmo_write_ns)
        partner = self.partner
        if (what & C_EV_READ) and partner is not None and partner._pair_wants_to_talk(self):
            partner._pair_transfer(self, False)
        partner = self.partner
        if (what & C_EV_WRITE) and partner is not None and self._pair_wants_to_talk(partner):
            self._pair_transfer(partner, False)
        return 0

    cdef int _disable_impl(self, int what) except -1:
        if self.kind == BEV_KIND_SOCKET:
            # be_socket_disable: a connect in progress keeps its write event.
            if what & C_EV_READ:
                event_del_nolock(self.base, self.ev_read, False)
            if (what & C_EV_WRITE) and not self.connecting:
                event_del_nolock(self.base, self.ev_write, False)
            return 0
        if what & C_EV_READ:
            event_del_nolock(self.base, self.ev_read, False)
        if what & C_EV_WRITE:
            event_del_nolock(self.base, self.ev_write, False)
        return 0

    def enable(self, what):
        """bufferevent_enable(EV_READ|EV_WRITE)."""
        cdef int impl
        self._check("enable the bufferevent")
        check_iotype(what, "what")
        impl = what
        if self.read_suspended:
            impl &= ~C_EV_READ
        if self.write_suspended:
            impl &= ~C_EV_WRITE
        self.enabled |= what
        if impl:
            self._enable_impl(impl)

    def disable(self, what):
        """bufferevent_disable(EV_READ|EV_WRITE)."""
        self._check("disable the bufferevent")
        check_iotype(what, "what")
        self.enabled &= ~(<int>what)
        self._disable_impl(what)

    def get_enabled(self):
        """bufferevent_get_enabled."""
        return self.enabled

    cdef int _suspend_read(self, int what) except -1:
        if not self.read_suspended:
            self._disable_impl(C_EV_READ)
        self.read_suspended |= what
        return 0

    cdef int _unsuspend_read(self, int what) except -1:
        self.read_suspended &= ~what
        if not self.read_suspended and (self.enabled & C_EV_READ):
            self._enable_impl(C_EV_READ)
        return 0

    cdef int _suspend_write(self, int what) except -1:
        if not self.write_suspended:
            self._disable_impl(C_EV_WRITE)
        self.write_suspended |= what
        return 0

    cdef int _unsuspend_write(self, int what) except -1:
        self.write_suspended &= ~what
        if not self.write_suspended and (self.enabled & C_EV_WRITE):
            self._enable_impl(C_EV_WRITE)
        return 0

    # -- watermarks and timeouts -----------------------------------------

    def setwatermark(self, events, lowmark, highmark):
        """bufferevent_setwatermark(EV_READ|EV_WRITE, low, high)."""
        cdef Py_ssize_t low, high
        self._check("set watermarks")
        check_iotype(events, "events")
        low = check_size(lowmark, "lowmark")
        high = check_size(highmark, "highmark")
        if events & C_EV_WRITE:
            self.wm_write_low = low
            self.wm_write_high = high
        if events & C_EV_READ:
            self.wm_read_low = low
            self.wm_read_high = high
            if high:
                if self.in_wm_cb is None:
                    self.in_wm_cb = self.input._add_c_cb(bev_inbuf_wm_cb, self, 1)
                else:
                    self.input.cb_set_flags(self.in_wm_cb, 1)
                if self.input.total_len >= high:
                    self._suspend_read(BEV_SUSPEND_WM)
                else:
                    self._unsuspend_read(BEV_SUSPEND_WM)
            else:
                if self.in_wm_cb is not None:
                    self.input.cb_clear_flags(self.in_wm_cb, 1)
                self._unsuspend_read(BEV_SUSPEND_WM)

    def getwatermark(self, events):
        """bufferevent_getwatermark(EV_READ or EV_WRITE): (low, high)."""
        check_iotype(events, "events")
        if events == C_EV_READ:
            return (self.wm_read_low, self.wm_read_high)
        if events == C_EV_WRITE:
            return (self.wm_write_low, self.wm_write_high)
        raise ValueError("events: pass exactly one of EV_READ or EV_WRITE")

    def set_timeouts(self, timeout_read=None, timeout_write=None):
        """bufferevent_set_timeouts: None (or 0) means no timeout."""
        cdef int64_t r, w
        self._check("set timeouts")
        r = timeout_to_ns(self.base, timeout_read, "timeout_read")
        w = timeout_to_ns(self.base, timeout_write, "timeout_write")
        self.tmo_read_ns = 0 if r == -2 else r
        self.tmo_write_ns = 0 if w == -2 else w
        self._adj_timeouts()

    cdef int _adj_timeouts(self) except -1:
        if self.kind == BEV_KIND_SOCKET:
            # be_socket_adj_timeouts: only the events that are pending.
            if self.ev_read.flags & C_EVLIST_INSERTED:
                if self.tmo_read_ns:
                    event_add_nolock(self.base, self.ev_read, self.tmo_read_ns, True, False)
                else:
                    event_remove_timer_nolock(self.base, self.ev_read)
            if self.ev_write.flags & C_EVLIST_INSERTED:
                if self.tmo_write_ns:
                    event_add_nolock(self.base, self.ev_write, self.tmo_write_ns, True, False)
                else:
                    event_remove_timer_nolock(self.base, self.ev_write)
            return 0
        # bufferevent_generic_adj_timeouts_
        if (self.enabled & C_EV_READ) and not self.read_suspended and self.tmo_read_ns:
            event_add_nolock(self.base, self.ev_read, self.tmo_read_ns, True, False)
        else:
            event_del_nolock(self.base, self.ev_read, False)
        if ((self.enabled & C_EV_WRITE) and not self.write_suspended and self.tmo_write_ns
                and self.output.total_len):
            event_add_nolock(self.base, self.ev_write, self.tmo_write_ns, True, False)
        else:
            event_del_nolock(self.base, self.ev_write, False)
        return 0

    # -- socket I/O (bufferevent_readcb / bufferevent_writecb) ---------------

    cdef int _socket_read(self, int res) except -1:
        cdef int what = C_BEV_EVENT_READING
        cdef Py_ssize_t howmuch = -1, n
        if res == C_EV_TIMEOUT:
            what |= C_BEV_EVENT_TIMEOUT
        else:
            if self.wm_read_high:
                howmuch = self.wm_read_high - self.input.total_len
                if howmuch <= 0:
                    # the watermark was lowered: stop reading
                    self._suspend_read(BEV_SUSPEND_WM)
                    return 0
            if howmuch < 0 or howmuch > self.max_single_read:
                howmuch = self.max_single_read
            if self.rate_limiting is not None:
                # bufferevent_get_read_max_: the bucket (may suspend us)
                n = bev_get_rlim_max(self, False)
                if n < howmuch:
                    howmuch = n
            if self.read_suspended:
                return 0
            if howmuch <= 0:
                return 0
            self.input.freeze_end &= ~FROZEN_BEV
            try:
                n = self.input._read_fd(self.fd, howmuch)
            except (BlockingIOError, InterruptedError):
                self.input.freeze_end |= FROZEN_BEV
                return 0
            except OSError as exc:
                self.last_error = exc.errno or 0
                n = -1
                what |= C_BEV_EVENT_ERROR
            else:
                if n == 0:
                    what |= C_BEV_EVENT_EOF
            self.input.freeze_end |= FROZEN_BEV
            if n > 0:
                if self.rate_limiting is not None:
                    bev_decrement_buckets(self, n, False)
                # Invoke the user callback - always last.
                return self._trigger(C_EV_READ, 0)
        # error, EOF or timeout: the direction goes off before eventcb runs
        self.enabled &= ~C_EV_READ
        self._disable_impl(C_EV_READ)
        return self._run_eventcb(what, 0)

    cdef int _socket_write(self, int res) except -1:
        cdef int what = C_BEV_EVENT_WRITING
        cdef bint connected = False
        cdef int c
        cdef Py_ssize_t n = 0, atmost
        if res == C_EV_TIMEOUT:
            what |= C_BEV_EVENT_TIMEOUT
        else:
            if self.connecting:
                c = socket_finished_connecting(self.fd)
                if c == 0:
                    return 0
                self.connecting = False
                if c < 0:
                    self.last_error = -1 - c
                    event_del_nolock(self.base, self.ev_write, False)
                    event_del_nolock(self.base, self.ev_read, False)
                    return self._run_eventcb(C_BEV_EVENT_ERROR, 0)
                connected = True
                self._run_eventcb(C_BEV_EVENT_CONNECTED, 0)
                if self.freed:
                    return 0
                if not (self.enabled & C_EV_WRITE) or self.write_suspended:
                    event_del_nolock(self.base, self.ev_write, False)
                    return 0
            atmost = self.max_single_write
            if self.rate_limiting is not None:
                atmost = bev_get_rlim_max(self, True)
            if self.write_suspended:
                return 0
            if self.output.total_len and atmost > 0:
                self.output.freeze_start &= ~FROZEN_BEV
                try:
                    n = self.output._write_fd(self.fd, atmost)
                except (BlockingIOError, InterruptedError):
                    self.output.freeze_start |= FROZEN_BEV
                    if self.output.total_len == 0:
                        event_del_nolock(self.base, self.ev_write, False)
                    return 0
                except OSError as exc:
                    self.last_error = exc.errno or 0
                    what |= C_BEV_EVENT_ERROR
                    n = -1
                else:
                    if n == 0:
                        what |= C_BEV_EVENT_EOF
                        n = -1
                self.output.freeze_start |= FROZEN_BEV
                if n > 0 and self.rate_limiting is not None:
                    bev_decrement_buckets(self, n, True)
            if n >= 0:
                if self.output.total_len == 0:
                    event_del_nolock(self.base, self.ev_write, False)
                    if self.free_when_flushed:
                        self._teardown()
                        return 0
                # writecb if drained to the low watermark
                if n or not connected:
                    self._trigger(C_EV_WRITE, 0)
                return 0
        self.enabled &= ~C_EV_WRITE
        self._disable_impl(C_EV_WRITE)
        if self.free_when_flushed:
            self._teardown()
            return 0
        return self._run_eventcb(what, 0)

    # -- pairs (bufferevent_pair.c) ----------------------------------------

    cdef bint _pair_wants_to_talk(self, Bufferevent dst):
        return ((self.enabled & C_EV_WRITE) and (dst.enabled & C_EV_READ) and
                not dst.read_suspended and not self.write_suspended and
                self.output.total_len > 0)

    cdef int _pair_transfer(self, Bufferevent dst, bint ignore_wm) except -1:
        """be_pair_transfer: move output -> partner input (up to its read
        high watermark unless ignore_wm), then run the callbacks."""
        cdef Py_ssize_t n, dst_size
        if dst.wm_read_high:
            dst_size = dst.input.total_len
            if dst_size < dst.wm_read_high:
                n = dst.wm_read_high - dst_size
                n = self.output._remove_buffer(dst.input, n)
            else:
                if not ignore_wm:
                    return 0
                n = self.output.total_len
                dst.input._add_buffer(self.output)
        else:
            n = self.output.total_len
            dst.input._add_buffer(self.output)
        if n:
            if dst.tmo_read_ns and (dst.enabled & C_EV_READ):
                event_add_nolock(dst.base, dst.ev_read, dst.tmo_read_ns, True, False)
            if dst.output.total_len and dst.tmo_write_ns and (dst.enabled & C_EV_WRITE):
                event_add_nolock(dst.base, dst.ev_write, dst.tmo_write_ns, True, False)
            else:
                event_del_nolock(dst.base, dst.ev_write, False)
        dst._trigger(C_EV_READ, 0)
        if not self.freed:
            self._trigger(C_EV_WRITE, 0)
        return 0

    def get_partner(self):
        """bufferevent_pair_get_partner: the other end, or None."""
        return self.partner

    # -- data --------------------------------------------------------------

    def get_base(self):
        """bufferevent_get_base."""
        return self.base

    def get_input(self):
        """bufferevent_get_input."""
        return self.input

    def get_output(self):
        """bufferevent_get_output."""
        return self.output

    def write(self, data):
        """bufferevent_write: append data (any bytes-like) to the output."""
        self._check("write")
        self.output._add_object(data)

    def write_buffer(self, Evbuffer buf not None):
        """bufferevent_write_buffer: move all of buf into the output."""
        self._check("write")
        self.output._add_buffer(buf)

    def read(self, size):
        """bufferevent_read: remove up to size bytes from the input."""
        cdef Py_ssize_t n = check_size(size, "size")
        self._check("read")
        return self.input._remove(n)

    def read_buffer(self, Evbuffer buf not None):
        """bufferevent_read_buffer: move all of the input into buf."""
        self._check("read")
        buf._add_buffer(self.input)

    def flush(self, iotype, mode):
        """bufferevent_flush(iotype, BEV_NORMAL/BEV_FLUSH/BEV_FINISHED).
        A no-op (0) for sockets, as in libevent; for pairs BEV_FLUSH moves
        everything regardless of watermarks and BEV_FINISHED also tells the
        partner EOF.  Returns 0 (nothing done) or 1 (data moved)."""
        cdef Bufferevent partner
        cdef int what
        self._check("flush")
        check_iotype(iotype, "iotype")
        if not isinstance(mode, int) or isinstance(mode, bool):
            raise TypeError(f"mode must be BEV_NORMAL, BEV_FLUSH or BEV_FINISHED, not "
                            f"{type(mode).__name__}")
        if mode not in (C_BEV_NORMAL, C_BEV_FLUSH, C_BEV_FINISHED):
            raise ValueError(f"mode must be BEV_NORMAL, BEV_FLUSH or BEV_FINISHED, got {mode!r}")
        if self.kind == BEV_KIND_SOCKET or mode == C_BEV_NORMAL:
            return 0
        partner = self.partner
        if partner is None:
            return 0
        if iotype & C_EV_READ:
            partner._pair_transfer(self, True)
        if iotype & C_EV_WRITE:
            self._pair_transfer(partner, True)
        if mode == C_BEV_FINISHED:
            what = C_BEV_EVENT_EOF
            if iotype & C_EV_READ:
                what |= C_BEV_EVENT_WRITING
            if iotype & C_EV_WRITE:
                what |= C_BEV_EVENT_READING
            partner._run_eventcb(what, 0)
        return 0

    # -- sockets -----------------------------------------------------------

    def getfd(self):
        """bufferevent_getfd: the socket, or -1."""
        return self.fd

    def setfd(self, fd):
        """bufferevent_setfd: watch another socket (events re-assigned, the
        enabled directions re-enabled)."""
        cdef int ifd
        self._check("set the fd")
        if self.kind != BEV_KIND_SOCKET:
            raise RuntimeError("setfd only applies to socket bufferevents")
        ifd = -1 if (isinstance(fd, int) and fd == -1) else fd_of(fd, "fd")
        event_del_nolock(self.base, self.ev_read, False)
        event_del_nolock(self.base, self.ev_write, False)
        self.fd = ifd
        self.ev_read.fd = ifd
        self.ev_write.fd = ifd
        self.connecting = False
        if ifd >= 0:
            self._enable_impl(self.enabled & ~(
                (C_EV_READ if self.read_suspended else 0) |
                (C_EV_WRITE if self.write_suspended else 0)))

    def socket_connect(self, address):
        """bufferevent_socket_connect(address): connect the socket (making a
        non-blocking one if the bufferevent has none).  eventcb later gets
        BEV_EVENT_CONNECTED, or BEV_EVENT_ERROR with bev.last_error set.
        OSError for an immediate failure (libevent returns -1)."""
        cdef bint ownfd = False
        cdef int err
        self._check("connect")
        if self.kind != BEV_KIND_SOCKET:
            raise RuntimeError("socket_connect only applies to socket bufferevents")
        if isinstance(address, (str, bytes)):
            family = _socket.AF_UNIX
        elif isinstance(address, tuple) and len(address) in (2, 4):
            host = address[0]
            family = _socket.AF_INET6 if (len(address) == 4 or ":" in str(host)) else _socket.AF_INET
        else:
            raise TypeError(f"address must be a (host, port) tuple, a 4-tuple for IPv6 or a "
                            f"unix socket path, not {address!r}")
        if self.fd < 0:
            s = _socket.socket(family, _socket.SOCK_STREAM)
            s.setblocking(False)
            self.setfd(s.detach())
            ownfd = True
        s = _socket.socket(fileno=self.fd)
        try:
            try:
                err = s.connect_ex(address)
            except (OSError, TypeError, ValueError) as exc:
                if ownfd:
                    s.close()
                    self.fd = self.ev_read.fd = self.ev_write.fd = -1
                raise
        finally:
            if s.fileno() >= 0:
                s.detach()
        if err == 0 or err == _errno.EINPROGRESS or err == EINTR or err == EAGAIN:
            # In progress (or done at once, as unix sockets are): the write
            # event reports the outcome, so eventcb always sees CONNECTED.
            self.connecting = True
            self._add_io(self.ev_write, self.tmo_write_ns)
            return
        if err == _errno.ECONNREFUSED:
            # Refused at once: reported later, as libevent does on BSD.
            self.last_error = err
            self._run_eventcb(C_BEV_EVENT_ERROR, C_BEV_OPT_DEFER_CALLBACKS)
            self.enabled &= ~(C_EV_READ | C_EV_WRITE)
            self._disable_impl(C_EV_READ | C_EV_WRITE)
            return
        if ownfd:
            close(self.fd)
            self.fd = self.ev_read.fd = self.ev_write.fd = -1
        raise OSError(err, f"connect to {address!r}: {_os.strerror(err)}")

    def socket_connect_hostname(self, family, host, port, dns_base=None):
        """bufferevent_socket_connect_hostname: resolve host (in a worker
        thread, so the loop never blocks) and connect to the first address.
        A resolution failure is eventcb(BEV_EVENT_ERROR) with
        get_dns_error() returning the EAI_* code."""
        cdef BevEvent done_ev
        self._check("connect")
        if self.kind != BEV_KIND_SOCKET:
            raise RuntimeError("socket_connect_hostname only applies to socket bufferevents")
        if family not in (_socket.AF_UNSPEC, _socket.AF_INET, _socket.AF_INET6):
            raise ValueError(f"family must be AF_UNSPEC, AF_INET or AF_INET6, got {family!r}")
        if not isinstance(host, (str, bytes)):
            raise TypeError(f"host must be a str, not {type(host).__name__}")
        if not isinstance(port, int) or isinstance(port, bool):
            raise TypeError(f"port must be an int, not {type(port).__name__}")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be in 0..65535, got {port!r}")
        self.dns_error = 0
        self._suspend_read(BEV_SUSPEND_LOOKUP)
        self._suspend_write(BEV_SUSPEND_LOOKUP)
        result = []
        ev = Event(self.base, -1, 0, self._lookup_done, result)
        self.lookup = ev
        # A "virtual" event (event_base_add_virtual_) keeps dispatch() running
        # while the lookup thread works, as evdns's own events would.
        self.base.virtual_event_count += 1
        if self.base.virtual_event_count > self.base.virtual_event_count_max:
            self.base.virtual_event_count_max = self.base.virtual_event_count

        def work():
            try:
                infos = _socket.getaddrinfo(host, port, family, _socket.SOCK_STREAM)
                result.append(("ok", infos))
            except _socket.gaierror as exc:
                result.append(("gai", exc.errno))
            except BaseException as exc:   # pragma: no cover - defensive
                result.append(("exc", exc))
            try:
                ev.active(C_EV_TIMEOUT)
            except RuntimeError:
                pass            # the base was freed meanwhile
        _threading.Thread(target=work, name="evloop-connect-hostname", daemon=True).start()

    def _lookup_done(self, fd, what, result):
        if self.lookup is None:
            return              # not a lookup of ours (called by hand)
        self.lookup = None
        self.base.virtual_event_count -= 1
        if self.freed:
            return
        self._unsuspend_read(BEV_SUSPEND_LOOKUP)
        self._unsuspend_write(BEV_SUSPEND_LOOKUP)
        kind, value = result[0]
        if kind == "ok" and value:
            family, type_, proto, canon, addr = value[0]
            try:
                self.socket_connect(addr)
            except OSError as exc:
                self.last_error = exc.errno or 0
                self._run_eventcb(C_BEV_EVENT_ERROR, 0)
            return
        if kind == "gai":
            self.dns_error = value
        else:
            self.dns_error = _socket.EAI_FAIL
        self._run_eventcb(C_BEV_EVENT_ERROR, 0)

    def get_dns_error(self):
        """bufferevent_socket_get_dns_error: the EAI_* code of the last
        failed connect_hostname, or 0."""
        return self.dns_error

    # -- misc --------------------------------------------------------------

    def priority_set(self, priority):
        """bufferevent_priority_set: the priority of its events and deferred
        callbacks."""
        self._check("set the priority")
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise TypeError(f"priority must be an int, not {type(priority).__name__}")
        if priority < 0 or priority >= self.base.nqueues:
            raise ValueError(f"priority must be in 0..{self.base.nqueues - 1}, got {priority}")
        for ev in (self.ev_read, self.ev_write, self.ev_deferred):
            if (<Event>ev).flags & C_EVLIST_ACTIVE:
                raise RuntimeError("cannot change the priority while a callback is active")
        self.ev_read.pri = self.ev_write.pri = self.ev_deferred.pri = priority

    def get_priority(self):
        """bufferevent_get_priority."""
        if self.ev_read is None:
            raise RuntimeError("cannot get the priority: the bufferevent was never initialised")
        return self.ev_read.pri

    def set_max_single_read(self, size):
        """bufferevent_set_max_single_read (0, negative or above
        PY_SSIZE_T_MAX: the default, as libevent's size_t > EV_SSIZE_MAX)."""
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"size must be an int, not {type(size).__name__}")
        self.max_single_read = size if 0 < size <= PY_SSIZE_T_MAX else MAX_SINGLE_READ_DEFAULT

    def get_max_single_read(self):
        return self.max_single_read

    def set_max_single_write(self, size):
        """bufferevent_set_max_single_write (0, negative or above
        PY_SSIZE_T_MAX: the default)."""
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"size must be an int, not {type(size).__name__}")
        self.max_single_write = size if 0 < size <= PY_SSIZE_T_MAX else MAX_SINGLE_WRITE_DEFAULT

    def get_max_single_write(self):
        return self.max_single_write

    # -- rate limits (bufferevent_ratelim.pyx) --------------------------------

    def set_rate_limit(self, cfg):
        """bufferevent_set_rate_limit(TokenBucketCfg or None): this
        bufferevent's own token buckets (None removes them).  Only socket
        bufferevents honour them, as in libevent."""
        self._check("set a rate limit")
        if cfg is not None:
            check_cfg(cfg, "cfg")
        bev_set_rate_limit(self, cfg)

    def get_read_limit(self):
        """bufferevent_get_read_limit: the read bucket now (may be negative);
        EV_SSIZE_MAX without a rate limit."""
        if self.rate_limiting is None or self.rate_limiting.cfg is None:
            return PY_SSIZE_T_MAX
        bev_update_buckets(self)
        return self.rate_limiting.read_limit

    def get_write_limit(self):
        """bufferevent_get_write_limit."""
        if self.rate_limiting is None or self.rate_limiting.cfg is None:
            return PY_SSIZE_T_MAX
        bev_update_buckets(self)
        return self.rate_limiting.write_limit

    def decrement_read_limit(self, decr):
        """bufferevent_decrement_read_limit (negative: increment).
        RuntimeError without a rate limit (libevent asserts)."""
        self._check("decrement the read limit")
        bev_decrement_limit(self, check_decr(decr), False)

    def decrement_write_limit(self, decr):
        """bufferevent_decrement_write_limit."""
        self._check("decrement the write limit")
        bev_decrement_limit(self, check_decr(decr), True)

    def get_rate_limit_group(self):
        """The RateLimitGroup this bufferevent is in, or None (evloop;
        libevent keeps it private)."""
        if self.rate_limiting is None:
            return None
        return self.rate_limiting.group

    def get_max_to_read(self):
        """bufferevent_get_max_to_read: what one read may take now."""
        self._check("get the max to read")
        return bev_get_rlim_max(self, False)

    def get_max_to_write(self):
        """bufferevent_get_max_to_write."""
        self._check("get the max to write")
        return bev_get_rlim_max(self, True)

    def get_underlying(self):
        """bufferevent_get_underlying: None (a filter returns its underlying)."""
        return None

    cdef int _teardown(self) except -1:
        """The end of bufferevent_free: callbacks gone, events deleted,
        partner unlinked (no EOF for it, as libevent), fd closed with
        BEV_OPT_CLOSE_ON_FREE."""
        self.freed = True
        self.free_when_flushed = False
        self.readcb = self.writecb = self.eventcb = self.cbarg = None
        if self.rate_limiting is not None:
            bev_rate_limit_teardown(self)
        if not self.base.freed:
            for ev in (self.ev_read, self.ev_write, self.ev_deferred):
                if ev is not None:
                    event_del_nolock(self.base, <Event>ev, False)
        for ev in (self.ev_read, self.ev_write, self.ev_deferred):
            if ev is not None:
                (<BevEvent>ev).bev = None
        if self.ev_deferred is not None and not self.base.freed:
            # libevent destroys a bufferevent through finalizer callbacks that
            # run in the next pass (bufferevent_decref_and_unlock_); one
            # callback that does nothing keeps that pass observable.
            event_active_nolock(self.base, self.ev_deferred, C_EV_FINALIZE, 1)
        if self.partner is not None:
            self.partner.partner = None
            self.partner = None
        if self.options & C_BEV_OPT_CLOSE_ON_FREE and self.fd >= 0:
            close(self.fd)
        self.fd = -1
        return 0

    def free(self, flush=False):
        """bufferevent_free: stop, and drop unsent output (libevent does).
        With flush=True (evloop's flush-then-free), a socket bufferevent
        stops reading and its callbacks, writes what output holds, then
        frees itself.  Idempotent."""
        if self.freed:
            return
        if (flush and self.kind == BEV_KIND_SOCKET and self.fd >= 0 and
                self.output.total_len and not self.base.freed):
            self.readcb = self.writecb = self.eventcb = self.cbarg = None
            self.enabled &= ~C_EV_READ
            self._disable_impl(C_EV_READ)
            self.enabled |= C_EV_WRITE
            self.write_suspended = 0
            self.free_when_flushed = True
            if not (self.ev_write.flags & C_EVLIST_INSERTED):
                self._add_io(self.ev_write, self.tmo_write_ns)
            return
        self._teardown()

    def __repr__(self):
        kind = "pair" if self.kind == BEV_KIND_PAIR else f"fd={self.fd}"
        state = " freed" if self.freed else ""
        return f"<evloop.Bufferevent {kind} enabled={self.enabled:#x}{state}>"
