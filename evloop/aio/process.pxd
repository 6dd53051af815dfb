# Declarations of the asyncio subprocess transport (aio/process.pyx).

cdef class ProcessTransport


cdef class ChildExitWatcher(Event):
    # EV_READ on a pidfd (os.pidfd_open): readable once the child exited.
    cdef ProcessTransport transport  # whose child it watches (cleared when done)


cdef class ProcessTransport:
    cdef object loop                 # the EventLoop; None after connection_lost
    cdef object protocol             # the asyncio SubprocessProtocol
    cdef object proc                 # the subprocess.Popen; None after connection_lost
    cdef object pid                  # the child's pid (int), None before it started
    cdef object returncode           # its exit code once known, else None
    cdef list exit_waiters           # futures of _wait(); None after connection_lost
    cdef object pending_calls        # deque of (cb, args) until the pipes connected, then None
    cdef dict pipes                  # fd (0, 1, 2) -> pipe protocol (None until connected)
    cdef bint finished               # connection_lost was scheduled
    cdef bint closed                 # close() was called
    cdef dict extra                  # get_extra_info values
    cdef int pidfd                   # the child's pidfd, -1 if none (closed once reaped)
    cdef ChildExitWatcher watcher    # the pidfd's event, or None
    cdef object exit_ctx             # Context the exit is handled in (asyncio's reader handle)
    cdef dict __dict__               # for ad-hoc attributes

    cdef int _watch_exit(self) except -1
    cdef int _child_exited(self) except -1
    cdef int _stop_watching(self) except -1
