# The poll backend (libevent poll.c).
#
# The pollfd array is edited in place by apply() (an fd -> slot index map
# makes that O(1); removal moves the last slot into the hole).  dispatch()
# polls on a copy, because another thread may call event_add while this one
# waits with the GIL released (libevent copies for the same reason when
# threads are on).  POLLHUP/POLLERR/POLLNVAL count as READ|WRITE, POLLRDHUP
# as EV_CLOSED.  Difference from libevent: libevent starts scanning the
# results at a random slot; evloop scans in slot order.



cdef class PollBackend(Backend):
    cdef pollfd *fds          # the watched set
    cdef int nfds
    cdef int cap
    cdef pollfd *copy         # what poll() works on
    cdef int copy_cap
    cdef int *slot_of         # fd -> slot + 1 (0: not watched)
    cdef int slot_cap

    def __cinit__(self):
        self.name = "poll"
        self.features = C_FEAT_FDS | C_FEAT_EARLY_CLOSE
        self.need_reinit = False
        self.fds = NULL
        self.copy = NULL
        self.slot_of = NULL
        self.nfds = self.cap = self.copy_cap = self.slot_cap = 0

    def __dealloc__(self):
        c_free(self.fds)
        c_free(self.copy)
        c_free(self.slot_of)
        self.fds = self.copy = NULL
        self.slot_of = NULL

    cdef int init(self) except -1:
        return 0

    cdef int apply(self, int fd, int old, int new, bint deleting) except -1:
        cdef int slot, last, newcap, i
        cdef int64_t cap64
        cdef short pev = 0
        cdef void *p
        if fd >= self.slot_cap:
            if not (new & C_EV_IO):
                return 0
            # Only an open fd may grow the table (see evmap_io_add), and the
            # new size is computed without int overflow.
            check_fd_open(fd)
            cap64 = max(<int64_t>64, <int64_t>self.slot_cap * 2, <int64_t>fd + 1)
            if cap64 > INT_MAX:
                cap64 = <int64_t>fd + 1
            newcap = <int>cap64
            p = realloc(self.slot_of, <size_t>newcap * sizeof(int))
            if p is NULL:
                raise MemoryError()
            self.slot_of = <int *>p
            for i in range(self.slot_cap, newcap):
                self.slot_of[i] = 0
            self.slot_cap = newcap
        slot = self.slot_of[fd] - 1
        if not (new & C_EV_IO):
            if slot < 0:
                return 0
            last = self.nfds - 1
            if slot != last:
                self.fds[slot] = self.fds[last]
                self.slot_of[self.fds[slot].fd] = slot + 1
            self.nfds -= 1
            self.slot_of[fd] = 0
            return 0
        if slot < 0:
            check_fd_open(fd)
            if self.nfds == self.cap:
                newcap = max(32, self.cap * 2)
                p = realloc(self.fds, newcap * sizeof(pollfd))
                if p is NULL:
                    raise MemoryError()
                self.fds = <pollfd *>p
                self.cap = newcap
            slot = self.nfds
            self.nfds += 1
            self.slot_of[fd] = slot + 1
            self.fds[slot].fd = fd
            self.fds[slot].revents = 0
        if new & C_EV_READ:
            pev |= POLLIN
        if new & C_EV_WRITE:
            pev |= POLLOUT
        if new & C_EV_CLOSED:
            pev |= POLLRDHUP
        self.fds[slot].events = pev
        return 0

    cdef int dispatch(self, EventBase base, int64_t timeout_ns) except -1:
        cdef int n, i, ms, err, nfds
        cdef short what
        cdef int res
        cdef void *p
        nfds = self.nfds
        if nfds > self.copy_cap:
            p = realloc(self.copy, nfds * sizeof(pollfd))
            if p is NULL:
                raise MemoryError()
            self.copy = <pollfd *>p
            self.copy_cap = nfds
        if nfds:
            memcpy(self.copy, self.fds, nfds * sizeof(pollfd))
        ms = timeout_ms(timeout_ns)
        with nogil:
            n = c_poll(self.copy, <nfds_t>nfds, ms)
        if n == -1:
            err = errno
            if err == EINTR:
                PyErr_CheckSignals()
                return 0
            raise OSError(err, f"poll: {_os.strerror(err)}")
        if n > 0:
            for i in range(nfds):
                what = self.copy[i].revents
                if not what:
                    continue
                if what & (POLLHUP | POLLERR | POLLNVAL):
                    what |= POLLIN | POLLOUT
                res = 0
                if what & POLLIN:
                    res |= C_EV_READ
                if what & POLLOUT:
                    res |= C_EV_WRITE
                if what & POLLRDHUP:
                    res |= C_EV_CLOSED
                if res:
                    evmap_io_active(base, self.copy[i].fd, res)
        PyErr_CheckSignals()
        return n
