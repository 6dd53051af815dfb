# EventBase: libevent's struct event_base and event_base_loop().
#
# One pass of loop() (event_base_loop in event.c; docs/design.md numbers the
# same steps):
#   1. stop if loopexit fired, loopbreak was called or a callback raised;
#   2. compute the backend timeout: 0 if callbacks are active or
#      EVLOOP_NONBLOCK, else the time to the earliest deadline (or forever);
#   3. return 1 if nothing is registered or active (unless
#      EVLOOP_NO_EXIT_ON_EMPTY);
#   4. move the ACTIVE_LATER queue into the priority queues;
#   5. clear the time cache, poll the backend with the GIL released, and
#      activate the I/O events it reports (signals arrive as I/O on the
#      signal socketpair);
#   6. refresh the time cache and activate expired timers;
#   7. run the most urgent non-empty priority queue, including callbacks
#      activated at that priority while it runs; a more urgent activation,
#      loopcontinue, loopbreak, a raising callback or the dispatch limits
#      end the pass early;
#   8. EVLOOP_ONCE ends once a pass ran callbacks and none are left;
#      EVLOOP_NONBLOCK ends when a pass finds nothing to run.


import weakref as _weakref
import sys as _sys2


cdef inline int64_t gettime(EventBase base) noexcept:
    """The base's 'now': the cache while the loop runs, else the clock."""
    if base.tv_cache_ns:
        return base.tv_cache_ns
    return mono_ns()


cdef inline void update_time_cache(EventBase base) noexcept:
    base.tv_cache_ns = 0
    if not (base.flags & C_FLAG_NO_CACHE_TIME):
        base.tv_cache_ns = mono_ns()
        # libevent keeps tv_clock_diff with the cache, so cached wall times
        # and deadlines converted to wall time agree with each other.
        base.clock_diff_ns = real_ns() - base.tv_cache_ns


cdef double base_wall(EventBase base, int64_t t_ns) noexcept:
    """A monotonic time as wall-clock seconds, with the base's cached
    offset while the loop runs (libevent's tv_clock_diff)."""
    if base.tv_cache_ns:
        return (t_ns + base.clock_diff_ns) / 1e9
    return mono_to_wall(t_ns)


cdef int base_notify(EventBase base, bint any_thread=False) except -1:
    """Wake a loop sleeping in another thread (evthread_notify_base).  One
    write per wake-up: further calls find notify_pending set until the
    loop's read of the eventfd clears it.  any_thread: write even from the
    loop's own thread (call_soon_threadsafe from a signal handler that
    interrupted the poll, as asyncio's self-pipe write does)."""
    cdef uint64_t one = 1
    if base.notify_fd < 0 or base.notify_pending:
        return 0
    if not any_thread and <long>PyThread_get_thread_ident() == base.owner_thread:
        return 0
    base.notify_pending = True
    write(base.notify_fd, &one, sizeof(one))
    return 0


cdef inline bint have_events(EventBase base) noexcept:
    return base.virtual_event_count > 0 or base.event_count > 0


cdef int64_t timeout_next(EventBase base) except? -3:
    """ns until the earliest deadline; -1 if there is none."""
    cdef int64_t d
    if base.heap_n == 0:
        return -1
    d = (<Event>base.heap[0]).timeout_ns - gettime(base)
    return d if d > 0 else 0


cdef int timeout_process(EventBase base) except -1:
    """Activate every event whose deadline has passed, earliest first: the
    event is deleted (fd registration included), then activated with
    EV_TIMEOUT; a persistent one is re-added by its closure."""
    cdef int64_t now
    cdef Event ev
    if base.heap_n == 0:
        return 0
    now = gettime(base)
    while base.heap_n:
        ev = <Event>base.heap[0]
        if ev.timeout_ns > now:
            break
        event_del_nolock(base, ev, False)
        event_active_nolock(base, ev, C_EV_TIMEOUT, 1)
    return 0


cdef int make_later_active(EventBase base) except -1:
    # queue_remove_later + queue_insert_active, without unpinning and
    # re-pinning the event in between: it stays held and counted (an event
    # is never both ACTIVE and ACTIVE_LATER, see event_active_nolock).
    cdef Event ev
    while base.later.head is not NULL:
        ev = <Event>base.later.head
        q_unlink(&base.later, ev)
        ev.flags = (ev.flags & ~C_EVLIST_ACTIVE_LATER) | C_EVLIST_ACTIVE
        if ev.pri >= base.nqueues:
            ev.pri = base.nqueues - 1
        q_append(&base.queues[ev.pri], ev)
    return 0


cdef int handle_exception(EventBase base, Event ev, object exc) except -1:
    """A callback raised ``exc``.  KeyboardInterrupt and SystemExit always
    stop the loop and propagate; others go to the exception handler if one
    is set, else they stop the loop (after the running callback) and
    propagate from loop()."""
    handler = base.exc_handler
    if handler is not None and not isinstance(exc, (KeyboardInterrupt, SystemExit)):
        try:
            handler(base, ev, exc)
            return 0
        except BaseException as exc2:
            exc = exc2
    if base.exc is None:
        mark_callback_exception(exc)
        base.exc = exc
    base.exc_break = True
    return 0


cdef inline void mark_callback_exception(object exc) noexcept:
    """Tag an exception that a user callback raised, so that evloop.compat
    can tell it from an error of its own arguments (it re-raises the first
    kind and turns the second into -1)."""
    try:
        exc._evloop_from_callback = True
    except BaseException:
        pass


cdef inline int call_event_cb(EventBase base, Event ev, int fd, int res) except -1:
    cb = ev.callback
    arg = ev if ev.self_arg else ev.cb_arg
    try:
        cb(fd, res, arg)
    except BaseException as exc:
        handle_exception(base, ev, exc)
    return 0


