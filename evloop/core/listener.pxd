# Declarations of the connection listener (libevent listener.c:
# evconnlistener).  The implementation is core/listener.pyx.

cdef class Listener


cdef class ListenerEvent(Event):
    # The listener's persistent EV_READ event on its socket.
    cdef Listener listener


cdef class Listener:
    cdef readonly EventBase base     # evconnlistener_get_base
    cdef object cb                   # cb(listener, fd, address, arg), or None
    cdef object errorcb              # errorcb(listener, arg), or None
    cdef object cbarg                # the arg of both
    cdef int flags                   # LEV_OPT_*
    cdef int fd                      # the listening socket
    cdef object sock                 # a socket object over fd (for accept)
    cdef bint enabled                # evconnlistener_enable/disable
    cdef bint freed                  # evconnlistener_free was called
    cdef readonly int last_error     # errno of the last accept failure
    cdef ListenerEvent ev            # EV_READ|EV_PERSIST on fd
    cdef Event backoff_ev            # re-enables after an EMFILE back-off
    cdef double backoff              # current back-off, seconds

    cdef int _accept_ready(self) except -1
    cdef int _check(self, str what) except -1
