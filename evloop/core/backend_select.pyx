# The select backend (libevent select.c).
#
# select() can only watch fds below FD_SETSIZE (1024); apply() refuses
# larger ones with ValueError instead of corrupting the fd_set.  The sets
# are copied before each wait (select overwrites its arguments).  No
# EV_CLOSED: select has no hang-up bit, as in libevent.  Difference from
# libevent: results are scanned from fd 0 instead of a random fd.



cdef class SelectBackend(Backend):
    cdef fd_set readset
    cdef fd_set writeset
    cdef int maxfd            # highest fd watched, -1 if none
    cdef int nwatched

    def __cinit__(self):
        self.name = "select"
        self.features = C_FEAT_FDS
        self.need_reinit = False
        FD_ZERO(&self.readset)
        FD_ZERO(&self.writeset)
        self.maxfd = -1
        self.nwatched = 0

    cdef int init(self) except -1:
        return 0

    cdef int apply(self, int fd, int old, int new, bint deleting) except -1:
        if fd >= FD_SETSIZE:
            if deleting:
                return 0
            raise ValueError(
                f"fd {fd} is too large for the select backend (FD_SETSIZE={FD_SETSIZE})")
        if not (old & (C_EV_READ | C_EV_WRITE)) and (new & (C_EV_READ | C_EV_WRITE)):
            check_fd_open(fd)
        if new & C_EV_READ:
            FD_SET(fd, &self.readset)
        else:
            FD_CLR(fd, &self.readset)
        if new & C_EV_WRITE:
            FD_SET(fd, &self.writeset)
        else:
            FD_CLR(fd, &self.writeset)
        if new & (C_EV_READ | C_EV_WRITE):
            if fd > self.maxfd:
                self.maxfd = fd
        elif fd == self.maxfd:
            while self.maxfd >= 0 and not (FD_ISSET(self.maxfd, &self.readset) or
                                           FD_ISSET(self.maxfd, &self.writeset)):
                self.maxfd -= 1
        return 0

    cdef int dispatch(self, EventBase base, int64_t timeout_ns) except -1:
        cdef fd_set r, w
        cdef timeval tv
        cdef timeval *tvp = NULL
        cdef int n, fd, err, res, nfds
        r = self.readset
        w = self.writeset
        nfds = self.maxfd + 1
        if timeout_ns >= 0:
            tv.tv_sec = timeout_ns // NS_PER_SEC
            tv.tv_usec = (timeout_ns % NS_PER_SEC + 999) // 1000
            if tv.tv_usec >= 1000000:
                tv.tv_sec += 1
                tv.tv_usec -= 1000000
            tvp = &tv
        with nogil:
            n = c_select(nfds, &r, &w, NULL, tvp)
        if n == -1:
            err = errno
            if err == EINTR:
                PyErr_CheckSignals()
                return 0
            raise OSError(err, f"select: {_os.strerror(err)}")
        if n > 0:
            for fd in range(nfds):
                res = 0
                if FD_ISSET(fd, &r):
                    res |= C_EV_READ
                if FD_ISSET(fd, &w):
                    res |= C_EV_WRITE
                if res:
                    evmap_io_active(base, fd, res)
        PyErr_CheckSignals()
        return n
