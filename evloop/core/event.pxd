# Declarations of the libevent core's objects: EventConfig, CommonTimeout,
# Backend (the table of backend operations), Event and EventBase.
# Every field is commented; the implementations are in core/*.pyx.

cimport cython
from cpython.ref cimport PyObject
from libc.stdint cimport int64_t, uint16_t, uint64_t

cdef class EventBase
cdef class Event


cdef struct ActiveQueue:
    # A FIFO of Events (borrowed pointers, intrusive links act_next/act_prev).
    PyObject *head
    PyObject *tail


cdef struct EvmapEntry:
    # The events watching one fd or one signal (libevent's evmap_io /
    # evmap_signal): a head-inserted doubly linked list through
    # Event.io_next/io_prev, and how many of them want each direction.
    PyObject *head
    uint16_t nread
    uint16_t nwrite
    uint16_t nclose
    uint16_t nsig
    uint16_t et       # EV_ET if the backend watches the fd edge-triggered
    uint16_t nyield   # events with Event.fd_yield set (evmap_io_claim)


cdef class EventConfig:
    cdef list avoided            # method names never to pick
    cdef int features            # EV_FEATURE_* the backend must have
    cdef int flags               # EVENT_BASE_FLAG_*
    cdef int64_t max_interval_ns # max_dispatch_interval time, -1 = unlimited
    cdef int max_callbacks       # max callbacks per pass, -1 = unlimited
    cdef int min_priority        # limits apply to queues >= this priority


cdef class CommonTimeout:
    # libevent's struct common_timeout_list: a FIFO of the events whose
    # deadline is now + duration, and one internal priority-0 timer set to
    # the deadline of the first.
    cdef object base_ref         # weakref to the EventBase that made it
    cdef int64_t duration_ns     # the duration it stands for
    cdef int index               # its number in that base (0..255)
    cdef PyObject *head          # first event of the list (borrowed: pinned)
    cdef PyObject *tail          # last event
    cdef Event timer_ev          # the internal timer (CommonTimeoutEvent)


cdef class Backend:
    # libevent's struct eventop: one subclass per method.
    cdef str name                # "epoll", "poll", "select"
    cdef int features            # EV_FEATURE_* it provides
    cdef bint need_reinit        # must be rebuilt after fork()
    cdef int init(self) except -1
    cdef int apply(self, int fd, int old, int new, bint deleting) except -1
    cdef int dispatch(self, EventBase base, int64_t timeout_ns) except -1
    cdef int close(self) except -1


cdef class Event:
    cdef readonly EventBase base # owning base; None before assign
    cdef readonly object callback  # callback(fd, what, arg)
    cdef object cb_arg           # its argument (ignored if self_arg)
    cdef object finalizer        # event_finalize callback, or None
    cdef bint self_arg           # arg was event_self_cbarg(): pass the event
    cdef bint freed              # event_free was called
    cdef readonly int fd         # fd, signal number, or -1 for timers
    cdef readonly int events     # EV_* flags asked for
    cdef int res                 # EV_* flags that fired (while active)
    cdef readonly int flags      # EVLIST_* state bits
    cdef int pri                 # priority queue index
    cdef int closure             # CLOSURE_* : how the loop runs it
    cdef int64_t timeout_ns      # absolute deadline (monotonic ns)
    cdef int64_t io_timeout_ns   # EV_PERSIST interval (0 = none)
    cdef uint64_t seq            # insertion number: FIFO among equal deadlines
    cdef Py_ssize_t heap_idx     # position in the timer heap, -1 if absent
    cdef object common           # CommonTimeout of the next deadline, or None
    cdef CommonTimeout ct_in     # the common-timeout list the event is in, or None
    cdef PyObject *ct_next       # links in that list (borrowed)
    cdef PyObject *ct_prev
    cdef PyObject *act_next      # active-queue links (borrowed)
    cdef PyObject *act_prev
    cdef PyObject *io_next       # evmap list links (borrowed)
    cdef PyObject *io_prev
    cdef int ncalls              # signal deliveries left to run
    cdef int *pncalls            # points at the running signal loop counter
    cdef bint fd_yield           # evloop extension: told (_fd_claimed) when another
                                 # event is added on its fd; the asyncio face's lazy
                                 # sock_* watchers use it to step aside (evmap_io_claim)

    cdef EventBase _usable(self, str what)
    cdef int _run_custom(self) except -1   # CLOSURE_CUSTOM: subclasses' own run
    cdef int _fd_claimed(self, Event newcomer) except -1  # fd_yield: newcomer is being added on our fd



