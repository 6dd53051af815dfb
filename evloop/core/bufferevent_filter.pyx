# Filter bufferevents: libevent's bufferevent_filter.c.
#
# A filter bufferevent sits on top of another bufferevent, the
# "underlying" one (a socket, a pair end, or another filter), and transforms
# the bytes in both directions with two user functions:
#
#   underlying.input --input_filter--> filter.input   (what the user reads)
#   filter.output --output_filter--> underlying.output (what the user writes)
#
# A filter is called as ``fn(src, dst, dst_limit, mode)`` and returns
# BEV_OK (it moved something; call again while src has data), BEV_NEED_MORE
# (it needs more input before it can produce output) or BEV_ERROR.
# ``dst_limit`` is how many bytes dst may still take, or -1 for no limit;
# ``mode`` is BEV_NORMAL, or BEV_FLUSH / BEV_FINISHED from flush().
#
# Rules copied from libevent 2.1:
# * the filter takes over the underlying bufferevent's three callbacks
#   (bufferevent_setcb on it): its readcb runs the input filter, its writecb
#   runs the output filter, its eventcb is passed on to our eventcb as is;
# * the underlying is enabled for EV_READ|EV_WRITE at once, and its reading
#   is *suspended* (BEV_SUSPEND_FILT_READ) while our EV_READ is disabled;
# * in BEV_NORMAL mode the input filter runs only while our EV_READ is
#   enabled and our input is under its read high watermark, and gets the
#   room left under that watermark as dst_limit; the output filter runs
#   only while EV_WRITE is enabled and the *underlying's* output is under
#   the underlying's write high watermark (bufferevent_setwatermark(
#   underlying, EV_WRITE, ...)), and gets the room left under it;
# * BEV_FLUSH and BEV_FINISHED (flush()) run the filters whatever the
#   watermarks say, then flush the underlying with the same mode (so
#   BEV_FINISHED on a pair end tells the partner EOF);
# * our read/write timeouts are the generic timers pairs use;
# * when data is left in the underlying input because our input reached
#   its high watermark, draining our input resumes the input filter
#   (bufferevent_filtered_inbuf_cb, the "filter data stuck" fix of 2.1.9);
# * BEV_OPT_CLOSE_ON_FREE frees the underlying bufferevent with us;
#   without it the underlying gets its callbacks cleared and its reading
#   unsuspended.
#
# Differences from libevent: a filter returning BEV_ERROR disables that
# direction and runs eventcb(BEV_EVENT_READING|ERROR or WRITING|ERROR)
# (libevent 2.1 ignores the result, "XXXX use return value"); a filter that
# returns BEV_OK without moving a byte ends the round instead of being
# called forever; a filter must return one of the three values (TypeError
# otherwise) and an exception it raises propagates like any callback's.

cdef enum:
    C_BEV_OK = 0
    C_BEV_NEED_MORE = 1
    C_BEV_ERROR = 2

BEV_OK = C_BEV_OK
BEV_NEED_MORE = C_BEV_NEED_MORE
BEV_ERROR = C_BEV_ERROR


cdef int call_filter(object fn, Evbuffer src, Evbuffer dst, Py_ssize_t limit,
                     int mode) except -1:
    """Run one filter; None is libevent's be_null_filter (move up to limit)."""
    if fn is None:
        if limit < 0:
            dst._add_buffer(src)
        else:
            src._remove_buffer(dst, limit)
        return C_BEV_OK
    res = fn(src, dst, limit, mode)
    if type(res) is not int or not (C_BEV_OK <= <long>res <= C_BEV_ERROR):
        raise TypeError(f"a bufferevent filter must return BEV_OK, BEV_NEED_MORE or "
                        f"BEV_ERROR, not {res!r}")
    return res


def _bev_filter_readcb(Bufferevent underlying, BuffereventFilter bevf):
    """be_filter_readcb: the underlying read something."""
    if not bevf.freed:
        bevf._read_nolock()


def _bev_filter_writecb(Bufferevent underlying, BuffereventFilter bevf):
    """be_filter_writecb: the underlying drained enough to take more."""
    cdef bint processed = False
    cdef int res
    if not bevf.freed:
        res = bevf._process_output(C_BEV_NORMAL, &processed)
        if res == C_BEV_ERROR:
            bevf._filter_error(C_BEV_EVENT_WRITING)


