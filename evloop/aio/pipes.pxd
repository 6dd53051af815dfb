# Declarations of the asyncio pipe transports (aio/pipes.pyx).

cdef class ReadPipeTransport(Bufferevent):
    cdef object loop                 # the EventLoop; None after connection_lost
    cdef object protocol             # the asyncio protocol
    cdef object proto_data_received  # bound protocol.data_received (cached)
    cdef object pipe                 # the pipe object (closed at the end), asyncio's _pipe
    cdef int fileno                  # its fd (asyncio's _fileno; kept after teardown)
    cdef dict extra                  # get_extra_info values
    cdef bint closing                # close() / EOF / fatal error
    cdef bint paused                 # pause_reading()
    cdef object read_ctx             # contextvars.Context the read callbacks run in
    cdef dict __dict__               # for ad-hoc attributes

    cdef int _read_ready_c(self) except -1
    cdef int _close_c(self, object exc) except -1
    cdef int _fatal_error_c(self, object exc, str message) except -1


cdef class WritePipeTransport(Bufferevent):
    cdef object loop                 # the EventLoop; None after connection_lost
    cdef object protocol             # the asyncio protocol
    cdef object pipe                 # the pipe object (closed at the end)
    cdef int fileno                  # its fd (kept after teardown)
    cdef dict extra                  # get_extra_info values
    cdef bint closing                # close() / write_eof() / abort() / fatal error
    cdef bint watch_reader           # EV_READ on the fd tells the reader closed (fifo/socket)
    cdef int conn_lost               # writes after a write error (asyncio's _conn_lost)
    cdef bint protocol_paused        # pause_writing() was called
    cdef Py_ssize_t high_water       # pause_writing above this
    cdef Py_ssize_t low_water        # resume_writing at or below this (once drained)
    cdef object write_ctx            # Context of the drain callbacks (asyncio's writer handle)
    cdef object reader_ctx           # Context of the reader-closed callback (its reader handle)
    cdef dict __dict__               # for ad-hoc attributes

    cdef int _reader_closed(self) except -1
    cdef int _write_drained(self) except -1
    cdef int _write_failed(self, int err) except -1

    cdef int _maybe_pause_protocol(self) except -1
    cdef int _maybe_resume_protocol(self) except -1
    cdef int _close_c(self, object exc) except -1
    cdef int _fatal_error_c(self, object exc, str message) except -1
