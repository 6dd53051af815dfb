# Declarations of the filter bufferevent (libevent bufferevent_filter.c):
# a Bufferevent whose input and output are connected to another
# bufferevent (the "underlying" one) through two user filter functions.
# Every field is commented; the implementation is
# core/bufferevent_filter.pyx.


cdef class BuffereventFilter(Bufferevent):
    cdef readonly Bufferevent underlying  # bufferevent_get_underlying; None once unlinked
    cdef object process_in       # input_filter(src, dst, dst_limit, mode), None = copy
    cdef object process_out      # output_filter(src, dst, dst_limit, mode), None = copy
    cdef EvbufferCbEntry inbuf_cb    # on our input: resume an input stuck at the high watermark
    cdef EvbufferCbEntry outbuf_cb   # on our output: filter what the user adds
    cdef bint got_eof            # libevent's got_eof (set by nothing in 2.1; kept for the modes)
    cdef bint in_read            # be_filter_read_nolock_ is running (no re-entry)

    cdef int _process_input(self, int state, bint *processed_out) except -1
    cdef int _process_output(self, int state, bint *processed_out) except -1
    cdef int _read_nolock(self) except -1
    cdef bint _readbuf_full(self, int state)
    cdef bint _underlying_writebuf_full(self, int state)
    cdef int _filter_error(self, int what) except -1
    cdef int _unlink(self) except -1
