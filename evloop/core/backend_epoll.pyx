# The epoll backend (libevent epoll.c).
#
# Facts: epoll registrations belong to the open file description, not the
# fd; closing the last fd of a description removes it silently, so a DEL on
# an already-closed fd fails with EBADF/ENOENT and is ignored, as libevent
# does.  A dup()'d fd may already be registered (EEXIST on ADD: retry as
# MOD) or a MOD may hit an fd the kernel dropped (ENOENT: retry as ADD).
# EPOLLERR, and EPOLLHUP without EPOLLRDHUP, are reported as
# EV_READ|EV_WRITE so that whoever watches the fd sees the error on its
# next read or write; otherwise EPOLLRDHUP is EV_CLOSED (so a peer that
# closed with data unread still fires EV_CLOSED, as in libevent 2.1.12).  Every dispatch ORs EV_ET into the fired mask,
# so an EV_ET event sees EV_ET in its callback's ``what``.


cdef int EPOLL_INITIAL_NEVENT = 32
cdef int EPOLL_MAX_NEVENT = 4096


cdef class EpollBackend(Backend):
    cdef int epfd
    cdef epoll_event *evs
    cdef int nevs

    def __cinit__(self):
        self.name = "epoll"
        self.features = C_FEAT_ET | C_FEAT_O1 | C_FEAT_EARLY_CLOSE
        self.need_reinit = True
        self.epfd = -1
        self.evs = NULL
        self.nevs = 0

    def __dealloc__(self):
        if self.epfd >= 0:
            close(self.epfd)
            self.epfd = -1
        if self.evs is not NULL:
            c_free(self.evs)
            self.evs = NULL

    cdef int init(self) except -1:
        self.epfd = epoll_create1(EPOLL_CLOEXEC)
        if self.epfd == -1:
            raise OSError(errno, f"epoll_create1: {_os.strerror(errno)}")
        self.evs = <epoll_event *>malloc(EPOLL_INITIAL_NEVENT * sizeof(epoll_event))
        if self.evs is NULL:
            raise MemoryError()
        self.nevs = EPOLL_INITIAL_NEVENT
        return 0

    cdef int close(self) except -1:
        if self.epfd >= 0:
            close(self.epfd)
            self.epfd = -1
        return 0

    cdef int apply(self, int fd, int old, int new, bint deleting) except -1:
        cdef epoll_event epev
        cdef int op, err
        epev.events = 0
        epev.data.fd = fd
        if new & C_EV_READ:
            epev.events |= EPOLLIN
        if new & C_EV_WRITE:
            epev.events |= EPOLLOUT
        if new & C_EV_CLOSED:
            epev.events |= EPOLLRDHUP
        if new & C_EV_ET:
            epev.events |= EPOLLET
        if not (new & C_EV_IO):
            op = EPOLL_CTL_DEL
        elif old & C_EV_IO:
            op = EPOLL_CTL_MOD
        else:
            op = EPOLL_CTL_ADD
        if epoll_ctl(self.epfd, op, fd, &epev) == 0:
            return 0
        err = errno
        if op == EPOLL_CTL_MOD and err == ENOENT:
            if epoll_ctl(self.epfd, EPOLL_CTL_ADD, fd, &epev) == 0:
                return 0
            err = errno
        elif op == EPOLL_CTL_ADD and err == EEXIST:
            if epoll_ctl(self.epfd, EPOLL_CTL_MOD, fd, &epev) == 0:
                return 0
            err = errno
        if deleting and (err == EBADF or err == ENOENT or err == EPERM):
            return 0
        raise OSError(err, f"epoll_ctl on fd {fd}: {_os.strerror(err)}")

    cdef int dispatch(self, EventBase base, int64_t timeout_ns) except -1:
        cdef int n, i, ms, err
        cdef uint32_t what
        cdef int ev
        cdef epoll_event *newevs
        ms = timeout_ms(timeout_ns)
        with nogil:
            n = epoll_wait(self.epfd, self.evs, self.nevs, ms)
        if n == -1:
            err = errno
            if err == EINTR:
                PyErr_CheckSignals()
                return 0
            raise OSError(err, f"epoll_wait: {_os.strerror(err)}")
        for i in range(n):
            what = self.evs[i].events
            ev = 0
            if what & EPOLLERR:
                ev = C_EV_READ | C_EV_WRITE
            elif (what & EPOLLHUP) and not (what & EPOLLRDHUP):
                ev = C_EV_READ | C_EV_WRITE
            else:
                if what & EPOLLIN:
                    ev |= C_EV_READ
                if what & EPOLLOUT:
                    ev |= C_EV_WRITE
                if what & EPOLLRDHUP:
                    ev |= C_EV_CLOSED
            if ev:
                evmap_io_active(base, self.evs[i].data.fd, ev | C_EV_ET)
        if n == self.nevs and self.nevs < EPOLL_MAX_NEVENT:
            # Full: next time ask for more at once (libevent doubles too).
            newevs = <epoll_event *>realloc(self.evs, 2 * self.nevs * sizeof(epoll_event))
            if newevs is not NULL:
                self.evs = newevs
                self.nevs *= 2
        PyErr_CheckSignals()
        return n
