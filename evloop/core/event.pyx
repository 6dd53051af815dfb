# Event: libevent's struct event and the state machine of event.c.
#
# States (the EVLIST_* bits of Event.flags):
#
#   INIT --add--> INSERTED and/or TIMEOUT --fires--> ACTIVE --runs--> (pending
#   again if EV_PERSIST, else INIT); event_active: any state -> ACTIVE;
#   event_del: any -> INIT; event_finalize: any -> FINALIZING (terminal).
#
# "Pending" = INSERTED (watching an fd or a signal) and/or TIMEOUT (a
# deadline in the heap).  "Active" = ACTIVE (in a priority queue) or
# ACTIVE_LATER (queued for the next pass).  Pending and active are
# independent.  The functions below are the libevent functions of the same
# name (event_add_nolock_, event_del_nolock_, event_active_nolock_,
# event_queue_insert_*/remove_*), transliterated; the comments cite the
# behaviour they copy.  Every state change goes through the queue functions,
# which keep EventBase.pinned (the references that keep a pending event
# alive) and libevent's counters right.


cdef object SELF_CBARG = object()
cdef bint debug_mode = False
cdef bint any_base_created = False
cdef int MAX_DEFERREDS_QUEUED = 32


def event_self_cbarg():
    """event_self_cbarg(): pass as ``arg`` to have the event itself given
    to its callback as ``arg``."""
    return SELF_CBARG


def enable_debug_mode():
    """event_enable_debug_mode(): turn on extra checks (every fd given to an
    I/O event must be non-blocking).  RuntimeError if called twice or after
    an EventBase was created, where libevent aborts."""
    global debug_mode
    if debug_mode:
        raise RuntimeError("enable_debug_mode() was already called")
    if any_base_created:
        raise RuntimeError("enable_debug_mode() must be called before any EventBase is created")
    debug_mode = True


# -- reference keeping and counters -------------------------------------------

cdef inline int hold(EventBase base, Event ev, int flag) except -1:
    """Set a holding state bit; the first one pins the event."""
    if not (ev.flags & C_EVLIST_HELD):
        PySet_Add(base.pinned, ev)
    ev.flags |= flag
    return 0


cdef inline int unhold(EventBase base, Event ev, int flag) except -1:
    """Clear a holding state bit; the last one unpins the event.  The
    caller must own a reference to ev (it may be the last one left)."""
    ev.flags &= ~flag
    if not (ev.flags & C_EVLIST_HELD):
        PySet_Discard(base.pinned, ev)
    return 0


cdef inline void incr_count(EventBase base, Event ev) noexcept:
    if not (ev.flags & C_EVLIST_INTERNAL):
        base.event_count += 1
        if base.event_count > base.event_count_max:
            base.event_count_max = base.event_count


cdef inline void decr_count(EventBase base, Event ev) noexcept:
    if not (ev.flags & C_EVLIST_INTERNAL):
        base.event_count -= 1


cdef inline void q_append(ActiveQueue *q, Event ev) noexcept:
    ev.act_next = NULL
    ev.act_prev = q.tail
    if q.tail is not NULL:
        (<Event>q.tail).act_next = <PyObject *>ev
    else:
        q.head = <PyObject *>ev
    q.tail = <PyObject *>ev


cdef inline void q_unlink(ActiveQueue *q, Event ev) noexcept:
    if ev.act_prev is not NULL:
        (<Event>ev.act_prev).act_next = ev.act_next
    else:
        q.head = ev.act_next
    if ev.act_next is not NULL:
        (<Event>ev.act_next).act_prev = ev.act_prev
    else:
        q.tail = ev.act_prev
    ev.act_next = ev.act_prev = NULL


# -- the queues (libevent event_queue_insert_* / event_queue_remove_*) --------

cdef int queue_insert_inserted(EventBase base, Event ev) except -1:
    if ev.flags & C_EVLIST_INSERTED:
        return 0
    incr_count(base, ev)
    hold(base, ev, C_EVLIST_INSERTED)
    return 0


cdef int queue_remove_inserted(EventBase base, Event ev) except -1:
    if not (ev.flags & C_EVLIST_INSERTED):
        return 0
    decr_count(base, ev)
    unhold(base, ev, C_EVLIST_INSERTED)
    return 0


