# Declarations of the compiled sock_* machinery (aio/sockops.pyx).

cdef class SockWatcher(FdWatcher):
    # The persistent EV_READ (in Loop.readers) or EV_WRITE (in Loop.writers)
    # event of the sock_* coroutines on one fd.  A read watcher stays
    # registered between operations ("lazy"); a write watcher is deleted as
    # soon as its operation ends.  fd_yield is set: it steps aside when
    # another event is added on its fd (evmap_io_claim).
    cdef Loop loop                   # the loop whose tables hold it
    cdef object owner                # weakref to the socket it was made for (or the socket)
    cdef bint weak                   # owner is a weakref
    cdef object fut                  # the waiting operation's Future, or None (idle)
    cdef object sock                 # that operation's socket (strong, only while waiting)
    cdef int op                      # OP_*: what to do when the fd is ready
    cdef bint cfast                  # do recv/send in C on the socket's fd
    cdef Py_ssize_t n                # OP_RECV: the size asked for (OP_RECV_INTO: the buffer's)
    cdef Py_ssize_t pos              # OP_SENDALL: bytes of arg sent so far
    cdef object arg                  # buffer / data (memoryview) / bufsize
    cdef object arg2                 # OP_SENDTO address, OP_RECVFROM_INTO nbytes

    cdef bint owned_by(self, object sock)
    cdef int wait(self, object fut, int op, object sock, bint cfast,
                  Py_ssize_t n, object arg, object arg2) except -1
    cdef int drop(self) except -1
    cdef int drop_stale(self) except -1
    cdef int live(self) except -1
    cdef int finish(self) except -1


# The bodies of Loop's sock_* coroutines (Loop's async def methods are thin
# wrappers in aio/loop.pyx): each returns the result at once, or a Future
# that a SockWatcher completes.
cdef object sock_recv_c(Loop loop, object sock, object n)
cdef object sock_recv_into_c(Loop loop, object sock, object buf)
cdef object sock_recvfrom_c(Loop loop, object sock, object bufsize)
cdef object sock_recvfrom_into_c(Loop loop, object sock, object buf, object nbytes)
cdef object sock_sendall_c(Loop loop, object sock, object data)
cdef object sock_sendto_c(Loop loop, object sock, object data, object address)
cdef object sock_accept_c(Loop loop, object sock)
cdef int sock_watchers_clear(Loop loop) except -1