def _bev_filter_eventcb(Bufferevent underlying, int what, BuffereventFilter bevf):
    """be_filter_eventcb: all we can really do is tell our own eventcb."""
    if not bevf.freed:
        bevf._run_eventcb(what, 0)


cdef int bev_filter_outbuf_cb(Evbuffer buf, Py_ssize_t orig_size, Py_ssize_t n_added,
                              Py_ssize_t n_deleted, object arg) except -1:
    """bufferevent_filtered_outbuf_cb: the user added output: filter it."""
    cdef BuffereventFilter bevf = <BuffereventFilter>arg
    cdef bint processed = False
    cdef int res
    if n_added and not bevf.freed:
        res = bevf._process_output(C_BEV_NORMAL, &processed)
        if res == C_BEV_ERROR:
            bevf._filter_error(C_BEV_EVENT_WRITING)
    return 0


cdef int bev_filter_inbuf_cb(Evbuffer buf, Py_ssize_t orig_size, Py_ssize_t n_added,
                             Py_ssize_t n_deleted, object arg) except -1:
    """bufferevent_filtered_inbuf_cb: enabled only while data waits in the
    underlying input because our input was full; once the user drained
    it under the watermark, filter the rest."""
    cdef BuffereventFilter bevf = <BuffereventFilter>arg
    cdef int state
    if bevf.freed or bevf.underlying is None:
        return 0
    state = C_BEV_FINISHED if bevf.got_eof else C_BEV_NORMAL
    if not bevf._readbuf_full(state):
        # (libevent clears the flag on the underlying's input by mistake.)
        bevf.inbuf_cb.flags &= ~C_EVBUFFER_CB_ENABLED
        if bevf.underlying.input.total_len > 0:
            bevf._read_nolock()
    return 0