cdef int persist_rearm(EventBase base, Event ev) except -1:
    """The first half of event_persist_closure: re-arm the interval *before*
    the callback, so that the callback's own event_del/event_add wins."""
    cdef int64_t delay, relative_to, run_at, now
    if ev.io_timeout_ns:
        now = gettime(base)
        delay = ev.io_timeout_ns
        # Timer ticks stay on their grid (old deadline + interval); I/O
        # restarts the interval from now (an idle timeout).
        relative_to = ev.timeout_ns if ev.res & C_EV_TIMEOUT else now
        run_at = relative_to + delay
        if run_at < now:
            run_at = now + delay      # missed ticks are dropped, not replayed
        event_add_nolock(base, ev, run_at, True, True)
    return 0


cdef int persist_closure(EventBase base, Event ev) except -1:
    """event_persist_closure: re-arm, then run the callback."""
    persist_rearm(base, ev)
    return call_event_cb(base, ev, ev.fd, ev.res)


cdef int signal_closure(EventBase base, Event ev) except -1:
    """event_signal_closure: run the callback once per delivery; deleting
    the event (or loopbreak) stops the remaining calls."""
    cdef int ncalls = ev.ncalls
    if ncalls != 0:
        ev.pncalls = &ncalls
    while ncalls:
        ncalls -= 1
        ev.ncalls = ncalls
        if ncalls == 0:
            ev.pncalls = NULL
        call_event_cb(base, ev, ev.fd, ev.res)
        if base.event_break or base.exc_break or base.freed:
            if ncalls != 0:
                ev.pncalls = NULL
            return 0
    ev.pncalls = NULL
    return 0


cdef int process_queue(EventBase base, int pri, int max_to_process,
                       int64_t endtime) except -2:
    """event_process_active_single_queue.  Returns the number of non-internal
    callbacks run, or -1 if loopbreak (or an exception) stopped the pass."""
    cdef int count = 0
    cdef Event ev
    cdef int closure
    while pri < base.nqueues and base.queues[pri].head is not NULL:
        ev = <Event>base.queues[pri].head
        if ev.events & C_EV_PERSIST or ev.flags & C_EVLIST_FINALIZING:
            queue_remove_active(base, ev)
        else:
            event_del_nolock(base, ev, False)
        if not (ev.flags & C_EVLIST_INTERNAL):
            count += 1
        base.current_event = ev
        closure = ev.closure
        if closure == CLOSURE_EVENT_PERSIST:
            persist_closure(base, ev)
        elif closure == CLOSURE_EVENT:
            call_event_cb(base, ev, ev.fd, ev.res)
        elif closure == CLOSURE_EVENT_SIGNAL:
            signal_closure(base, ev)
        elif closure == CLOSURE_CUSTOM:
            try:
                if ev.events & C_EV_PERSIST:
                    persist_rearm(base, ev)
                ev._run_custom()
            except BaseException as exc:
                handle_exception(base, ev, exc)
        else:
            finalizer = ev.finalizer
            ev.finalizer = None
            try:
                finalizer(ev, ev if ev.self_arg else ev.cb_arg)
            except BaseException as exc:
                handle_exception(base, ev, exc)
            if closure == CLOSURE_EVENT_FINALIZE_FREE:
                ev.freed = True
            ev.callback = None
            ev.cb_arg = None
        base.current_event = None
        if base.event_break or base.exc_break or base.freed:
            return -1
        if count >= max_to_process:
            return count
        if count and endtime >= 0:
            update_time_cache(base)
            if gettime(base) >= endtime:
                return count
        if base.event_continue:
            break
    return count


cdef int process_active(EventBase base) except -2:
    """event_process_active: run the most urgent non-empty queue (a queue
    that ran only internal callbacks lets the next one run too)."""
    cdef int i, c = 0
    cdef int64_t endtime = -1
    cdef int maxcb = base.max_callbacks
    cdef int limit_after_prio = base.limit_after_prio
    if base.max_interval_ns >= 0:
        update_time_cache(base)
        endtime = gettime(base) + base.max_interval_ns
    i = 0
    while i < base.nqueues:
        if base.queues[i].head is not NULL:
            base.running_priority = i
            if i < limit_after_prio:
                c = process_queue(base, i, INT_MAX, -1)
            else:
                c = process_queue(base, i, maxcb, endtime)
            if c != 0:
                break
        i += 1
    base.running_priority = -1
    return c


cdef int base_loop(EventBase base, int flags) except -2:
    cdef int retval = 0
    cdef bint done = False
    cdef int64_t tv
    cdef int n
    if base.freed:
        raise RuntimeError("cannot run the loop: the EventBase was freed")
    if base.running_loop:
        raise RuntimeError("EventBase.loop() is already running (re-entrant call)")
    base.running_loop = True
    base.owner_thread = <long>PyThread_get_thread_ident()
    base.tv_cache_ns = 0
    base.event_gotterm = base.event_break = False
    try:
        while not done:
            base.event_continue = False
            base.n_deferreds_queued = 0
            # 1. asked to stop?
            if base.event_gotterm or base.event_break or base.exc_break or base.freed:
                break
            # 2. how long may the backend wait?
            if base.event_count_active == 0 and not (flags & C_EVLOOP_NONBLOCK):
                tv = timeout_next(base)
            else:
                tv = 0
            # 3. nothing to wait for?
            if not (flags & C_EVLOOP_NO_EXIT_ON_EMPTY) and not have_events(base) \
                    and base.event_count_active == 0:
                retval = 1
                break
            # 4. last pass's "run next time" callbacks become active
            make_later_active(base)
            # 5. poll
            base.tv_cache_ns = 0
            base.backend.dispatch(base, tv)
            # 6. timers
            update_time_cache(base)
            timeout_process(base)
            # 7. callbacks
            if base.event_count_active:
                n = process_active(base)
                # 8. loop flags
                if (flags & C_EVLOOP_ONCE) and base.event_count_active == 0 and n != 0:
                    done = True
            elif flags & C_EVLOOP_NONBLOCK:
                done = True
    finally:
        base.tv_cache_ns = 0
        base.running_loop = False
        base.current_event = None
        base.running_priority = -1
        if base.free_pending:
            base_teardown(base, True)
    if base.exc is not None:
        exc = base.exc
        base.exc = None
        base.exc_break = False
        raise exc
    base.exc_break = False
    return retval