@cython.no_gc_clear
cdef class EventBase:
    cdef Backend backend         # the method in use
    cdef set pinned              # events held by the base (pending/active)
    cdef EvmapEntry *io_map      # per-fd lists, indexed by fd
    cdef int io_map_size
    cdef EvmapEntry *sig_map     # per-signal lists, indexed by signum
    cdef ActiveQueue *queues     # one per priority
    cdef int nqueues
    cdef ActiveQueue later       # ACTIVE_LATER: moved to queues next pass
    cdef PyObject **heap         # timer min-heap (borrowed, see pinned)
    cdef Py_ssize_t heap_n
    cdef Py_ssize_t heap_cap
    cdef uint64_t seq            # next Event.seq
    cdef int flags               # EVENT_BASE_FLAG_*
    cdef int64_t max_interval_ns # from EventConfig.set_max_dispatch_interval
    cdef int max_callbacks
    cdef int limit_after_prio
    cdef int event_count         # libevent's event_count (non-internal)
    cdef int event_count_max
    cdef int event_count_active  # callbacks in queues and later
    cdef int event_count_active_max
    cdef int virtual_event_count
    cdef int virtual_event_count_max
    cdef int running_priority    # queue being run, -1 outside
    cdef bint running_loop       # inside loop()
    cdef bint event_gotterm      # loopexit fired
    cdef bint event_break        # loopbreak called
    cdef bint event_continue     # loopcontinue / preemption
    cdef int n_deferreds_queued  # deferred callbacks queued this pass
    cdef bint exc_break          # a callback raised: stop like loopbreak
    cdef object exc              # the exception to re-raise from loop()
    cdef object exc_handler      # set_exception_handler's handler
    cdef bint freed              # event_base_free was called
    cdef bint free_pending       # free() called inside a callback: tear down at loop exit
    cdef int64_t tv_cache_ns     # cached monotonic now; 0 = not cached
    cdef int64_t clock_diff_ns   # wall - monotonic, refreshed with the cache
    cdef object current_event    # Event whose callback runs, or None
    cdef long owner_thread       # thread running loop()
    cdef int notify_fd           # eventfd that wakes the backend
    cdef Event notify_ev         # internal read event on notify_fd
    cdef bint notify_pending     # a wake-up byte was written
    cdef list common_timeouts    # CommonTimeout tokens made here
    cdef object weakref_self     # weakref.ref(self), shared by tokens
    cdef object sig_sock_r       # signal socketpair (read end) or None
    cdef object sig_sock_w
    cdef Event sig_ev            # internal read event on sig_sock_r
    cdef object sig_old_wakeup   # wakeup fd before we claimed signals
    cdef dict sig_old_handlers   # signum -> handler before our own
    cdef int nsig_events         # signal events inserted in this base
    cdef PyObject *aio_loop      # the asyncio Loop built on this base (borrowed:
                                 # aio/loop.pyx sets it and clears it when the
                                 # loop closes or dies), or NULL
    cdef object __weakref__

    cdef int _check(self, str what) except -1
    cdef Backend _backend(self)                # RuntimeError if never initialised
    cdef int _raise_teardown_exc(self) except -1  # a finalizer's exception, after free()
