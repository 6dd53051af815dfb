# Declarations of the bufferevents (libevent bufferevent.c,
# bufferevent_sock.c, bufferevent_pair.c): a Bufferevent is an input and an
# output Evbuffer plus the events that move bytes between them and a socket
# (or a partner).  Every field is commented; the implementation is
# core/bufferevent.pyx.

cdef class Bufferevent
cdef class BevRateLimit
cdef class RateLimitGroup


cdef class BevEvent(Event):
    # One of a bufferevent's own events: read/write readiness (socket), the
    # generic read/write timeouts (pair), or the deferred-callback runner.
    cdef Bufferevent bev         # its bufferevent (cleared on free)
    cdef int which               # BEV_WHICH_* (bufferevent.pyx)


cdef class Bufferevent:
    cdef readonly EventBase base     # bufferevent_get_base
    cdef readonly Evbuffer input     # bufferevent_get_input
    cdef readonly Evbuffer output    # bufferevent_get_output
    cdef object readcb               # readcb(bev, arg) or None
    cdef object writecb              # writecb(bev, arg) or None
    cdef object eventcb              # eventcb(bev, what, arg) or None
    cdef object cbarg                # the shared arg
    cdef int kind                    # BEV_KIND_SOCKET / BEV_KIND_PAIR / BEV_KIND_FILTER
    cdef int options                 # BEV_OPT_*
    cdef int enabled                 # EV_READ|EV_WRITE the user enabled
    cdef int read_suspended          # BEV_SUSPEND_* reasons reading is off
    cdef int write_suspended         # BEV_SUSPEND_* reasons writing is off
    cdef Py_ssize_t wm_read_low      # readcb only once input >= this
    cdef Py_ssize_t wm_read_high     # stop reading at this (0: no limit)
    cdef Py_ssize_t wm_write_low     # writecb once output <= this
    cdef Py_ssize_t wm_write_high    # (filters only) limit of the underlying output
    cdef int64_t tmo_read_ns         # read timeout, 0 = none
    cdef int64_t tmo_write_ns        # write timeout, 0 = none
    cdef Py_ssize_t max_single_read  # bytes per read at most
    cdef Py_ssize_t max_single_write # bytes per write at most
    cdef int fd                      # socket, -1 if none (pair: -1)
    cdef bint connecting             # connect() in progress
    cdef readonly bint freed         # bufferevent_free was called
    cdef bint free_when_flushed      # free(flush=True): free once output empties
    cdef BevEvent ev_read            # EV_READ|EV_PERSIST on fd, or the read timer
    cdef BevEvent ev_write           # EV_WRITE|EV_PERSIST on fd, or the write timer
    cdef BevEvent ev_deferred        # runs deferred callbacks
    cdef bint readcb_pending         # deferred callbacks waiting to run
    cdef bint writecb_pending
    cdef int eventcb_pending         # OR of BEV_EVENT_* waiting to run
    cdef int errno_pending           # errno saved for the deferred eventcb
    cdef readonly int last_error     # errno of the last BEV_EVENT_ERROR
    cdef int dns_error               # EAI_* of a failed connect_hostname
    cdef Bufferevent partner         # the other end of a pair
    cdef EvbufferCbEntry out_cb      # output callback that starts writing
    cdef EvbufferCbEntry in_wm_cb    # input callback for the high watermark
    cdef object lookup               # pending connect_hostname resolution
    cdef BevRateLimit rate_limiting  # buckets/group (bufferevent_ratelim.pyx), or None
    cdef object __weakref__

    cdef int _enable_impl(self, int what) except -1
    cdef int _disable_impl(self, int what) except -1
    cdef int _run_readcb(self, int options) except -1
    cdef int _inbuf_wm_check(self) except -1
    cdef int _run_writecb(self, int options) except -1
    cdef int _run_eventcb(self, int what, int options) except -1
    cdef int _trigger(self, int iotype, int options) except -1
    cdef int _schedule_deferred(self) except -1
    cdef int _run_deferred(self) except -1
    cdef int _socket_read(self, int res) except -1
    cdef int _socket_write(self, int res) except -1
    cdef int _suspend_read(self, int what) except -1
    cdef int _unsuspend_read(self, int what) except -1
    cdef int _suspend_write(self, int what) except -1
    cdef int _unsuspend_write(self, int what) except -1
    cdef int _add_io(self, BevEvent ev, int64_t tmo_ns) except -1
    cdef int _adj_timeouts(self) except -1
    cdef int _pair_transfer(self, Bufferevent dst, bint ignore_wm) except -1
    cdef bint _pair_wants_to_talk(self, Bufferevent dst)
    cdef int _check(self, str what) except -1
    cdef int _teardown(self) except -1