cdef int base_owned_by_loop(EventBase base) except -1:
    """free() is refused while an asyncio loop (evloop.EventLoop) is built
    on the base: the loop's transports, self-pipe, signal handlers and
    executor live on it, and a loop whose engine vanished under it would
    still look open and accept call_soon.  asyncio users close loops, not
    their selectors; loop.close() frees the base."""
    if base.aio_loop != NULL:
        raise RuntimeError("this EventBase belongs to an asyncio event loop: "
                           "close the loop (loop.close()), which frees the base")
    return 0


cdef int base_teardown(EventBase base, bint run_finalizers) except -1:
    """event_base_free: delete every event (running pending finalizers
    first), close the backend, give signals back.

    A finalizer's exception is a callback's exception: it goes to the
    exception handler, or else is kept in base.exc (the first one) for the
    caller to raise once the teardown is complete -- free() raises it, and
    loop() when free() was called from a callback.  The teardown itself
    always completes."""
    cdef Event ev
    base.free_pending = False
    if run_finalizers:
        for ev in list(base.pinned):
            if ev.flags & C_EVLIST_FINALIZING and ev.finalizer is not None:
                fin = ev.finalizer
                ev.finalizer = None
                try:
                    fin(ev, ev if ev.self_arg else ev.cb_arg)
                except BaseException as exc:
                    handle_exception(base, ev, exc)
                # As when the loop runs it (process_queue).
                if ev.closure == CLOSURE_EVENT_FINALIZE_FREE:
                    ev.freed = True
                ev.callback = None
                ev.cb_arg = None
    for ev in list(base.pinned):
        event_del_nolock(base, ev, True)
    base.pinned.clear()
    base.notify_ev = None
    base.sig_ev = None
    if base.nsig_events or base.sig_sock_r is not None:
        base.nsig_events = 0
        sig_release(base)
    base.backend.close()
    if base.notify_fd >= 0:
        close(base.notify_fd)
        base.notify_fd = -1
    base.exc_handler = None
    return 0


cdef int base_make_notifiable(EventBase base) except -1:
    """evthread_make_base_notifiable: an eventfd whose read event wakes
    the backend when another thread changes the base."""
    cdef int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)
    cdef Event ev
    if fd == -1:
        raise OSError(errno, f"eventfd: {_os.strerror(errno)}")
    base.notify_fd = fd
    ev = Event.__new__(Event)
    event_assign_internal(ev, base, fd, C_EV_READ | C_EV_PERSIST, base._notify_cb)
    event_add_nolock(base, ev, 0, False, False)
    base.notify_ev = ev
    return 0


