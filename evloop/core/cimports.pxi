# C-level imports shared by every core file (one translation unit).

cimport cython
from cpython.ref cimport PyObject
from cpython.pyport cimport PY_SSIZE_T_MAX
from cpython.exc cimport PyErr_CheckSignals
from cpython.pythread cimport PyThread_get_thread_ident
from cpython.set cimport PySet_Add, PySet_Discard
from libc.limits cimport INT_MAX
from libc.stdint cimport int64_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, calloc, realloc, free as c_free
from libc.string cimport memcpy, memset

from evloop.includes.system cimport (
    timespec, clock_gettime, CLOCK_MONOTONIC, CLOCK_REALTIME, timeval,
    epoll_event, epoll_create1, epoll_ctl, epoll_wait, EPOLL_CLOEXEC,
    EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL, EPOLLIN, EPOLLOUT,
    EPOLLERR, EPOLLHUP, EPOLLRDHUP, EPOLLET,
    pollfd, poll as c_poll, nfds_t, POLLIN, POLLOUT, POLLERR, POLLHUP,
    POLLNVAL, POLLRDHUP,
    fd_set, FD_SETSIZE, FD_ZERO, FD_SET, FD_CLR, FD_ISSET, select as c_select,
    eventfd, EFD_CLOEXEC, EFD_NONBLOCK,
    fcntl, F_GETFD, F_GETFL, O_NONBLOCK,
    read, write, close,
    errno, EINTR, EAGAIN, EBADF, ENOENT, EEXIST, EPERM, EINVAL, ENOMEM,
)