cdef int queue_insert_timeout(EventBase base, Event ev) except -1:
    """An ordinary deadline goes into the heap; one made from a
    CommonTimeout goes into that token's FIFO, kept in deadline order
    (libevent insert_common_timeout_inorder), and the token's internal
    timer follows its first event."""
    cdef CommonTimeout tok
    cdef PyObject *p
    if ev.flags & C_EVLIST_TIMEOUT:
        return 0
    if ev.common is None:
        heap_push(base, ev)
    else:
        tok = <CommonTimeout>ev.common
        # Walk back from the tail: with one duration and a monotonic "now"
        # the new event nearly always goes last.
        p = tok.tail
        while p is not NULL and (<Event>p).timeout_ns > ev.timeout_ns:
            p = (<Event>p).ct_prev
        ev.ct_prev = p
        if p is NULL:
            ev.ct_next = tok.head
            tok.head = <PyObject *>ev
        else:
            ev.ct_next = (<Event>p).ct_next
            (<Event>p).ct_next = <PyObject *>ev
        if ev.ct_next is NULL:
            tok.tail = <PyObject *>ev
        else:
            (<Event>ev.ct_next).ct_prev = <PyObject *>ev
        ev.ct_in = tok
    incr_count(base, ev)
    hold(base, ev, C_EVLIST_TIMEOUT)
    if ev.ct_in is not None and ev.ct_in.head == <PyObject *>ev:
        common_timeout_schedule(base, ev.ct_in)
    return 0


cdef int queue_remove_timeout(EventBase base, Event ev) except -1:
    cdef CommonTimeout tok
    if not (ev.flags & C_EVLIST_TIMEOUT):
        return 0
    if ev.ct_in is None:
        heap_erase(base, ev)
    else:
        tok = ev.ct_in
        if ev.ct_prev is NULL:
            tok.head = ev.ct_next
        else:
            (<Event>ev.ct_prev).ct_next = ev.ct_next
        if ev.ct_next is NULL:
            tok.tail = ev.ct_prev
        else:
            (<Event>ev.ct_next).ct_prev = ev.ct_prev
        ev.ct_next = ev.ct_prev = NULL
        ev.ct_in = None
    decr_count(base, ev)
    unhold(base, ev, C_EVLIST_TIMEOUT)
    return 0


cdef int common_timeout_schedule(EventBase base, CommonTimeout tok) except -1:
    """Set the token's internal timer to its first event's deadline."""
    if tok.head is not NULL and tok.timer_ev is not None:
        event_add_nolock(base, tok.timer_ev, (<Event>tok.head).timeout_ns, True, True)
    return 0


cdef class CommonTimeoutEvent(Event):
    """The internal priority-0 timer of a CommonTimeout
    (common_timeout_callback): activate every expired event of the list, in
    order, then re-arm for the new first one."""
    cdef CommonTimeout tok

    cdef int _run_custom(self) except -1:
        cdef CommonTimeout tok = self.tok
        cdef EventBase base = self.base
        cdef Event ev
        cdef int64_t now
        if tok is None or base is None or base.freed:
            return 0
        now = gettime(base)
        while tok.head is not NULL:
            ev = <Event>tok.head
            if ev.timeout_ns > now:
                break
            event_del_nolock(base, ev, False)
            event_active_nolock(base, ev, C_EV_TIMEOUT, 1)
        common_timeout_schedule(base, tok)
        return 0


cdef int queue_insert_active(EventBase base, Event ev) except -1:
    if ev.flags & C_EVLIST_ACTIVE:
        return 0          # double insertion is possible for active events
    incr_count(base, ev)
    hold(base, ev, C_EVLIST_ACTIVE)
    base.event_count_active += 1
    if base.event_count_active > base.event_count_active_max:
        base.event_count_active_max = base.event_count_active
    if ev.pri >= base.nqueues:
        # Assigned before priority_init() shrank the queues: libevent would
        # index out of bounds here; evloop uses the least urgent queue.
        ev.pri = base.nqueues - 1
    q_append(&base.queues[ev.pri], ev)
    return 0


cdef int queue_remove_active(EventBase base, Event ev) except -1:
    if not (ev.flags & C_EVLIST_ACTIVE):
        return 0
    decr_count(base, ev)
    q_unlink(&base.queues[ev.pri], ev)
    base.event_count_active -= 1
    unhold(base, ev, C_EVLIST_ACTIVE)
    return 0