cdef BuffereventFilter bufferevent_filter_new(Bufferevent underlying, object input_filter,
                                              object output_filter, object options):
    """bufferevent_filter_new (Bufferevent.filter)."""
    cdef BuffereventFilter bevf
    cdef EventBase base
    check_bev_opts(options)
    for name, fn in (("input_filter", input_filter), ("output_filter", output_filter)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be callable or None, not {type(fn).__name__}")
    underlying._check("filter the bufferevent")
    base = underlying.base
    bevf = BuffereventFilter.__new__(BuffereventFilter)
    # libevent drops THREADSAFE here and enables locking itself; the GIL
    # is our lock.
    bev_init_common(bevf, base, options)
    bevf.kind = BEV_KIND_FILTER
    bevf.ev_read = new_bev_event(bevf, -1, 0, BEV_WHICH_READ, False)
    bevf.ev_write = new_bev_event(bevf, -1, 0, BEV_WHICH_WRITE, False)
    bevf.underlying = underlying
    bevf.process_in = input_filter
    bevf.process_out = output_filter
    underlying.setcb(_bev_filter_readcb, _bev_filter_writecb, _bev_filter_eventcb, bevf)
    bevf.inbuf_cb = bevf.input._add_c_cb(bev_filter_inbuf_cb, bevf, 0)
    bevf.outbuf_cb = bevf.output._add_c_cb(bev_filter_outbuf_cb, bevf, C_EVBUFFER_CB_ENABLED)
    underlying.enable(C_EV_READ | C_EV_WRITE)
    underlying._suspend_read(BEV_SUSPEND_FILT_READ)
    return bevf


cdef class BuffereventFilter(Bufferevent):
    """A filter bufferevent: made by ``Bufferevent.filter(underlying,
    input_filter, output_filter, options=0)`` (bufferevent_filter_new); see
    the module comment of core/bufferevent_filter.pyx."""

    cdef bint _readbuf_full(self, int state):
        return (state == C_BEV_NORMAL and self.wm_read_high != 0 and
                self.input.total_len >= self.wm_read_high)

    cdef bint _underlying_writebuf_full(self, int state):
        cdef Bufferevent u = self.underlying
        return (state == C_BEV_NORMAL and u.wm_write_high != 0 and
                u.output.total_len >= u.wm_write_high)

    cdef int _process_input(self, int state, bint *processed_out) except -1:
        """be_filter_process_input: underlying.input -> our input."""
        cdef int res = C_BEV_OK
        cdef Py_ssize_t limit, src_before, dst_before
        cdef Bufferevent u = self.underlying
        if u is None:
            return C_BEV_OK
        if state == C_BEV_NORMAL:
            # In normal mode, don't urge data on the filter unless we're
            # reading and under our high watermark.
            if not (self.enabled & C_EV_READ) or self._readbuf_full(state):
                return C_BEV_OK
        while True:
            limit = -1
            if state == C_BEV_NORMAL and self.wm_read_high:
                limit = self.wm_read_high - self.input.total_len
            src_before = u.input.total_len
            dst_before = self.input.total_len
            res = call_filter(self.process_in, u.input, self.input, limit, state)
            if self.freed or self.underlying is None:
                return res
            if res == C_BEV_OK:
                processed_out[0] = True
            if not (res == C_BEV_OK and (self.enabled & C_EV_READ) and
                    u.input.total_len and not self._readbuf_full(state)):
                break
            if u.input.total_len == src_before and self.input.total_len == dst_before:
                break       # no progress: do not spin (evloop)
        if processed_out[0] and self.tmo_read_ns and (self.enabled & C_EV_READ):
            event_add_nolock(self.base, self.ev_read, self.tmo_read_ns, True, False)
        return res

    cdef int _process_output(self, int state, bint *processed_out) except -1:
        """be_filter_process_output: our output -> underlying.output, then
        our writecb."""
        cdef int res = C_BEV_OK
        cdef bint again, processed
        cdef Py_ssize_t limit, src_before, dst_before
        cdef Bufferevent u = self.underlying
        if u is None:
            return C_BEV_OK
        if state == C_BEV_NORMAL:
            if (not (self.enabled & C_EV_WRITE) or self._underlying_writebuf_full(state) or
                    not self.output.total_len):
                return C_BEV_OK
        # Our outbuf_cb would call us again while the filter drains output.
        self.outbuf_cb.flags &= ~C_EVBUFFER_CB_ENABLED
        try:
            again = True
            while again:
                processed = False
                again = False
                while True:
                    limit = -1
                    if state == C_BEV_NORMAL and u.wm_write_high:
                        limit = u.wm_write_high - u.output.total_len
                    src_before = self.output.total_len
                    dst_before = u.output.total_len
                    res = call_filter(self.process_out, self.output, u.output, limit, state)
                    if self.freed or self.underlying is None:
                        return res
                    if res == C_BEV_OK:
                        processed = True
                        processed_out[0] = True
                    if not (res == C_BEV_OK and (self.enabled & C_EV_WRITE) and
                            self.output.total_len and not self._underlying_writebuf_full(state)):
                        break
                    if self.output.total_len == src_before and u.output.total_len == dst_before:
                        break
                if processed:
                    # call the write callback
                    self._trigger(C_EV_WRITE, 0)
                    if self.freed or self.underlying is None:
                        return res
                    if (res == C_BEV_OK and (self.enabled & C_EV_WRITE) and
                            self.output.total_len and
                            self.output.total_len != src_before and
                            not self._underlying_writebuf_full(state)):
                        again = True
        finally:
            if not self.freed:
                self.outbuf_cb.flags |= C_EVBUFFER_CB_ENABLED
        if processed_out[0] and self.tmo_write_ns and (self.enabled & C_EV_WRITE):
            event_add_nolock(self.base, self.ev_write, self.tmo_write_ns, True, False)
        return res

    cdef int _read_nolock(self) except -1:
        """be_filter_read_nolock_: run the input filter, then readcb."""
        cdef int state, res
        cdef bint processed = False
        if self.in_read or self.underlying is None:
            return 0
        state = C_BEV_FINISHED if self.got_eof else C_BEV_NORMAL
        self.in_read = True
        try:
            res = self._process_input(state, &processed)
        finally:
            self.in_read = False
        if self.freed:
            return 0
        if res == C_BEV_ERROR:
            return self._filter_error(C_BEV_EVENT_READING)
        if processed:
            self._trigger(C_EV_READ, 0)
            if (not self.freed and self.underlying is not None and
                    self.underlying.input.total_len > 0 and self._readbuf_full(state)):
                # Data left in the underlying input and our input hit its
                # high watermark: resume when the user drains it.
                self.inbuf_cb.flags |= C_EVBUFFER_CB_ENABLED
        return 0

    cdef int _filter_error(self, int what) except -1:
        """A filter returned BEV_ERROR (evloop): the direction goes off,
        then eventcb(direction|ERROR)."""
        cdef int ev = C_EV_READ if what & C_BEV_EVENT_READING else C_EV_WRITE
        self.enabled &= ~ev
        self._disable_impl(ev)
        return self._run_eventcb(what | C_BEV_EVENT_ERROR, 0)

    # -- be_filter_enable / be_filter_disable -------------------------------

    cdef int _enable_impl(self, int what) except -1:
        if (what & C_EV_WRITE) and self.tmo_write_ns:
            event_add_nolock(self.base, self.ev_write, self.tmo_write_ns, True, False)
        if what & C_EV_READ:
            if self.tmo_read_ns:
                event_add_nolock(self.base, self.ev_read, self.tmo_read_ns, True, False)
            if self.underlying is not None and not self.underlying.freed:
                self.underlying._unsuspend_read(BEV_SUSPEND_FILT_READ)
        return 0

    cdef int _disable_impl(self, int what) except -1:
        if what & C_EV_WRITE:
            event_del_nolock(self.base, self.ev_write, False)
        if what & C_EV_READ:
            event_del_nolock(self.base, self.ev_read, False)
            if self.underlying is not None and not self.underlying.freed:
                self.underlying._suspend_read(BEV_SUSPEND_FILT_READ)
        return 0

    cdef int _unlink(self) except -1:
        """be_filter_unlink: free the underlying with CLOSE_ON_FREE, else
        give it back (callbacks cleared, reading unsuspended)."""
        cdef Bufferevent u = self.underlying
        self.underlying = None
        self.process_in = self.process_out = None
        if u is None or u.freed:
            return 0
        if self.options & C_BEV_OPT_CLOSE_ON_FREE:
            u.free()
            return 0
        if u.eventcb is _bev_filter_eventcb:
            u.readcb = u.writecb = u.eventcb = u.cbarg = None
        if not u.base.freed:
            u._unsuspend_read(BEV_SUSPEND_FILT_READ)
        else:
            u.read_suspended &= ~BEV_SUSPEND_FILT_READ
        return 0

    cdef int _teardown(self) except -1:
        Bufferevent._teardown(self)
        return self._unlink()

    def flush(self, iotype, mode):
        """bufferevent_flush for a filter (be_filter_flush): run the input
        and/or output filter in ``mode`` (BEV_FLUSH/BEV_FINISHED ignore the
        watermarks), then flush the underlying with the same mode.  Returns
        1 if a filter produced something, else 0."""
        cdef bint processed = False
        cdef int res, imode
        self._check("flush")
        check_iotype(iotype, "iotype")
        if mode not in (C_BEV_NORMAL, C_BEV_FLUSH, C_BEV_FINISHED):
            raise ValueError(f"mode must be BEV_NORMAL, BEV_FLUSH or BEV_FINISHED, got {mode!r}")
        imode = mode
        if iotype & C_EV_READ:
            res = self._process_input(imode, &processed)
            # (no readcb here, as in libevent: the caller reads after flush)
            if res == C_BEV_ERROR and not self.freed:
                self._filter_error(C_BEV_EVENT_READING)
        if (iotype & C_EV_WRITE) and not self.freed:
            res = self._process_output(imode, &processed)
            if res == C_BEV_ERROR and not self.freed:
                self._filter_error(C_BEV_EVENT_WRITING)
        if not self.freed and self.underlying is not None and not self.underlying.freed:
            self.underlying.flush(iotype, mode)
        return 1 if processed else 0

    def get_underlying(self):
        """bufferevent_get_underlying: the bufferevent under this filter."""
        return self.underlying

    def getfd(self):
        """bufferevent_getfd (BEV_CTRL_GET_FD): the underlying's fd."""
        if self.underlying is None:
            return -1
        return self.underlying.getfd()

    def __repr__(self):
        state = " freed" if self.freed else ""
        return (f"<evloop.Bufferevent filter over {self.underlying!r} "
                f"enabled={self.enabled:#x}{state}>")
