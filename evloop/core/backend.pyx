# The backend table: libevent's struct eventop, as a cdef class with one
# subclass per method (backend_epoll.pyx, backend_poll.pyx,
# backend_select.pyx).
#
# | operation                        | libevent          | contract                                   |
# |----------------------------------|-------------------|--------------------------------------------|
# | init()                           | eventop.init      | acquire kernel objects; OSError on failure |
# | apply(fd, old, new, deleting)    | eventop.add/.del  | make the kernel watch ``new`` (EV_READ,    |
# |                                  |                   | EV_WRITE, EV_CLOSED, EV_ET bits) on fd,    |
# |                                  |                   | which it watched as ``old``; when          |
# |                                  |                   | ``deleting``, errors for fds that are      |
# |                                  |                   | already closed are ignored (libevent does) |
# | dispatch(base, timeout_ns)       | eventop.dispatch  | wait at most timeout_ns (-1: forever) with |
# |                                  |                   | the GIL released, then call                |
# |                                  |                   | evmap_io_active(base, fd, what) per fd     |
# | close()                          | eventop.dealloc   | release kernel objects (idempotent)        |
# | name, features, need_reinit      | same fields       | see BACKENDS below                         |
#
# Unlike libevent's add/del pair (which pass the old mask and the bits being
# added or removed), apply() receives both complete masks.  Keeping the ET
# bit in the mask fixes libevent#636 (ET dropped when one of several ET
# events on an fd is deleted).

import os as _os
import sys as _sys


cdef class Backend:
    """Base class of the backends; not usable by itself."""

    cdef int init(self) except -1:
        raise NotImplementedError

    cdef int apply(self, int fd, int old, int new, bint deleting) except -1:
        raise NotImplementedError

    cdef int dispatch(self, EventBase base, int64_t timeout_ns) except -1:
        raise NotImplementedError

    cdef int close(self) except -1:
        return 0


cdef inline int timeout_ms(int64_t timeout_ns) noexcept nogil:
    """Round a timeout up to whole milliseconds (never wake early), capped
    like libevent's MAX_EPOLL_TIMEOUT_MSEC (35 minutes)."""
    if timeout_ns < 0:
        return -1
    if timeout_ns > <int64_t>35 * 60 * 1000 * 1000000:
        return 35 * 60 * 1000
    return <int>((timeout_ns + 999999) // 1000000)


cdef int check_fd_open(int fd) except -1:
    """poll() and select() accept closed fds at registration and report them
    later; check at add time so every backend raises EBADF the same way."""
    if fcntl(fd, F_GETFD) == -1:
        raise OSError(errno, f"fd {fd}: {_os.strerror(errno)}")
    return 0


# name -> (class, features); the order is libevent's preference order.
BACKEND_ORDER = ("epoll", "poll", "select")


cdef Backend new_backend(str name):
    if name == "epoll":
        return EpollBackend()
    if name == "poll":
        return PollBackend()
    if name == "select":
        return SelectBackend()
    raise ValueError(f"unknown method {name!r}")


def supported_methods():
    """event_get_supported_methods(): the backends usable here, fastest
    first."""
    if _sys.platform.startswith("linux"):
        return list(BACKEND_ORDER)
    return ["poll", "select"]


cdef Backend choose_backend(EventConfig cfg):
    """Pick the first backend of the preference order that the config and
    the environment (EVENT_NO<METHOD>) allow, as event_base_new_with_config
    does."""
    cdef Backend b
    cdef int need = cfg.features if cfg is not None else 0
    cdef bint ignore_env = cfg is not None and (cfg.flags & C_FLAG_IGNORE_ENV)
    for name in supported_methods():
        if cfg is not None and name in cfg.avoided:
            continue
        if not ignore_env and ("EVENT_NO" + name.upper()) in _os.environ:
            continue
        b = new_backend(name)
        if (b.features & need) != need:
            continue
        b.init()
        if not ignore_env and "EVENT_SHOW_METHOD" in _os.environ:
            _sys.stderr.write(f"[msg] libevent using: {name}\n")
        return b
    raise OSError(
        38, "no event mechanism available: every backend was avoided, disabled "
        "by EVENT_NO* environment variables, or lacks the required features")