cdef int queue_insert_later(EventBase base, Event ev) except -1:
    if ev.flags & (C_EVLIST_ACTIVE | C_EVLIST_ACTIVE_LATER):
        return 0
    incr_count(base, ev)
    hold(base, ev, C_EVLIST_ACTIVE_LATER)
    base.event_count_active += 1
    if base.event_count_active > base.event_count_active_max:
        base.event_count_active_max = base.event_count_active
    q_append(&base.later, ev)
    return 0


cdef int queue_remove_later(EventBase base, Event ev) except -1:
    if not (ev.flags & C_EVLIST_ACTIVE_LATER):
        return 0
    decr_count(base, ev)
    q_unlink(&base.later, ev)
    base.event_count_active -= 1
    unhold(base, ev, C_EVLIST_ACTIVE_LATER)
    return 0


# -- event_add / event_del / event_active -------------------------------------

cdef int event_add_nolock(EventBase base, Event ev, int64_t tv_ns, bint has_tv,
                          bint tv_is_absolute) except -1:
    """event_add_nolock_.  tv_ns is a duration, or a deadline when
    tv_is_absolute (the EV_PERSIST re-arm)."""
    cdef bint notify = False
    cdef int64_t now
    if ev.flags & C_EVLIST_FINALIZING:
        raise RuntimeError("event is being finalized: it cannot be added")
    # Register the fd or signal unless already registered or active (an
    # active non-persistent event is deleted before it runs anyway).
    if (ev.events & (C_EV_IO | C_EV_SIGNAL)) and not (
            ev.flags & (C_EVLIST_INSERTED | C_EVLIST_ACTIVE | C_EVLIST_ACTIVE_LATER)):
        if ev.events & C_EV_IO:
            evmap_io_add(base, ev)
        else:
            evmap_signal_add(base, ev)
        queue_insert_inserted(base, ev)
        notify = True
    if has_tv:
        # A persistent event remembers its interval for the re-arm.
        if ev.closure == CLOSURE_EVENT_PERSIST and not tv_is_absolute:
            ev.io_timeout_ns = tv_ns
        if ev.flags & C_EVLIST_TIMEOUT:
            queue_remove_timeout(base, ev)
        # Re-scheduling a timeout that already fired (but whose callback
        # has not run) cancels that activation.
        if (ev.flags & C_EVLIST_ACTIVE) and (ev.res & C_EV_TIMEOUT):
            if ev.events & C_EV_SIGNAL:
                if ev.ncalls and ev.pncalls is not NULL:
                    ev.pncalls[0] = 0
            queue_remove_active(base, ev)
        if tv_is_absolute:
            ev.timeout_ns = tv_ns
        else:
            now = gettime(base)
            ev.timeout_ns = now + tv_ns
        queue_insert_timeout(base, ev)
        if ev.heap_idx == 0:
            notify = True
    if notify and base.running_loop:
        base_notify(base)
    return 0


cdef int event_del_nolock(EventBase base, Event ev, bint even_if_finalizing) except -1:
    """event_del_nolock_: drop the deadline, the activation and the
    registration; fine on an event that is none of these."""
    if not even_if_finalizing and (ev.flags & C_EVLIST_FINALIZING):
        return 0
    if ev.events & C_EV_SIGNAL:
        # Deleting a signal event from its own callback stops the ncalls loop.
        if ev.ncalls and ev.pncalls is not NULL:
            ev.pncalls[0] = 0
    if ev.flags & C_EVLIST_TIMEOUT:
        queue_remove_timeout(base, ev)
    if ev.flags & C_EVLIST_ACTIVE:
        queue_remove_active(base, ev)
    elif ev.flags & C_EVLIST_ACTIVE_LATER:
        queue_remove_later(base, ev)
    if ev.flags & C_EVLIST_INSERTED:
        if ev.events & C_EV_IO:
            evmap_io_del(base, ev)
        else:
            evmap_signal_del(base, ev)
        queue_remove_inserted(base, ev)
        if base.running_loop:
            base_notify(base)
    return 0


