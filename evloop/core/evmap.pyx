# evmap: which events watch each fd and each signal (libevent evmap.c).
#
# io_map is a C array indexed by fd; each entry is a list of the events on
# that fd, newest first (libevent head-inserts, so the most recently added
# event is activated first), plus per-direction counts from which the mask
# the backend must watch is computed.  sig_map is the same per signal.
# Links are borrowed pointers: an inserted event is in EventBase.pinned.

cdef inline int entry_mask(EvmapEntry *ent) noexcept:
    cdef int m = 0
    if ent.nread:
        m |= C_EV_READ
    if ent.nwrite:
        m |= C_EV_WRITE
    if ent.nclose:
        m |= C_EV_CLOSED
    return m


cdef int io_map_grow(EventBase base, int fd) except -1:
    """Make io_map hold ``fd``: the next power of two above it, as
    libevent's evmap_make_space.  Computed in 64 bits: an int doubling
    overflows for fd >= 2**30 and never ends (libevent refuses such an fd
    instead).  The caller checked that fd is open, which is what bounds the
    growth: the kernel's own table for this process already has an entry
    that high."""
    cdef int64_t newsize = base.io_map_size if base.io_map_size else 32
    cdef void *p
    while newsize <= fd:
        newsize *= 2
    if newsize > INT_MAX:
        newsize = <int64_t>fd + 1
    p = realloc(base.io_map, <size_t>newsize * sizeof(EvmapEntry))
    if p is NULL:
        raise MemoryError()
    base.io_map = <EvmapEntry *>p
    memset(&base.io_map[base.io_map_size], 0,
           <size_t>(newsize - base.io_map_size) * sizeof(EvmapEntry))
    base.io_map_size = <int>newsize
    return 0


cdef inline void list_insert_head(EvmapEntry *ent, Event ev) noexcept:
    ev.io_prev = NULL
    ev.io_next = ent.head
    if ent.head is not NULL:
        (<Event>ent.head).io_prev = <PyObject *>ev
    ent.head = <PyObject *>ev


cdef inline void list_remove(EvmapEntry *ent, Event ev) noexcept:
    if ev.io_prev is not NULL:
        (<Event>ev.io_prev).io_next = ev.io_next
    else:
        ent.head = ev.io_next
    if ev.io_next is not NULL:
        (<Event>ev.io_next).io_prev = ev.io_prev
    ev.io_next = ev.io_prev = NULL


cdef int evmap_io_add(EventBase base, Event ev) except -1:
    """Register ev on its fd; tell the backend when the watched mask grows.
    Raises (and changes nothing) if the backend refuses."""
    cdef EvmapEntry *ent
    cdef int fd = ev.fd
    cdef int old, new, et
    if fd >= base.io_map_size:
        # An fd beyond the table must be open before the table grows for
        # it: a never-opened fd of 5,000,000 cost 192 MB of table (20,000,000:
        # 768 MB) before the backend said EBADF.  fcntl() is exact where
        # RLIMIT_NOFILE is not: the hard limit can be 2**30 in a container,
        # and an fd opened before the limit was lowered stays valid.
        check_fd_open(fd)
        io_map_grow(base, fd)
    if base.io_map[fd].nyield:
        evmap_io_claim(base, fd, ev)
    ent = &base.io_map[fd]
    old = entry_mask(ent)
    if debug_mode and ent.head is not NULL and \
            ((<Event>ent.head).events & C_EV_ET) != (ev.events & C_EV_ET):
        # libevent's debug mode refuses this too (evmap_io_add_).
        raise ValueError(
            f"fd {fd}: cannot mix edge-triggered (EV_ET) and level-triggered "
            f"events on one fd (debug mode)")
    # As libevent: when the watched mask grows, the event being added
    # decides whether the fd is edge-triggered.
    et = ev.events & C_EV_ET
    new = old | (ev.events & C_EV_IO)
    if (ent.nread == 0xffff and ev.events & C_EV_READ) or \
       (ent.nwrite == 0xffff and ev.events & C_EV_WRITE) or \
       (ent.nclose == 0xffff and ev.events & C_EV_CLOSED):
        raise RuntimeError(f"fd {fd}: too many events on one fd (max 65535)")
    if new != old or ent.head is NULL:
        base.backend.apply(fd, old | (ent.et if old else 0), new | et, False)
        ent.et = et
    if ev.events & C_EV_READ:
        ent.nread += 1
    if ev.events & C_EV_WRITE:
        ent.nwrite += 1
    if ev.events & C_EV_CLOSED:
        ent.nclose += 1
    if ev.fd_yield:
        ent.nyield += 1
    list_insert_head(ent, ev)
    return 0


