# Extern declarations of the system headers the core uses: clocks, epoll,
# poll, select, eventfd, fcntl.  Only what evloop calls is declared.

from libc.stdint cimport int64_t, uint32_t, uint64_t


cdef extern from "<time.h>" nogil:
    ctypedef long time_t
    struct timespec:
        time_t tv_sec
        long tv_nsec
    int clock_gettime(int clk, timespec *ts)
    int CLOCK_MONOTONIC
    int CLOCK_REALTIME


cdef extern from "<sys/time.h>" nogil:
    struct timeval:
        long tv_sec
        long tv_usec


cdef extern from "<sys/epoll.h>" nogil:
    ctypedef union epoll_data_t:
        void *ptr
        int fd
        uint32_t u32
        uint64_t u64
    struct epoll_event:
        uint32_t events
        epoll_data_t data
    int epoll_create1(int flags)
    int epoll_ctl(int epfd, int op, int fd, epoll_event *ev)
    int epoll_wait(int epfd, epoll_event *events, int maxevents, int timeout)
    int EPOLL_CLOEXEC
    int EPOLL_CTL_ADD
    int EPOLL_CTL_MOD
    int EPOLL_CTL_DEL
    uint32_t EPOLLIN
    uint32_t EPOLLOUT
    uint32_t EPOLLERR
    uint32_t EPOLLHUP
    uint32_t EPOLLRDHUP
    uint32_t EPOLLET


cdef extern from "<poll.h>" nogil:
    struct pollfd:
        int fd
        short events
        short revents
    ctypedef unsigned long nfds_t
    int poll(pollfd *fds, nfds_t nfds, int timeout)
    short POLLIN
    short POLLOUT
    short POLLERR
    short POLLHUP
    short POLLNVAL
    short POLLRDHUP


cdef extern from "<sys/select.h>" nogil:
    ctypedef struct fd_set:
        pass
    int FD_SETSIZE
    void FD_ZERO(fd_set *s)
    void FD_SET(int fd, fd_set *s)
    void FD_CLR(int fd, fd_set *s)
    bint FD_ISSET(int fd, fd_set *s)
    int select(int nfds, fd_set *r, fd_set *w, fd_set *e, timeval *tv)


cdef extern from "<sys/eventfd.h>" nogil:
    int eventfd(unsigned int initval, int flags)
    int EFD_CLOEXEC
    int EFD_NONBLOCK


cdef extern from "<fcntl.h>" nogil:
    int fcntl(int fd, int cmd, ...)
    int F_GETFD
    int F_GETFL
    int O_NONBLOCK


cdef extern from "<unistd.h>" nogil:
    ssize_t read(int fd, void *buf, size_t count)
    ssize_t write(int fd, const void *buf, size_t count)
    int close(int fd)


cdef extern from "<errno.h>" nogil:
    int errno
    int EINTR
    int EAGAIN
    int EBADF
    int ENOENT
    int EEXIST
    int EPERM
    int EINVAL
    int ENOMEM


cdef extern from "<sys/uio.h>" nogil:
    struct iovec:
        void *iov_base
        size_t iov_len
    ssize_t readv(int fd, const iovec *iov, int iovcnt)
    ssize_t writev(int fd, const iovec *iov, int iovcnt)


cdef extern from "<sys/ioctl.h>" nogil:
    int ioctl(int fd, unsigned long request, ...)
    unsigned long FIONREAD


cdef extern from "<string.h>" nogil:
    # GNU extension; Python.h defines _GNU_SOURCE before <string.h>.
    void *memmem(const void *haystack, size_t haystacklen,
                 const void *needle, size_t needlelen)