cdef int event_active_nolock(EventBase base, Event ev, int res, int ncalls) except -1:
    """event_active_nolock_: activating an active event only ORs res."""
    cdef int state
    if ev.flags & C_EVLIST_FINALIZING:
        return 0
    state = ev.flags & (C_EVLIST_ACTIVE | C_EVLIST_ACTIVE_LATER)
    if state == C_EVLIST_ACTIVE:
        ev.res |= res
        return 0
    elif state == C_EVLIST_ACTIVE_LATER:
        ev.res |= res
    else:
        ev.res = res
    # A more urgent event than the running queue preempts the pass.
    if ev.pri < base.running_priority:
        base.event_continue = True
    if ev.events & C_EV_SIGNAL:
        ev.ncalls = ncalls
        ev.pncalls = NULL
    if ev.flags & C_EVLIST_ACTIVE_LATER:
        queue_remove_later(base, ev)
    queue_insert_active(base, ev)
    if base.running_loop:
        base_notify(base)
    return 0


cdef int event_active_later_nolock(EventBase base, Event ev, int res) except -1:
    """event_active_later_nolock_: run in the next pass, not this one."""
    if ev.flags & (C_EVLIST_ACTIVE | C_EVLIST_ACTIVE_LATER):
        ev.res |= res
        return 0
    ev.res = res
    queue_insert_later(base, ev)
    return 0


cdef int event_deferred_schedule(EventBase base, Event ev) except -1:
    """event_deferred_cb_schedule_: run ev this pass, unless 32 deferred
    callbacks already were queued in it (then next pass, so a stream of
    deferred callbacks cannot starve I/O)."""
    if ev.flags & (C_EVLIST_ACTIVE | C_EVLIST_ACTIVE_LATER):
        return 0
    base.n_deferreds_queued += 1
    if base.n_deferreds_queued > MAX_DEFERREDS_QUEUED:
        return event_active_later_nolock(base, ev, C_EV_TIMEOUT)
    return event_active_nolock(base, ev, C_EV_TIMEOUT, 1)


cdef int event_remove_timer_nolock(EventBase base, Event ev) except -1:
    """event_remove_timer_nolock_: drop only the deadline, and forget the
    persistent interval."""
    if ev.flags & C_EVLIST_TIMEOUT:
        queue_remove_timeout(base, ev)
        ev.io_timeout_ns = 0
    return 0


# -- argument checking --------------------------------------------------------

cdef int fd_of(object fd, str argname) except? -2:
    """An int fd, or obj.fileno()."""
    if isinstance(fd, int) and not isinstance(fd, bool):
        if fd < -1:
            raise ValueError(f"{argname} must be >= -1, got {fd}")
        if fd > INT_MAX:
            raise ValueError(f"{argname} must be an fd (at most {INT_MAX}), got {fd}")
        return fd
    fileno = getattr(fd, "fileno", None)
    if fileno is None:
        raise TypeError(f"{argname} must be an int or have a fileno() method, "
                        f"not {type(fd).__name__}")
    r = fileno()
    if not isinstance(r, int) or isinstance(r, bool):
        raise TypeError(f"{argname}.fileno() returned {type(r).__name__}, not an int")
    if r < 0 or r > INT_MAX:
        raise ValueError(f"{argname}.fileno() returned {r}, not an open fd")
    return r


cdef int event_assign_internal(Event ev, EventBase base, int fd, int events,
                               object callback) except -1:
    """An evloop-internal event (signal socketpair, wake-up fd): not counted
    by get_num_events and not keeping the loop alive (EVLIST_INTERNAL)."""
    ev.base = base
    ev.fd = fd
    ev.events = events
    ev.callback = callback
    ev.cb_arg = None
    ev.self_arg = False
    ev.freed = False
    ev.flags = C_EVLIST_INIT | C_EVLIST_INTERNAL
    ev.pri = 0
    ev.closure = CLOSURE_EVENT_PERSIST if events & C_EV_PERSIST else CLOSURE_EVENT
    ev.res = 0
    ev.io_timeout_ns = 0
    return 0


cdef int check_assignable(Event ev) except -1:
    """event_assign's precondition, for assign() and a second __init__():
    libevent's debug mode aborts on assigning a pending or active event
    (event_debug_assert_not_added_); re-initialising one here left it in the
    timer heap twice, and after delete() the heap pointed at freed memory.
    Events that evloop itself drives (a Bufferevent's, a Listener's, the
    asyncio loop's handles, internal ones) are refused too: they can be
    reached through foreach_event() or get_running_event() while idle, and
    re-assigning one would hijack its owner."""
    if ev.flags & C_EVLIST_HELD:
        raise RuntimeError("cannot assign an event that is pending or active; delete it first")
    if ev.flags & C_EVLIST_FINALIZING:
        raise RuntimeError("cannot assign an event that is being finalized")
    if ev.closure == CLOSURE_CUSTOM or ev.flags & C_EVLIST_INTERNAL:
        raise RuntimeError("cannot assign this event: it belongs to evloop (a Bufferevent, a "
                           "Listener, a common timeout or the asyncio loop)")
    return 0