cdef int evmap_io_claim(EventBase base, int fd, Event newcomer) except -1:
    """evloop extension (no libevent counterpart): before ``newcomer`` is
    registered on fd, tell every fd_yield event of fd, which may delete
    itself (Event._fd_claimed).

    The asyncio face keeps its sock_* read watchers registered between
    calls (aio/sockops.pyx).  Such an idle watcher may belong to a socket
    that was closed since (epoll dropped the registration with the file),
    and the fd number may now be another socket's: if the evmap still
    counted it, adding an event for the new socket would not grow the
    watched mask, the backend would not be told, and the new event would
    never fire.  Stepping aside first makes the add start from the fd's
    true state.  The events are collected first: a callee may delete
    itself (and drop references) while we walk."""
    cdef PyObject *p = base.io_map[fd].head
    cdef list todo = []
    while p is not NULL:
        if (<Event>p).fd_yield:
            todo.append(<Event>p)
        p = (<Event>p).io_next
    for ev in todo:
        (<Event>ev)._fd_claimed(newcomer)
    return 0


cdef int evmap_io_del(EventBase base, Event ev) except -1:
    cdef EvmapEntry *ent
    cdef int fd = ev.fd
    cdef int old, new, et
    if fd < 0 or fd >= base.io_map_size:
        return 0
    ent = &base.io_map[fd]
    old = entry_mask(ent)
    # Keep the fd's current ET state for the remaining events (libevent
    # takes it from the deleted event: libevent#636).
    et = ent.et
    if ev.events & C_EV_READ:
        ent.nread -= 1
    if ev.events & C_EV_WRITE:
        ent.nwrite -= 1
    if ev.events & C_EV_CLOSED:
        ent.nclose -= 1
    if ev.fd_yield:
        ent.nyield -= 1
    list_remove(ent, ev)
    new = entry_mask(ent)
    if new != old:
        base.backend.apply(fd, old | et, (new | et) if new else 0, True)
        if not new:
            ent.et = 0
    return 0


cdef int evmap_io_active(EventBase base, int fd, int what) except -1:
    """The backend saw ``what`` on fd: activate each event that wants any
    of it, with res = its own flags & what (libevent evmap_io_active_)."""
    cdef PyObject *p
    cdef Event ev
    if fd < 0 or fd >= base.io_map_size:
        return 0
    p = base.io_map[fd].head
    while p is not NULL:
        ev = <Event>p
        p = ev.io_next
        if ev.events & (what & ~C_EV_ET):
            event_active_nolock(base, ev, ev.events & what, 1)
    return 0


cdef int evmap_signal_add(EventBase base, Event ev) except -1:
    cdef EvmapEntry *ent
    cdef int sig = ev.fd
    if base.sig_map is NULL:
        base.sig_map = <EvmapEntry *>calloc(NSIG_MAX, sizeof(EvmapEntry))
        if base.sig_map is NULL:
            raise MemoryError()
    ent = &base.sig_map[sig]
    if ent.head is NULL:
        if base.nsig_events == 0:
            sig_claim(base)
        try:
            sig_install(base, sig)
        except BaseException:
            if base.nsig_events == 0:
                sig_release(base)
            raise
    list_insert_head(ent, ev)
    ent.nsig += 1
    base.nsig_events += 1
    return 0


cdef int evmap_signal_del(EventBase base, Event ev) except -1:
    cdef EvmapEntry *ent
    cdef int sig = ev.fd
    if base.sig_map is NULL:
        return 0
    ent = &base.sig_map[sig]
    list_remove(ent, ev)
    ent.nsig -= 1
    base.nsig_events -= 1
    if ent.head is NULL:
        sig_restore(base, sig)
    if base.nsig_events == 0:
        sig_release(base)
    return 0


cdef int evmap_signal_active(EventBase base, int sig, int ncalls) except -1:
    cdef PyObject *p
    cdef Event ev
    if base.sig_map is NULL or sig <= 0 or sig >= NSIG_MAX:
        return 0
    p = base.sig_map[sig].head
    while p is not NULL:
        ev = <Event>p
        p = ev.io_next
        event_active_nolock(base, ev, C_EV_SIGNAL, ncalls)
    return 0


cdef int evmap_reinit(EventBase base) except -1:
    """After the backend was recreated: watch every fd again."""
    cdef int fd, mask
    cdef EvmapEntry *ent
    for fd in range(base.io_map_size):
        ent = &base.io_map[fd]
        if ent.head is NULL:
            continue
        mask = entry_mask(ent) | ent.et
        base.backend.apply(fd, 0, mask, False)
    return 0