cdef class EventBase:
    """event_base: a loop dispatching events over one backend.

    ``EventBase(config=None)`` is event_base_new_with_config(): it picks
    the fastest backend that ``config`` and the environment allow
    (EVENT_NOEPOLL / EVENT_NOPOLL / EVENT_NOSELECT, EVENT_SHOW_METHOD,
    EVENT_PRECISE_TIMER; all ignored with EVENT_BASE_FLAG_IGNORE_ENV).

    Raises OSError if no backend qualifies (libevent returns NULL).  Use it
    as a context manager, or call free(), to release its descriptors.

    Differences from libevent: errors raise instead of returning -1 (see
    evloop.compat for the 0/-1 functions); timers always use
    CLOCK_MONOTONIC with nanosecond deadlines (PRECISE_TIMER is always on);
    timers with equal deadlines fire in the order they were added; an
    exception raised by a callback stops the loop after that callback and
    propagates from loop() unless set_exception_handler() was used.
    """

    def __cinit__(self):
        self.io_map = NULL
        self.sig_map = NULL
        self.queues = NULL
        self.heap = NULL
        self.notify_fd = -1
        self.pinned = set()
        self.sig_old_handlers = {}
        self.common_timeouts = []
        self.running_priority = -1
        self.freed = True          # until __init__ succeeds

    def __init__(self, EventConfig config=None):
        global any_base_created
        cdef int flags = config.flags if config is not None else 0
        if self.backend is not None:
            # Once a backend was chosen the base owns descriptors and C
            # memory; a second __init__ (also after free(), which keeps the
            # freed structures until the object dies) would leak them and
            # revive a base whose events were all deleted.  Only a base whose
            # first __init__ failed before choosing a backend (no state yet)
            # may be initialised again.
            raise RuntimeError("EventBase.__init__ called twice: make a new EventBase")
        if not (flags & C_FLAG_IGNORE_ENV) and "EVENT_PRECISE_TIMER" in _os.environ:
            flags |= C_FLAG_PRECISE_TIMER
        self.flags = flags
        self.backend = choose_backend(config)
        any_base_created = True
        self.queues = <ActiveQueue *>calloc(1, sizeof(ActiveQueue))
        if self.queues is NULL:
            raise MemoryError()
        self.nqueues = 1
        if config is not None:
            # libevent copies both from any config (event_base_new_with_config).
            self.max_interval_ns = config.max_interval_ns
            self.limit_after_prio = config.min_priority
        else:
            self.max_interval_ns = -1
            self.limit_after_prio = 1
        if config is not None and config.max_callbacks >= 0:
            self.max_callbacks = config.max_callbacks
        else:
            self.max_callbacks = INT_MAX
        if self.max_callbacks == INT_MAX and self.max_interval_ns < 0:
            self.limit_after_prio = INT_MAX
        self.weakref_self = _weakref.ref(self)
        self.freed = False
        base_make_notifiable(self)

    def _notify_cb(self, fd, what, arg):
        cdef uint64_t value
        read(self.notify_fd, &value, sizeof(value))
        self.notify_pending = False

    def _signal_cb(self, fd, what, arg):
        """Read the signal numbers the wakeup fd received; activate each
        signal's events with ncalls = number of deliveries."""
        cdef int counts[65]
        cdef int i
        memset(counts, 0, sizeof(counts))
        sock = self.sig_sock_r
        if sock is None:
            return
        while True:
            try:
                data = sock.recv(1024)
            except (BlockingIOError, InterruptedError):
                break
            if not data:
                break
            for b in data:
                if 0 < b < NSIG_MAX:
                    counts[b] += 1
        for i in range(1, NSIG_MAX):
            if counts[i]:
                evmap_signal_active(self, i, counts[i])

    def __dealloc__(self):
        # No Python-level teardown of events here: they may already be gone
        # (cyclic garbage).  Close what the base owns.
        global sig_owner
        cdef int fd
        if self.backend is not None:
            self.backend.close()
        if self.notify_fd >= 0:
            close(self.notify_fd)
            self.notify_fd = -1
        if sig_owner == <PyObject *>self:
            sig_owner = NULL
            try:
                for sig, old in self.sig_old_handlers.items():
                    _signal.signal(sig, old if old is not None else _signal.SIG_DFL)
                if self.sig_sock_r is not None:
                    old = self.sig_old_wakeup
                    _signal.set_wakeup_fd(old if old is not None else -1)
                    self.sig_sock_r.close()
                    self.sig_sock_w.close()
            except BaseException:
                pass
        c_free(self.io_map)
        c_free(self.sig_map)
        c_free(self.queues)
        c_free(self.heap)
        self.io_map = self.sig_map = NULL
        self.queues = NULL
        self.heap = NULL

    cdef int _check(self, str what) except -1:
        if self.freed:
            raise RuntimeError(f"cannot {what}: the EventBase was freed")
        return 0

    # -- lifecycle ---------------------------------------------------------

    def free(self):
        """event_base_free: run pending finalizers, delete every event,
        close the backend and the wake-up fd, give signals back.  Inside a
        callback the teardown happens when loop() returns.  Idempotent.
        RuntimeError for the base of an open asyncio loop (see
        base_owned_by_loop).

        A finalizer that raises is reported like a callback that raises:
        to the exception handler if one is set, else the (first) exception
        propagates from free() -- or from loop(), when free() was called
        from a callback -- after the teardown completed."""
        if self.freed:
            return
        base_owned_by_loop(self)
        self.freed = True
        if self.running_loop:
            self.free_pending = True
            return
        base_teardown(self, True)
        self._raise_teardown_exc()

    cdef int _raise_teardown_exc(self) except -1:
        exc = self.exc
        self.exc = None
        self.exc_break = False
        if exc is not None:
            raise exc
        return 0

    def free_nofinalize(self):
        """event_base_free_nofinalize: free() without running finalizers."""
        if self.freed:
            return
        base_owned_by_loop(self)
        self.freed = True
        if self.running_loop:
            self.free_pending = True
            return
        base_teardown(self, False)

    @property
    def closed(self):
        return self.freed

    def __enter__(self):
        self._check("enter the context")
        return self

    def __exit__(self, *exc):
        self.free()

    # -- backend -----------------------------------------------------------

    cdef Backend _backend(self):
        if self.backend is None:
            raise RuntimeError("the EventBase was never initialised (EventBase.__new__ "
                               "without __init__)")
        return self.backend

    def get_method(self):
        """event_base_get_method: 'epoll', 'poll' or 'select'."""
        return self._backend().name

    @property
    def method(self):
        return self._backend().name

    def get_features(self):
        """event_base_get_features: EV_FEATURE_* bits of the backend."""
        return self._backend().features

    def reinit(self):
        """event_reinit: after os.fork(), give the base kernel objects of
        its own (a new epoll instance, wake-up fd and signal socketpair) and
        register every inserted event again."""
        cdef Backend nb, old_backend
        self._check("reinit")
        if self.running_loop:
            raise RuntimeError("cannot reinit while the loop runs")
        if self.backend.need_reinit:
            # After fork() the epoll instance is still the parent's too:
            # deleting the internal events from it would delete the
            # parent's registrations of its wake-up fd and signal socket
            # (the kernel keys them by open file, which both processes
            # share), and the parent would silently stop waking up.
            # libevent's event_reinit sets base->evsel to nil_eventop while
            # it deletes them; here the new backend takes over first, so
            # the deletions reach a fresh, empty instance instead.
            nb = new_backend(self.backend.name)
            nb.init()
            old_backend = self.backend
            self.backend = nb
            old_backend.close()
        # Detach the internal events from the old descriptors first.
        if self.notify_ev is not None:
            event_del_nolock(self, self.notify_ev, True)
            self.notify_ev = None
        if self.notify_fd >= 0:
            close(self.notify_fd)
            self.notify_fd = -1
        had_signals = self.sig_sock_r is not None
        if had_signals:
            event_del_nolock(self, self.sig_ev, True)
            self.sig_ev = None
            self.sig_sock_r.close()
            self.sig_sock_w.close()
            self.sig_sock_r = self.sig_sock_w = None
        evmap_reinit(self)
        self.notify_pending = False
        base_make_notifiable(self)
        if had_signals:
            old_wakeup = self.sig_old_wakeup
            sig_claim(self)
            self.sig_old_wakeup = old_wakeup

    # -- the loop ----------------------------------------------------------

    def dispatch(self):
        """event_base_dispatch: loop(0)."""
        return base_loop(self, 0)

    def loop(self, flags=0):
        """event_base_loop(flags): 0 when it ended normally, 1 when no
        events were registered.  RuntimeError if re-entered or freed;
        OSError if the backend fails; a callback's exception propagates
        (see set_exception_handler)."""
        if not isinstance(flags, int) or isinstance(flags, bool):
            raise TypeError(f"flags must be an int of EVLOOP_* bits, not {type(flags).__name__}")
        if flags & ~(C_EVLOOP_ONCE | C_EVLOOP_NONBLOCK | C_EVLOOP_NO_EXIT_ON_EMPTY) or flags < 0:
            raise ValueError(f"flags: unknown EVLOOP_* bits in {flags:#x}")
        return base_loop(self, flags)

    def loopexit(self, timeout=None):
        """event_base_loopexit: stop after the pass in which ``timeout``
        expires (None: this pass).  It is a real one-shot event, so it also
        stops a loop that starts later."""
        self._check("loopexit")
        self.once(-1, C_EV_TIMEOUT, _loopexit_cb, self, timeout)

    def loopbreak(self):
        """event_base_loopbreak: stop right after the running callback.
        Lost if the loop is not running (the flag is reset on entry)."""
        self._check("loopbreak")
        self.event_break = True
        if self.running_loop:
            base_notify(self)

    def loopcontinue(self):
        """event_base_loopcontinue: end this pass after the running
        callback and poll again."""
        self._check("loopcontinue")
        self.event_continue = True

    def got_exit(self):
        """event_base_got_exit."""
        return bool(self.event_gotterm)

    def got_break(self):
        """event_base_got_break."""
        return bool(self.event_break)

    def set_exception_handler(self, handler):
        """Route exceptions of callbacks to handler(base, event, exc) and
        keep looping; None restores the default (stop and propagate).
        KeyboardInterrupt and SystemExit always propagate."""
        self._check("set the exception handler")
        if handler is not None and not callable(handler):
            raise TypeError(f"handler must be callable or None, not {type(handler).__name__}")
        self.exc_handler = handler

    # -- priorities --------------------------------------------------------

    def priority_init(self, npriorities):
        """event_base_priority_init: ValueError unless 1 <= n <= 255;
        RuntimeError while callbacks are active."""
        cdef ActiveQueue *q
        self._check("init priorities")
        if not isinstance(npriorities, int) or isinstance(npriorities, bool):
            raise TypeError(f"npriorities must be an int, not {type(npriorities).__name__}")
        if npriorities < 1 or npriorities >= C_MAX_PRIORITIES:
            raise ValueError(f"npriorities must be in 1..{C_MAX_PRIORITIES - 1}, got {npriorities}")
        if self.event_count_active:
            raise RuntimeError("cannot change the number of priorities while callbacks are active")
        if npriorities == self.nqueues:
            return
        q = <ActiveQueue *>calloc(npriorities, sizeof(ActiveQueue))
        if q is NULL:
            raise MemoryError()
        c_free(self.queues)
        self.queues = q
        self.nqueues = npriorities

    def get_npriorities(self):
        """event_base_get_npriorities."""
        return self.nqueues

    # -- time --------------------------------------------------------------

    def gettimeofday_cached(self):
        """event_base_gettimeofday_cached: wall-clock seconds, from the
        cache while the loop runs."""
        self._check("read the time")
        if self.tv_cache_ns:
            return (self.tv_cache_ns + self.clock_diff_ns) / 1e9
        return real_ns() / 1e9

    def update_cache_time(self):
        """event_base_update_cache_time: refresh the cache (only while the
        loop runs, as libevent)."""
        self._check("update the time cache")
        if self.running_loop:
            update_time_cache(self)

    def time(self):
        """The base's monotonic now in seconds (cached while running)."""
        return gettime(self) / 1e9

    def init_common_timeout(self, duration):
        """event_base_init_common_timeout: a token standing for
        ``duration``; the same duration gives the same token."""
        cdef int64_t ns
        cdef CommonTimeout tok
        self._check("init a common timeout")
        if isinstance(duration, CommonTimeout):
            raise TypeError("duration must be seconds or a (sec, usec) tuple, not a CommonTimeout")
        ns = timeout_to_ns(self, duration, "duration")
        if ns == -2:
            raise TypeError("duration must not be None")
        for tok in self.common_timeouts:
            if tok.duration_ns == ns:
                return tok
        if len(self.common_timeouts) >= 256:
            raise RuntimeError("too many common timeouts (libevent allows 256 per base)")
        tok = CommonTimeout.__new__(CommonTimeout)
        tok.base_ref = self.weakref_self
        tok.duration_ns = ns
        tok.index = len(self.common_timeouts)
        tev = CommonTimeoutEvent.__new__(CommonTimeoutEvent)
        event_assign_internal(tev, self, -1, 0, _noop_event_cb)
        (<CommonTimeoutEvent>tev).closure = CLOSURE_CUSTOM
        (<CommonTimeoutEvent>tev).pri = 0
        (<CommonTimeoutEvent>tev).tok = tok
        tok.timer_ev = tev
        self.common_timeouts.append(tok)
        return tok

    # -- one-shot events ---------------------------------------------------

    def once(self, fd, what, callback, arg=None, timeout=None):
        """event_base_once: run callback(fd, what, arg) once.  A pure
        timeout with no (or a zero) timeout is activated at once, in call
        order.  ValueError for EV_SIGNAL or EV_PERSIST."""
        cdef Event ev
        cdef int64_t ns
        cdef int events
        self._check("schedule a one-shot event")
        if not isinstance(what, int) or isinstance(what, bool):
            raise TypeError(f"what must be an int of EV_* flags, not {type(what).__name__}")
        if what < 0 or what & ~C_EV_ALL:
            raise ValueError(f"what: unknown EV_* flag bits in {what:#x}")
        if what & (C_EV_SIGNAL | C_EV_PERSIST):
            raise ValueError("what: once() cannot take EV_SIGNAL or EV_PERSIST")
        events = what
        ns = timeout_to_ns(self, timeout, "timeout")
        if (events & (C_EV_TIMEOUT | C_EV_IO)) == C_EV_TIMEOUT:
            ev = Event(self, -1, 0, callback, arg)
            if ns == -2 or (ns == 0 and not isinstance(timeout, CommonTimeout)):
                event_active_nolock(self, ev, C_EV_TIMEOUT, 1)
                return
        elif events & C_EV_IO:
            ev = Event(self, fd, events & C_EV_IO, callback, arg)
        else:
            raise ValueError("what: once() needs EV_TIMEOUT or EV_READ/EV_WRITE/EV_CLOSED")
        if isinstance(timeout, CommonTimeout):
            ev.common = timeout
        if ns == -2:
            event_add_nolock(self, ev, 0, False, False)
        else:
            event_add_nolock(self, ev, ns, True, False)

    # -- introspection -----------------------------------------------------

    def _visit(self):
        """Events in event_base_foreach_event's order: inserted (by fd, then
        by signal), timer-only from the heap, active-only."""
        cdef list out = []
        cdef int i
        cdef PyObject *p
        cdef Event ev
        for i in range(self.io_map_size):
            p = self.io_map[i].head
            while p is not NULL:
                ev = <Event>p
                if ev is not self.notify_ev:
                    out.append(ev)
                p = ev.io_next
        if self.sig_map is not NULL:
            for i in range(NSIG_MAX):
                p = self.sig_map[i].head
                while p is not NULL:
                    ev = <Event>p
                    out.append(ev)
                    p = ev.io_next
        for i in range(self.heap_n):
            ev = <Event>self.heap[i]
            if not (ev.flags & C_EVLIST_INSERTED) and not isinstance(ev, CommonTimeoutEvent):
                out.append(ev)
        for tok in self.common_timeouts:
            p = (<CommonTimeout>tok).head
            while p is not NULL:
                ev = <Event>p
                if not (ev.flags & C_EVLIST_INSERTED):
                    out.append(ev)
                p = ev.ct_next
        for i in range(self.nqueues):
            p = self.queues[i].head
            while p is not NULL:
                ev = <Event>p
                if not (ev.flags & (C_EVLIST_INSERTED | C_EVLIST_TIMEOUT)):
                    out.append(ev)
                p = ev.act_next
        return out

    def _validate(self):
        """Check the invariants of the base's C structures; AssertionError
        (raised explicitly, so also under -O) naming the first one broken.
        The tests call it after every step (libevent's regress tests call
        event_base_assert_ok_ the same way): every pointer in the timer
        heap, the common-timeout lists, the active queues and the evmap is
        an event of this base that is pinned and whose state bits say it
        is there, exactly once; the heap is ordered; the counters match."""
        cdef Py_ssize_t i
        cdef int fd, q, nread, nwrite, nclose, nyield, nsig
        cdef int n_timeout = 0, n_active = 0, n_io = 0, n_sig = 0, n_count = 0
        cdef PyObject *p
        cdef PyObject *prevp
        cdef Event ev
        cdef CommonTimeout tok
        cdef EvmapEntry *ent
        if self.backend is None:
            return              # never initialised: nothing was allocated
        pinned = self.pinned

        def check_pinned(Event e, str where):
            if e.base is not self:
                raise AssertionError(f"{where}: {e!r} belongs to another base")
            if e not in pinned:
                raise AssertionError(f"{where}: {e!r} is not pinned (nothing keeps it alive)")

        # the timer heap
        if self.heap_n < 0 or self.heap_n > self.heap_cap:
            raise AssertionError(f"heap_n {self.heap_n} out of 0..{self.heap_cap}")
        for i in range(self.heap_n):
            if self.heap[i] is NULL:
                raise AssertionError(f"heap[{i}] is NULL")
            ev = <Event>self.heap[i]
            check_pinned(ev, f"heap[{i}]")
            if ev.heap_idx != i:
                raise AssertionError(f"heap[{i}]: {ev!r} has heap_idx {ev.heap_idx}")
            if not (ev.flags & C_EVLIST_TIMEOUT):
                raise AssertionError(f"heap[{i}]: {ev!r} is in the heap without EVLIST_TIMEOUT")
            if ev.ct_in is not None:
                raise AssertionError(f"heap[{i}]: {ev!r} is also in a common-timeout list")
            if i and heap_greater(self.heap[(i - 1) // 2], self.heap[i]):
                raise AssertionError(f"heap order broken at {i}")
            n_timeout += 1
        # the common-timeout lists
        for tok in self.common_timeouts:
            p = tok.head
            prevp = NULL
            while p is not NULL:
                ev = <Event>p
                check_pinned(ev, f"common timeout {tok!r}")
                if ev.ct_in is not tok or ev.ct_prev != prevp:
                    raise AssertionError(f"common timeout {tok!r}: broken links at {ev!r}")
                if ev.heap_idx != -1 or not (ev.flags & C_EVLIST_TIMEOUT):
                    raise AssertionError(f"common timeout {tok!r}: {ev!r} has the wrong state")
                if prevp is not NULL and (<Event>prevp).timeout_ns > ev.timeout_ns:
                    raise AssertionError(f"common timeout {tok!r}: deadlines out of order")
                n_timeout += 1
                prevp = p
                p = ev.ct_next
            if tok.tail != prevp:
                raise AssertionError(f"common timeout {tok!r}: tail is not the last event")
        # the active queues and the "next pass" queue
        for q in range(self.nqueues + 1):
            p = self.queues[q].head if q < self.nqueues else self.later.head
            prevp = NULL
            while p is not NULL:
                ev = <Event>p
                check_pinned(ev, f"active queue {q}")
                if ev.act_prev != prevp:
                    raise AssertionError(f"active queue {q}: broken links at {ev!r}")
                if q < self.nqueues:
                    if not (ev.flags & C_EVLIST_ACTIVE) or ev.flags & C_EVLIST_ACTIVE_LATER \
                            or ev.pri != q:
                        raise AssertionError(f"active queue {q}: {ev!r} has the wrong state")
                elif not (ev.flags & C_EVLIST_ACTIVE_LATER) or ev.flags & C_EVLIST_ACTIVE:
                    raise AssertionError(f"later queue: {ev!r} has the wrong state")
                n_active += 1
                prevp = p
                p = ev.act_next
            if (self.queues[q].tail if q < self.nqueues else self.later.tail) != prevp:
                raise AssertionError(f"active queue {q}: tail is not the last event")
        if n_active != self.event_count_active:
            raise AssertionError(f"{n_active} events in the active queues, "
                                 f"event_count_active is {self.event_count_active}")
        # the evmap: fds, then signals
        for fd in range(self.io_map_size + NSIG_MAX):
            if fd < self.io_map_size:
                ent = &self.io_map[fd]
            elif self.sig_map is not NULL:
                ent = &self.sig_map[fd - self.io_map_size]
            else:
                break
            p = ent.head
            prevp = NULL
            nread = nwrite = nclose = nyield = nsig = 0
            while p is not NULL:
                ev = <Event>p
                check_pinned(ev, f"evmap slot {fd}")
                if ev.io_prev != prevp or not (ev.flags & C_EVLIST_INSERTED):
                    raise AssertionError(f"evmap slot {fd}: {ev!r} has the wrong state or links")
                if fd < self.io_map_size:
                    if ev.fd != fd or not (ev.events & C_EV_IO):
                        raise AssertionError(f"io_map[{fd}] holds {ev!r}")
                    nread += (ev.events & C_EV_READ) != 0
                    nwrite += (ev.events & C_EV_WRITE) != 0
                    nclose += (ev.events & C_EV_CLOSED) != 0
                    nyield += ev.fd_yield
                    n_io += 1
                else:
                    if ev.fd != fd - self.io_map_size or not (ev.events & C_EV_SIGNAL):
                        raise AssertionError(f"sig_map[{fd - self.io_map_size}] holds {ev!r}")
                    nsig += 1
                    n_sig += 1
                prevp = p
                p = ev.io_next
            if (nread, nwrite, nclose, nyield, nsig) != (ent.nread, ent.nwrite, ent.nclose,
                                                         ent.nyield, ent.nsig):
                raise AssertionError(f"evmap slot {fd}: counts {(ent.nread, ent.nwrite, ent.nclose, ent.nyield, ent.nsig)} "
                                     f"but {(nread, nwrite, nclose, nyield, nsig)} events")
        if n_sig != self.nsig_events:
            raise AssertionError(f"{n_sig} signal events in the map, nsig_events is {self.nsig_events}")
        # every pinned event is somewhere, and only where its bits say
        want_timeout = want_active = want_io = want_sig = 0
        for ev in pinned:
            if not (ev.flags & C_EVLIST_HELD):
                raise AssertionError(f"{ev!r} is pinned but neither pending nor active")
            if ev.base is not self:
                raise AssertionError(f"{ev!r} is pinned by another base")
            want_timeout += (ev.flags & C_EVLIST_TIMEOUT) != 0
            want_active += (ev.flags & (C_EVLIST_ACTIVE | C_EVLIST_ACTIVE_LATER)) != 0
            if ev.flags & C_EVLIST_INSERTED:
                if ev.events & C_EV_IO:
                    want_io += 1
                else:
                    want_sig += 1
            if not (ev.flags & C_EVLIST_INTERNAL):
                n_count += ((ev.flags & C_EVLIST_TIMEOUT) != 0) + \
                    ((ev.flags & C_EVLIST_INSERTED) != 0) + \
                    ((ev.flags & (C_EVLIST_ACTIVE | C_EVLIST_ACTIVE_LATER)) != 0)
        found = (n_timeout, n_active, n_io, n_sig)
        wanted = (want_timeout, want_active, want_io, want_sig)
        if found != wanted:
            raise AssertionError(f"(timers, active, fd, signal) events: {found} in the structures, "
                                 f"{wanted} by their state bits")
        if n_count != self.event_count:
            raise AssertionError(f"event_count is {self.event_count}, the events count {n_count}")

    def foreach_event(self, fn, arg=None):
        """event_base_foreach_event: fn(base, event, arg) for every event;
        a truthy return stops the walk and is returned (else 0)."""
        self._check("walk the events")
        if not callable(fn):
            raise TypeError(f"fn must be callable, not {type(fn).__name__}")
        for ev in self._visit():
            try:
                r = fn(self, ev, arg)
            except BaseException as exc:
                mark_callback_exception(exc)
                raise
            if r:
                return r
        return 0

    def dump_events(self, file=None):
        """event_base_dump_events: libevent's listing, written to ``file``
        (sys.stdout if None).  Like libevent's, the format is for people and
        may change."""
        cdef Event e
        self._check("dump events")
        if file is None:
            file = _sys2.stdout
        lines = ["Inserted events:"]
        events = self._visit()
        for e in events:
            if not (e.flags & (C_EVLIST_INSERTED | C_EVLIST_TIMEOUT)):
                continue
            gloss = "sig" if e.events & C_EV_SIGNAL else "fd "
            s = (f"  {id(e):#x} [{gloss} {e.fd}]"
                 f"{' Read' if e.events & C_EV_READ else ''}"
                 f"{' Write' if e.events & C_EV_WRITE else ''}"
                 f"{' EOF' if e.events & C_EV_CLOSED else ''}"
                 f"{' Signal' if e.events & C_EV_SIGNAL else ''}"
                 f"{' Persist' if e.events & C_EV_PERSIST else ''}"
                 f"{' ET' if e.events & C_EV_ET else ''}"
                 f"{' Internal' if e.flags & C_EVLIST_INTERNAL else ''}")
            if e.flags & C_EVLIST_TIMEOUT:
                s += f" Timeout={base_wall(self, e.timeout_ns):.6f}"
            lines.append(s)
        lines.append("Active events:")
        for e in events:
            if not (e.flags & (C_EVLIST_ACTIVE | C_EVLIST_ACTIVE_LATER)):
                continue
            gloss = "sig" if e.events & C_EV_SIGNAL else "fd "
            lines.append(
                f"  {id(e):#x} [{gloss} {e.fd}, priority={e.pri}]"
                f"{' Read' if e.res & C_EV_READ else ''}"
                f"{' Write' if e.res & C_EV_WRITE else ''}"
                f"{' EOF' if e.res & C_EV_CLOSED else ''}"
                f"{' Signal' if e.res & C_EV_SIGNAL else ''}"
                f"{' Timeout' if e.res & C_EV_TIMEOUT else ''} active"
                f"{' [Internal]' if e.flags & C_EVLIST_INTERNAL else ''}"
                f"{' [NextTime]' if e.flags & C_EVLIST_ACTIVE_LATER else ''}")
        file.write("\n".join(lines) + "\n")

    def get_num_events(self, flags):
        """event_base_get_num_events(flags): the sum of the counts asked
        for (EVENT_BASE_COUNT_ACTIVE / VIRTUAL / ADDED)."""
        self._check("count events")
        if not isinstance(flags, int) or isinstance(flags, bool):
            raise TypeError(f"flags must be an int, not {type(flags).__name__}")
        if flags < 0 or flags & ~(C_COUNT_ACTIVE | C_COUNT_VIRTUAL | C_COUNT_ADDED):
            raise ValueError(f"flags: unknown EVENT_BASE_COUNT_* bits in {flags:#x}")
        r = 0
        if flags & C_COUNT_ACTIVE:
            r += self.event_count_active
        if flags & C_COUNT_VIRTUAL:
            r += self.virtual_event_count
        if flags & C_COUNT_ADDED:
            r += self.event_count
        return r

    def get_max_events(self, flags, clear=False):
        """event_base_get_max_events(flags, clear)."""
        self._check("count events")
        if not isinstance(flags, int) or isinstance(flags, bool):
            raise TypeError(f"flags must be an int, not {type(flags).__name__}")
        if flags < 0 or flags & ~(C_COUNT_ACTIVE | C_COUNT_VIRTUAL | C_COUNT_ADDED):
            raise ValueError(f"flags: unknown EVENT_BASE_COUNT_* bits in {flags:#x}")
        r = 0
        if flags & C_COUNT_ACTIVE:
            r += self.event_count_active_max
            if clear:
                self.event_count_active_max = 0
        if flags & C_COUNT_VIRTUAL:
            r += self.virtual_event_count_max
            if clear:
                self.virtual_event_count_max = 0
        if flags & C_COUNT_ADDED:
            r += self.event_count_max
            if clear:
                self.event_count_max = 0
        return r

    def get_running_event(self):
        """event_base_get_running_event: the event whose callback is
        running, or None."""
        return self.current_event

    def active_by_fd(self, fd, events):
        """event_base_active_by_fd: activate the events pending on fd for
        ``events``, as if the backend had reported them."""
        cdef int ifd
        self._check("activate by fd")
        ifd = fd_of(fd, "fd")
        if not isinstance(events, int) or isinstance(events, bool):
            raise TypeError(f"events must be an int of EV_* flags, not {type(events).__name__}")
        if events < 0 or events & ~C_EV_ALL:
            raise ValueError(f"events: unknown EV_* flag bits in {events:#x}")
        evmap_io_active(self, ifd, events & (C_EV_IO | C_EV_ET))

    def active_by_signal(self, sig):
        """event_base_active_by_signal: activate the events pending on
        signal ``sig``."""
        self._check("activate by signal")
        if not isinstance(sig, int) or isinstance(sig, bool):
            raise TypeError(f"sig must be an int, not {type(sig).__name__}")
        if sig < 1 or sig >= NSIG_MAX:
            raise ValueError(f"sig must be a signal number in 1..{NSIG_MAX - 1}, got {sig}")
        evmap_signal_active(self, sig, 1)

    def __repr__(self):
        if self.backend is None:
            state = "not initialised"
        else:
            state = "freed" if self.freed else self.backend.name
        return f"<evloop.EventBase {state} events={self.event_count}>"


def _noop_event_cb(fd, what, arg):
    pass


def _loopexit_cb(fd, what, base):
    (<EventBase>base).event_gotterm = True