cdef EventBase usable_base(object base, str what):
    if not isinstance(base, EventBase):
        raise TypeError(f"base must be an EventBase, not {type(base).__name__}")
    if (<EventBase>base).freed:
        raise RuntimeError(f"cannot {what}: the EventBase was freed")
    return <EventBase>base


cdef int event_assign(Event ev, object base, object fd, object what, object callback,
                      object arg) except -1:
    """event_assign, after check_assignable(): validate everything first, so
    a refused call leaves the event as it was."""
    cdef EventBase b = usable_base(base, "create an event")
    cdef int events, ifd
    if not isinstance(what, int) or isinstance(what, bool):
        raise TypeError(f"what must be an int of EV_* flags, not {type(what).__name__}")
    if what < 0 or what & ~C_EV_ALL:
        raise ValueError(f"what: unknown EV_* flag bits in {what:#x}")
    events = what
    if not callable(callback):
        raise TypeError(f"callback must be callable, not {type(callback).__name__}")
    ifd = fd_of(fd, "fd")
    if events & C_EV_SIGNAL:
        if events & C_EV_IO:
            raise ValueError("what: EV_SIGNAL cannot be combined with EV_READ, "
                             "EV_WRITE or EV_CLOSED")
        if ifd < 1 or ifd >= NSIG_MAX:
            raise ValueError(f"fd: {ifd} is not a valid signal number for EV_SIGNAL")
    elif events & C_EV_IO:
        if ifd < 0:
            raise ValueError(f"fd must be >= 0 for EV_READ/EV_WRITE/EV_CLOSED, got {ifd}")
        if debug_mode:
            fl = fcntl(ifd, F_GETFL)
            if fl == -1:
                raise OSError(errno, f"fd {ifd}: {_os.strerror(errno)}")
            if not (fl & O_NONBLOCK):
                raise ValueError(f"fd {ifd} is not non-blocking (debug mode)")
    ev.base = b
    ev.fd = ifd
    ev.events = events
    ev.callback = callback
    ev.self_arg = arg is SELF_CBARG
    ev.cb_arg = None if ev.self_arg else arg
    ev.finalizer = None
    ev.freed = False
    ev.flags = C_EVLIST_INIT
    # The default priority is fixed now, from the base's current number
    # of queues (libevent event_assign).
    ev.pri = b.nqueues // 2
    ev.res = 0
    ev.ncalls = 0
    ev.io_timeout_ns = 0
    ev.common = None
    if events & C_EV_SIGNAL:
        ev.closure = CLOSURE_EVENT_SIGNAL
    elif events & C_EV_PERSIST:
        ev.closure = CLOSURE_EVENT_PERSIST
    else:
        ev.closure = CLOSURE_EVENT
    return 0


cdef int event_finalize(Event ev, object finalizer, int closure) except -1:
    """event_finalize_nolock_: the closure becomes the finalizer's."""
    cdef EventBase base = ev._usable("finalize the event")
    if not callable(finalizer):
        raise TypeError(f"finalizer must be callable, not {type(finalizer).__name__}")
    if ev.flags & C_EVLIST_FINALIZING:
        return 0
    if ev.closure == CLOSURE_CUSTOM or ev.flags & C_EVLIST_INTERNAL:
        # Same reason as check_assignable: its owner runs it.
        raise RuntimeError("cannot finalize this event: it belongs to evloop (a Bufferevent, "
                           "a Listener, a common timeout or the asyncio loop)")
    event_del_nolock(base, ev, False)
    ev.closure = closure
    ev.finalizer = finalizer
    event_active_nolock(base, ev, C_EV_FINALIZE, 1)
    ev.flags |= C_EVLIST_FINALIZING
    return 0


