# Declarations of the asyncio stream transport (aio/transports.pyx).

cdef class StreamTransport(Bufferevent):
    cdef object loop                 # the EventLoop (a Python object)
    cdef object protocol             # the asyncio protocol
    cdef object proto_data_received  # bound protocol.data_received (cached)
    cdef object proto_get_buffer     # BufferedProtocol.get_buffer, or None
    cdef object proto_buffer_updated # BufferedProtocol.buffer_updated, or None
    cdef bint proto_buffered         # protocol is a BufferedProtocol
    cdef bint proto_stream           # protocol is the stdlib StreamReaderProtocol (fast feed)
    cdef bint protocol_connected     # connection_made was scheduled
    cdef bint protocol_paused        # pause_writing() was called
    cdef object sock                 # the socket object (closed at the end)
    cdef object server               # asyncio Server, or None
    cdef dict extra                  # get_extra_info values
    cdef bint closing                # close() / abort() / fatal error
    cdef bint eof                    # write_eof() was called
    cdef bint paused                 # pause_reading()
    cdef int conn_lost               # connection_lost scheduled (count of late writes)
    cdef Py_ssize_t high_water       # pause_writing above this
    cdef Py_ssize_t low_water        # resume_writing at or below this
    cdef object empty_waiter         # sendfile: future set when output drains
    cdef object read_ctx             # Context of the read callbacks (asyncio's reader handle's)
    cdef object write_ctx            # Context of the write callbacks (asyncio's writer handle's)
    cdef dict __dict__               # for the stdlib's ad-hoc attributes

    cdef int _set_protocol_c(self, object protocol) except -1
    cdef int _read_ready_c(self, int res) except -1
    cdef int _write_drained(self) except -1
    cdef int _read_ready_on_eof(self) except -1
    cdef int _stream_feed(self, Py_ssize_t n) except -1
    cdef Py_ssize_t _sent(self, Py_ssize_t n) except -2
    cdef int _maybe_pause_protocol(self) except -1
    cdef int _maybe_resume_protocol(self) except -1
    cdef int _fatal_error_c(self, object exc, str message) except -1
    cdef int _force_close_c(self, object exc) except -1