cdef class Event:
    """struct event: a callback for an fd, a signal or a timeout.

    ``Event(base, fd, what, callback, arg=None)`` is event_new():
    ``callback(fd, what, arg)`` runs when any of ``what`` happens
    (EV_READ, EV_WRITE, EV_CLOSED on ``fd``; EV_SIGNAL for the signal
    number ``fd``; EV_TIMEOUT when the timeout given to add() expires).
    EV_PERSIST keeps it pending after it fires; EV_ET asks for
    edge-triggered notification (epoll only).

    Raises TypeError/ValueError for bad arguments and RuntimeError for a
    freed base.  Differences from libevent: errors raise instead of
    returning -1; a pending event is kept alive by its base, so dropping
    the last Python reference to a pending event does not cancel it.

    See also: EventBase.once, Event.timer, Event.signal.
    """

    def __cinit__(self):
        self.base = None
        self.fd = -1
        self.heap_idx = -1
        self.act_next = self.act_prev = NULL
        self.io_next = self.io_prev = NULL
        self.pncalls = NULL

    def __init__(self, base, fd, what, callback, arg=None):
        # A second __init__() is assign(), with the same checks.
        check_assignable(self)
        event_assign(self, base, fd, what, callback, arg)

    cdef int _run_custom(self) except -1:
        # Overridden by evloop's own Event subclasses (the asyncio face's
        # timer handles and fd watchers), whose closure is CLOSURE_CUSTOM.
        return 0

    cdef int _fd_claimed(self, Event newcomer) except -1:
        # Overridden by the events that set fd_yield (evmap_io_claim).
        return 0

    @classmethod
    def timer(cls, base, callback, arg=None):
        """evtimer_new(base, callback, arg): a pure timer."""
        return cls(base, -1, 0, callback, arg)

    @classmethod
    def signal(cls, base, signum, callback, arg=None):
        """evsignal_new(base, signum, callback, arg): EV_SIGNAL|EV_PERSIST."""
        if not isinstance(signum, int) or isinstance(signum, bool):
            raise TypeError(f"signum must be an int, not {type(signum).__name__}")
        if signum < 1 or signum >= NSIG_MAX:
            raise ValueError(f"signum must be a signal number in 1..{NSIG_MAX - 1}, got {signum}")
        return cls(base, signum, C_EV_SIGNAL | C_EV_PERSIST, callback, arg)

    cdef EventBase _usable(self, str what):
        if self.freed:
            raise RuntimeError(f"cannot {what}: the event was freed")
        if self.base is None:
            raise RuntimeError(f"cannot {what}: the event is not assigned to a base")
        if self.base.freed:
            raise RuntimeError(f"cannot {what}: the event's EventBase was freed")
        return self.base

    def assign(self, base, fd, what, callback, arg=None):
        """event_assign: re-initialise a non-pending, non-active event.
        RuntimeError if it is pending, active or being finalized (libevent
        debug mode aborts), or if it is one of evloop's own events."""
        check_assignable(self)
        event_assign(self, base, fd, what, callback, arg)

    def add(self, timeout=None):
        """event_add(ev, tv): make the event pending.  ``timeout`` None keeps
        an existing deadline; a value replaces it (relative to the base's
        cached time)."""
        cdef EventBase base = self._usable("add the event")
        cdef int64_t ns = timeout_to_ns(base, timeout, "timeout")
        if self.flags & C_EVLIST_FINALIZING:
            raise RuntimeError("cannot add the event: it is being finalized")
        if ns == -2:
            event_add_nolock(base, self, 0, False, False)
        else:
            self.common = timeout if isinstance(timeout, CommonTimeout) else None
            event_add_nolock(base, self, ns, True, False)

    def delete(self):
        """event_del: not pending, not active.  Fine on a non-added event.
        RuntimeError once the event's base was freed (in libevent a use
        after free), except on an event being finalized, which delete()
        leaves alone anyway (so a finalizer run by EventBase.free() may
        call it)."""
        if self.freed or self.base is None:
            return
        if self.base.freed:
            if self.flags & C_EVLIST_FINALIZING:
                return
            raise RuntimeError("cannot delete the event: the event's EventBase was freed")
        event_del_nolock(self.base, self, False)

    def remove_timer(self):
        """event_remove_timer: drop the deadline only."""
        cdef EventBase base = self._usable("remove the timer")
        event_remove_timer_nolock(base, self)

    def active(self, res, ncalls=1):
        """event_active(ev, res, ncalls): run the callback with ``res`` as
        ``what`` in this or the next pass.  ncalls only matters for
        signals."""
        cdef EventBase base = self._usable("activate the event")
        if not isinstance(res, int) or isinstance(res, bool):
            raise TypeError(f"res must be an int of EV_* flags, not {type(res).__name__}")
        if res < 0 or res & ~C_EV_ALL:
            raise ValueError(f"res: unknown EV_* flag bits in {res:#x}")
        if not isinstance(ncalls, int) or isinstance(ncalls, bool):
            raise TypeError(f"ncalls must be an int, not {type(ncalls).__name__}")
        if ncalls < 0 or ncalls > 0x7fff:
            raise ValueError(f"ncalls must be in 0..32767, got {ncalls}")
        if self.flags & C_EVLIST_FINALIZING:
            raise RuntimeError("cannot activate the event: it is being finalized")
        event_active_nolock(base, self, res, ncalls)

    def pending(self, what=C_EV_TIMEOUT | C_EV_IO | C_EV_SIGNAL, want_tv=False):
        """event_pending: ``what`` & the flags the event is pending or active
        on.  With want_tv=True, (flags, deadline in wall-clock seconds or
        None)."""
        cdef int flags = 0
        cdef int w
        if not isinstance(what, int) or isinstance(what, bool):
            raise TypeError(f"what must be an int of EV_* flags, not {type(what).__name__}")
        if what < 0 or what & ~C_EV_ALL:
            raise ValueError(f"what: unknown EV_* flag bits in {what:#x}")
        if self.freed:
            raise RuntimeError("cannot query the event: it was freed")
        w = what
        if self.flags & C_EVLIST_INSERTED:
            flags |= self.events & (C_EV_IO | C_EV_SIGNAL)
        if self.flags & (C_EVLIST_ACTIVE | C_EVLIST_ACTIVE_LATER):
            flags |= self.res
        if self.flags & C_EVLIST_TIMEOUT:
            flags |= C_EV_TIMEOUT
        w &= C_EV_TIMEOUT | C_EV_IO | C_EV_SIGNAL
        flags &= w
        if want_tv:
            if flags & C_EV_TIMEOUT:
                return flags, base_wall(self.base, self.timeout_ns)
            return flags, None
        return flags

    def priority_set(self, priority):
        """event_priority_set.  ValueError out of range, RuntimeError if the
        event is active."""
        cdef EventBase base = self._usable("set the priority")
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise TypeError(f"priority must be an int, not {type(priority).__name__}")
        if self.flags & C_EVLIST_ACTIVE:
            raise RuntimeError("cannot change the priority of an active event")
        if priority < 0 or priority >= base.nqueues:
            raise ValueError(f"priority must be in 0..{base.nqueues - 1}, got {priority}")
        self.pri = priority

    def get_assignment(self):
        """event_get_assignment: (base, fd, events, callback, arg)."""
        if self.freed:
            raise RuntimeError("cannot query the event: it was freed")
        return (self.base, self.fd, self.events, self.callback,
                self if self.self_arg else self.cb_arg)

    def initialized(self):
        """event_initialized: assigned and not freed."""
        return self.base is not None and not self.freed

    def finalize(self, finalizer):
        """event_finalize: delete the event, then call finalizer(event, arg)
        from the loop at the event's priority.  Afterwards add() and
        active() raise RuntimeError."""
        event_finalize(self, finalizer, CLOSURE_EVENT_FINALIZE)

    def free_finalize(self, finalizer):
        """event_free_finalize: finalize(), then free the event."""
        event_finalize(self, finalizer, CLOSURE_EVENT_FINALIZE_FREE)

    def free(self):
        """event_free: delete, and refuse any later use.  Idempotent."""
        if self.freed:
            return
        if self.base is not None and not (self.flags & C_EVLIST_FINALIZING):
            event_del_nolock(self.base, self, False)
        self.freed = True
        if not (self.flags & C_EVLIST_HELD):
            self.callback = None
            self.cb_arg = None

    @property
    def arg(self):
        """event_get_callback_arg."""
        return self if self.self_arg else self.cb_arg

    @property
    def priority(self):
        """event_get_priority."""
        return self.pri

    def __repr__(self):
        kind = "sig" if self.events & C_EV_SIGNAL else "fd"
        return (f"<evloop.Event {kind}={self.fd} events={self.events:#x} "
                f"flags={self.flags:#x} pri={self.pri}>")
