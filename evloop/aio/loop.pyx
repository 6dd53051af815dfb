# The asyncio face's engine: asyncio.AbstractEventLoop driven by an
# EventBase (docs/design.md, "Architecture": how asyncio maps onto the base).
#
# evloop.EventLoop (evloop/loop.py) is `class EventLoop(Loop,
# asyncio.SelectorEventLoop)`: this compiled Loop comes first in the MRO
# and replaces the selector loop's engine — the ready queue, timers, the
# _run_once pass, readers/writers, signals — while the stdlib supplies
# the cold paths written against that engine (create_connection's Happy
# Eyeballs, create_server, sock_connect, pipes, subprocess watchers, SSL;
# the hot sock_* coroutines are compiled in aio/sockops.pyx).
#
# The mapping:
# * call_soon appends a Handle to `_ready` and activates one internal
#   ReadyEvent "later", so the queue runs in the *next* pass (asyncio's
#   rule), at the base's middle priority, before the I/O callbacks and
#   timers of that pass (the order asyncio's _run_once uses);
# * call_at/call_later are TimerHandles: Event subclasses whose deadline
#   is in the base's heap (FIFO among equal deadlines);
# * add_reader/add_writer are persistent FdWatcher events that run their
#   Handle directly from the pass (no trip through `_ready`);
# * add_signal_handler is a persistent SignalWatcher (EV_SIGNAL);
# * _run_once is one pass of event_base_loop (core/base.pyx steps 2–7).

# asyncio before _asyncio: _asyncio's module init imports asyncio, whose
# modules import _asyncio again; if _asyncio comes first, that inner import
# builds a second _asyncio module, asyncio.tasks binds to one instance and
# the C Task steps record themselves in the other's bookkeeping, so
# asyncio.current_task() is None and all_tasks() is empty in every task of
# the process, on any loop ("Timeout should be used inside a task").  A
# program whose first import is evloop (gunicorn resolving
# -k evloop.workers.EvloopUvicornWorker) hit it.
import asyncio as _asyncio
import _asyncio as _casyncio
import collections as _collections
import contextvars as _contextvars
import inspect as _inspect
import logging as _logging
import threading as _threading
import traceback as _traceback
from asyncio import base_events as _base_events
from asyncio import constants as _asyncio_constants
from asyncio import coroutines as _coroutines
from asyncio import format_helpers as _format_helpers

_logger = _logging.getLogger("asyncio")

cdef extern from "Python.h":
    int PyContext_Enter(object) except -1
    int PyContext_Exit(object) except -1

cdef extern from "<sys/stat.h>" nogil:
    ctypedef unsigned long c_ino_t "ino_t"
    cdef struct c_stat_t "stat":
        c_ino_t st_ino
    int c_stat "stat" (const char *path, c_stat_t *buf)

cdef extern from "<unistd.h>" nogil:
    int c_unlink "unlink" (const char *path)


cdef object _copy_context = _contextvars.copy_context
cdef object _Future = _asyncio.Future
cdef object _Task = _asyncio.Task
cdef object _BaseEventLoop = _asyncio.BaseEventLoop
cdef bint _PY_LT_311 = _sys2.version_info < (3, 11)
cdef bint _PY_GE_313 = _sys2.version_info >= (3, 13)
cdef object _CFuture = _casyncio.Future
cdef object _new_deque = _collections.deque


# Python 3.13's format helpers show a callback's arguments only in debug
# mode (they may hold secrets): Handle reprs pass the loop's debug flag.
cdef bint _FORMAT_TAKES_DEBUG = "debug" in _inspect.signature(
    _format_helpers._format_callback_source).parameters


def _format_cb(cb, args, debug=False):
    try:
        if _FORMAT_TAKES_DEBUG:
            return _format_helpers._format_callback_source(cb, args, debug=debug)
        return _format_helpers._format_callback_source(cb, args)
    except Exception:   # pragma: no cover - defensive: private helper
        return repr(cb)


cdef bint loop_debug(object loop):
    return isinstance(loop, Loop) and (<Loop>loop).c_debug


cdef object source_traceback(int trimmed):
    """A debug-mode source traceback that ends where asyncio's ends.

    asyncio's Handle.__init__ takes format_helpers.extract_stack() from its
    caller's frame, limited to constants.DEBUG_STACK_DEPTH frames, and each
    asyncio method on the way deletes its own frame (call_soon: _call_soon
    and call_soon; call_later: TimerHandle.__init__, call_at, call_later),
    so the stack ends at the user's line with `trimmed` frames fewer.
    Compiled functions have no Python frame: sys._getframe(0) from here is
    already the caller of the loop method (when there is no Python frame at
    all -- a call from C -- the stack is empty)."""
    try:
        frame = _sys2._getframe(0)
    except ValueError:
        return _traceback.StackSummary()
    return _format_helpers.extract_stack(
        frame, _asyncio_constants.DEBUG_STACK_DEPTH - trimmed)


cdef str _created_at(object tb):
    # asyncio's Handle._repr_info: where the handle was made (debug mode).
    frame = tb[len(tb) - 1]
    return f"created at {frame[0]}:{frame[1]}"


cdef object _format_handle = getattr(_base_events, "_format_handle", str)


cdef class Handle:
    """A callback scheduled by call_soon or registered by add_reader; the
    same API as asyncio.Handle (cancel, cancelled, get_context)."""

    def __init__(self, callback, args, loop, context=None):
        if context is None:
            context = _copy_context()
        self._context = context
        self._loop = loop
        self._callback = callback
        self._args = args
        self.cancelled_ = False
        self._repr = None
        if loop is not None and (<Loop>loop).c_debug:
            self._source_traceback = source_traceback(0)
        else:
            self._source_traceback = None

    def get_context(self):
        return self._context

    def cancel(self):
        if not self.cancelled_:
            self.cancelled_ = True
            if self._loop is not None and (<Loop>self._loop).c_debug:
                self._repr = repr(self)
            self._callback = None
            self._args = None

    def cancelled(self):
        return self.cancelled_

    @property
    def _cancelled(self):
        return self.cancelled_

    def __repr__(self):
        if self._repr is not None:
            return self._repr
        info = [self.__class__.__name__]
        if self.cancelled_:
            info.append("cancelled")
        if self._callback is not None:
            info.append(_format_cb(self._callback, self._args, loop_debug(self._loop)))
        if self._source_traceback:
            info.append(_created_at(self._source_traceback))
        return "<{}>".format(" ".join(info))

    def _run(self):
        self._run_handle()

    cdef int _run_handle(self) except -1:
        cdef object ctx = self._context
        cdef object cb = self._callback
        cdef object args = self._args
        # The context is exited before the exception handler runs, as
        # asyncio.Handle._run does (the error path is outside
        # context.run()): from Python 3.12 (gh-96704) call_exception_handler
        # runs a custom handler in the handle's context with ctx.run(),
        # which raises "cannot enter context" if it is still entered.
        PyContext_Enter(ctx)
        try:
            try:
                if args:
                    cb(*args)
                else:
                    cb()
            finally:
                PyContext_Exit(ctx)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            msg = f"Exception in callback {_format_cb(cb, args, loop_debug(self._loop))}"
            context = {"message": msg, "exception": exc, "handle": owner_of(self)}
            if self._source_traceback:
                context["source_traceback"] = self._source_traceback
            self._loop.call_exception_handler(context)
        return 0


cdef object owner_of(Handle h):
    """The handle asyncio would name for h: its TimerHandle while that runs
    it (run_handle_timed makes it the loop's current handle), else h."""
    cdef object cur = None
    if isinstance(h._loop, Loop):
        cur = (<Loop>h._loop)._current_handle
    if type(cur) is TimerHandle and (<TimerHandle>cur).h is h:
        return cur
    return h


cdef inline int run_handle_timed(Loop loop, Handle h, object shown) except -1:
    """Run h, which `shown` stands for (asyncio's handle: h itself, or the
    TimerHandle that holds it); in debug mode warn about slow callbacks
    (asyncio's slow_callback_duration)."""
    cdef double t0, dt
    loop._current_handle = shown
    try:
        if loop.c_debug:
            t0 = mono_ns() / 1e9
            h._run_handle()
            dt = mono_ns() / 1e9 - t0
            if dt >= (<object>loop).slow_callback_duration:
                # asyncio's _run_once names the task of a task step
                # (base_events._format_handle), else the handle.
                _logger.warning("Executing %s took %.3f seconds",
                                _format_handle(shown), dt)
        else:
            h._run_handle()
    finally:
        loop._current_handle = None
    return 0


cdef class ReadyEvent(Event):
    cdef int _run_custom(self) except -1:
        cdef Loop loop = self.loop
        cdef Handle h
        cdef Py_ssize_t ntodo = len(loop.ready_q)
        # Only what was queued when the pass began: callbacks scheduled by
        # these run next pass (re-activating this event "later").
        try:
            while ntodo > 0:
                ntodo -= 1
                h = <Handle>loop.ready_popleft()
                if h.cancelled_:
                    continue
                run_handle_timed(loop, h, h)
        finally:
            # KeyboardInterrupt/SystemExit escaped a callback: what is left
            # must still run in a later pass.
            if ntodo > 0 and len(loop.ready_q):
                loop._schedule_ready()
        return 0


cdef class TimerHandle(Event):
    """call_later/call_at's handle (asyncio.TimerHandle's API: when,
    cancel, cancelled, get_context)."""

    cdef int _run_custom(self) except -1:
        cdef Handle h = self.h
        if h is None or h.cancelled_:
            return 0
        # h stays: asyncio's TimerHandle keeps its callback after it ran
        # (its repr and get_context() show it).
        run_handle_timed(<Loop>h._loop, h, self)
        return 0

    def when(self):
        return self.when_

    def cancel(self):
        if self.tcancelled:
            return
        self.tcancelled = True
        if self.h is not None:
            if (<Loop>self.h._loop).c_debug:
                # asyncio's Handle.cancel keeps the repr with the callback
                # ("Executing <TimerHandle...> took" can still name it).
                self.repr_ = repr(self)
            self.h.cancel()
        if self.base is not None and not self.base.freed:
            event_del_nolock(self.base, self, False)

    def cancelled(self):
        return self.tcancelled

    def get_context(self):
        return self.h._context if self.h is not None else None

    # asyncio.TimerHandle's attributes that asyncio itself reads
    # (base_events._format_handle, default_exception_handler).
    @property
    def _callback(self):
        return self.h._callback if self.h is not None else None

    @property
    def _args(self):
        return self.h._args if self.h is not None else None

    @property
    def _source_traceback(self):
        return self.h._source_traceback if self.h is not None else None

    @property
    def _when(self):
        return self.when_

    @property
    def _cancelled(self):
        return self.tcancelled

    @property
    def _scheduled(self):
        return bool(self.flags & C_EVLIST_TIMEOUT)

    def __repr__(self):
        # asyncio's TimerHandle._repr_info, field by field.
        if self.repr_ is not None:
            return self.repr_
        info = [self.__class__.__name__]
        if self.tcancelled:
            info.append("cancelled")
        info.append(f"when={self.when_}")
        h = self.h
        if h is not None and h._callback is not None:
            info.append(_format_cb(h._callback, h._args, loop_debug(h._loop)))
        if h is not None and h._source_traceback:
            info.append(_created_at(h._source_traceback))
        return "<{}>".format(" ".join(info))

    def __lt__(self, other):
        return self.when_ < other.when()

    def __le__(self, other):
        return self.when_ <= other.when()

    def __gt__(self, other):
        return self.when_ > other.when()

    def __ge__(self, other):
        return self.when_ >= other.when()

    def __eq__(self, other):
        if isinstance(other, TimerHandle):
            return self is other or (self.when_ == (<TimerHandle>other).when_ and
                                     self.h is (<TimerHandle>other).h)
        return NotImplemented

    def __hash__(self):
        # Identity hash, computed in C: the base's pinned-events set hashes
        # every timer on each add and delete.
        return <Py_hash_t>(<size_t><void *>self >> 4)


cdef inline bint nan_timer(object ev):
    return type(ev) is TimerHandle and (<TimerHandle>ev).when_ != (<TimerHandle>ev).when_


cdef class FdWatcher(Event):
    cdef int _run_custom(self) except -1:
        cdef Handle h = self.h
        if h is None or h.cancelled_:
            return 0
        run_handle_timed(<Loop>h._loop, h, h)
        return 0


cdef class SignalWatcher(Event):
    cdef int _run_custom(self) except -1:
        cdef Handle h = self.h
        cdef int n = self.ncalls if self.ncalls > 0 else 1
        self.ncalls = 0
        while n > 0 and h is not None and not h.cancelled_:
            n -= 1
            run_handle_timed(<Loop>h._loop, h, h)
        return 0


def _event_exception(EventBase base, event, exc):
    """EventBase exception handler of a loop's base: libevent-face
    callbacks that raise go to the asyncio exception handler."""
    if base.aio_loop == NULL:
        raise exc
    (<object>base.aio_loop).call_exception_handler({
        "message": f"Exception in event callback {event!r}",
        "exception": exc,
    })


@cython.no_gc_clear
cdef class Loop:
    """The compiled engine of evloop.EventLoop; see the module comment.

    The base points back at its loop with a borrowed pointer
    (EventBase.aio_loop, for the exception handler and free()'s refusal),
    so nothing global holds a loop: a loop nobody references is collected
    and asyncio's __del__ warns "unclosed event loop" and closes it.  The
    pointer is cleared when the loop closes and in __dealloc__ (no_gc_clear
    keeps self.base until then: the base may outlive the loop)."""

    def __cinit__(self, *args, **kwargs):
        cdef EventConfig cfg = kwargs.get("config")
        cdef ReadyEvent ev
        self.base = EventBase(cfg)
        # asyncio callbacks run at the middle of three priorities, so a
        # libevent-face Event can be made more or less urgent than them.
        self.base.priority_init(3)
        self.readers = {}
        self.writers = {}
        self.ready_q = _new_deque()
        self.ready_append = self.ready_q.append
        self.ready_popleft = self.ready_q.popleft
        self._current_handle = None
        ev = ReadyEvent.__new__(ReadyEvent)
        event_assign_internal(ev, self.base, -1, 0, _noop_cb)
        # Not EVLIST_INTERNAL: a pass that ran asyncio callbacks ran real
        # callbacks, so less urgent queues wait (event_process_active).
        ev.flags = C_EVLIST_INIT
        ev.closure = CLOSURE_CUSTOM
        ev.pri = 1
        ev.loop = self
        self.ready_ev = ev
        self.base.aio_loop = <PyObject *>self
        self.base.set_exception_handler(_event_exception)

    def __dealloc__(self):
        if self.base is not None and self.base.aio_loop == <PyObject *>self:
            self.base.aio_loop = NULL

    # asyncio's private state, as C fields (BaseEventLoop reads and writes
    # these attributes).
    @property
    def _closed(self):
        return self.c_closed

    @_closed.setter
    def _closed(self, value):
        self.c_closed = bool(value)

    @property
    def _debug(self):
        return self.c_debug

    @_debug.setter
    def _debug(self, value):
        self.c_debug = bool(value)

    @property
    def _stopping(self):
        return self.c_stopping

    @_stopping.setter
    def _stopping(self, value):
        self.c_stopping = bool(value)

    @property
    def _ready(self):
        return self.ready_q

    @_ready.setter
    def _ready(self, value):
        # BaseEventLoop.__init__ assigns a fresh deque: keep ours.
        if value is not self.ready_q and len(value):
            raise RuntimeError("cannot replace a non-empty ready queue")

    @property
    def event_base(self):
        """The loop's EventBase: libevent-face Events added here fire in the
        same dispatch passes as the asyncio callbacks."""
        return self.base

    def _check_closed(self):
        if self.c_closed:
            raise RuntimeError("Event loop is closed")

    # Hot asyncio methods that the stdlib writes in Python: every Task
    # calls get_debug() when it is made, aiohttp makes a task per request,
    # and streams make a future per wait.

    def get_debug(self):
        return self.c_debug

    def create_future(self):
        """Create a Future object attached to the loop."""
        return _Future(loop=self)

    def create_task(self, coro, *, name=None, context=None):
        """Schedule a coroutine object; return a Task (asyncio's rules)."""
        if self.c_closed:
            raise RuntimeError("Event loop is closed")
        if self._task_factory is not None or _PY_LT_311:
            # The stdlib's code: task factories, and 3.10's signature
            # (no context) with its exact error for context=.
            if context is None:
                return _BaseEventLoop.create_task(self, coro, name=name)
            return _BaseEventLoop.create_task(self, coro, name=name, context=context)
        # In debug mode the C Task takes traceback.extract_stack() from the
        # innermost Python frame: this method has none, so that is already
        # the caller's (asyncio's create_task deletes its own frame).
        return _Task(coro, loop=self, name=name, context=context)

    def time(self):
        """CLOCK_MONOTONIC seconds, the clock of time.monotonic()."""
        return mono_ns() / 1e9

    cdef Handle _new_handle(self, object callback, object args, object context,
                            int trimmed=2):
        # trimmed: see source_traceback (2 is call_soon's and call_at's).
        cdef Handle h = Handle.__new__(Handle)
        h._context = _copy_context() if context is None else context
        h._loop = self
        h._callback = callback
        h._args = args
        if self.c_debug:
            h._source_traceback = source_traceback(trimmed)
        return h

    cdef int _schedule_ready(self) except -1:
        if not (self.ready_ev.flags & (C_EVLIST_ACTIVE | C_EVLIST_ACTIVE_LATER)):
            event_active_later_nolock(self.base, self.ready_ev, C_EV_TIMEOUT)
        return 0

    def call_soon(self, callback, *args, context=None):
        """asyncio call_soon: run callback(*args) in the next pass, FIFO."""
        cdef Handle h
        if self.c_closed:
            raise RuntimeError("Event loop is closed")
        if self.c_debug:
            self._check_thread()
            self._check_callback(callback, "call_soon")
        h = self._new_handle(callback, args, context)
        self.ready_append(h)
        self._schedule_ready()
        return h

    def _call_soon(self, callback, args, context):
        # (asyncio's _call_soon trims only its own frame; its caller trims
        # the next one)
        cdef Handle h = self._new_handle(callback, args, context, 1)
        self.ready_append(h)
        self._schedule_ready()
        return h

    def call_soon_threadsafe(self, callback, *args, context=None):
        """asyncio call_soon_threadsafe: call_soon from any thread, waking
        the loop through the base's eventfd (base_notify: one write per
        wake-up however many calls, where the stdlib's self-pipe takes a
        send() per call and a recv() per wake-up).  Compiled so that it
        makes our Handle: from gh-128340 the stdlib's appends its own
        _ThreadSafeHandle to _ready."""
        cdef Handle h
        if self.c_closed:
            raise RuntimeError("Event loop is closed")
        if self.c_debug:
            self._check_callback(callback, "call_soon_threadsafe")
        h = self._new_handle(callback, args, context)
        self.ready_append(h)
        self._schedule_ready()
        base_notify(self.base, True)
        return h

    def call_later(self, delay, callback, *args, context=None):
        """asyncio call_later: run callback(*args) after delay seconds."""
        if delay is None:
            raise TypeError("delay must not be None")
        if self.c_closed:
            raise RuntimeError("Event loop is closed")
        if self.c_debug:
            self._check_thread()
            self._check_callback(callback, "call_later")
        return self._call_at(mono_ns() / 1e9 + delay, callback, args, context, 3)

    def call_at(self, when, callback, *args, context=None):
        """asyncio call_at: run callback(*args) at loop.time() == when."""
        if when is None:
            raise TypeError("when cannot be None")
        if self.c_closed:
            raise RuntimeError("Event loop is closed")
        if self.c_debug:
            self._check_thread()
            self._check_callback(callback, "call_at")
        return self._call_at(when, callback, args, context)

    cdef TimerHandle _call_at(self, double w, object callback, object args, object context,
                              int trimmed=2):
        cdef TimerHandle th
        cdef int64_t deadline
        th = TimerHandle.__new__(TimerHandle)
        event_assign_internal(th, self.base, -1, 0, _noop_cb)
        th.flags = C_EVLIST_INIT    # counts as a real event
        th.closure = CLOSURE_CUSTOM
        th.pri = 1
        th.h = self._new_handle(callback, args, context, trimmed)
        th.when_ = w
        if w != w:
            # NaN: asyncio runs such a timer as soon as it is the earliest
            # in its heap (`nan >= end_time` is false); deadline 0 makes it
            # the earliest here.  (Converted as is, NaN is INT64_MIN and the
            # wait computed from it wraps: a frozen loop.)  On 3.13 the
            # timeout computed from it raises; see _run_once.
            deadline = 0
        elif w >= 9.0e9:
            deadline = <int64_t>9000000000 * NS_PER_SEC
        elif w <= 0:
            deadline = 0
        else:
            deadline = <int64_t>(w * 1e9)
        event_add_nolock(self.base, th, deadline, True, True)
        return th

    def _run_once(self):
        """One pass of the base (core/base.pyx steps 2–7): poll without
        blocking if callbacks are ready or stop() was called, else until the
        next deadline; run I/O callbacks, expired timers and the ready
        queue."""
        cdef EventBase base = self.base
        cdef int64_t tv
        cdef int early = 0
        if base.freed:
            raise RuntimeError("Event loop is closed")
        base.running_loop = True
        base.owner_thread = <long>PyThread_get_thread_ident()
        base.n_deferreds_queued = 0
        try:
            if (base.event_count_active == 1 and not self.c_stopping
                    and self.ready_ev.flags & C_EVLIST_ACTIVE_LATER):
                # Only the ready queue is pending: finish asyncio's iteration
                # before polling (uvloop's order), so that a chain such as
                # I/O callback -> future -> task costs one poll, not two.
                # This batch is an asyncio iteration whose poll found
                # nothing: the ready queue, then the timers that expired;
                # the rest of the pass is the next iteration (poll, what
                # this batch scheduled, the I/O callbacks, the timers).
                # stop() called by this batch ends the pass here, as asyncio
                # ends that iteration.  With nothing else active, no
                # libevent-face priority is passed over.
                make_later_active(base)
                update_time_cache(base)
                timeout_process(base)
                early = process_active(base)
                base.tv_cache_ns = 0
                if early >= 0 and self.c_stopping:
                    early = -1
            if early >= 0:     # (< 0: loopbreak, an exception or stop())
                if base.event_count_active or self.c_stopping:
                    tv = 0
                else:
                    if _PY_GE_313 and base.heap_n and nan_timer(<object>base.heap[0]):
                        # 3.13's _run_once computes the select timeout as
                        # `when - time()` of the earliest timer, NaN here,
                        # and selectors raise this ValueError (math.ceil);
                        # 3.10-3.12 clamp it to 0 with max().
                        raise ValueError("cannot convert float NaN to integer")
                    tv = timeout_next(base)
                make_later_active(base)
                base.tv_cache_ns = 0
                base.backend.dispatch(base, tv)
                update_time_cache(base)
                timeout_process(base)
                if base.event_count_active:
                    process_active(base)
        finally:
            base.running_loop = False
            base.tv_cache_ns = 0
            base.current_event = None
            base.running_priority = -1
        if base.exc is not None:
            exc = base.exc
            base.exc = None
            base.exc_break = False
            raise exc
        base.exc_break = False
        if base.free_pending:
            base_teardown(base, True)

    # -- readers and writers ---------------------------------------------

    def _add_reader(self, fd, callback, *args):
        return self._add_watcher(fd, C_EV_READ, callback, args)

    def _add_writer(self, fd, callback, *args):
        return self._add_watcher(fd, C_EV_WRITE, callback, args)

    def _add_watcher(self, fdobj, int what, callback, args):
        cdef FdWatcher w
        cdef int fd
        cdef bint by_object = False
        cdef dict table = self.readers if what == C_EV_READ else self.writers
        if self.c_closed:
            raise RuntimeError("Event loop is closed")
        fd = watched_fd(self, fdobj, &by_object)
        # (asyncio's _add_reader is reached through add_reader: its frame
        # is the last, nothing trimmed; this method has no frame)
        h = self._new_handle(callback, args, None, 1)
        old = table.get(fd)
        if type(old) is SockWatcher:
            # A sock_* watcher: replaced like any reader (a waiting
            # operation is left pending, as asyncio's _add_reader cancels
            # the replaced handle; it fails with EBADF if its socket was
            # closed meanwhile).
            (<SockWatcher>old).drop_stale()
            old = None
        if old is not None:
            # Same fd again: replace the callback, keep the registration
            # (asyncio modifies the selector key the same way).
            w = <FdWatcher>old
            if w.h is not None:
                w.h.cancel()
            w.h = h
            return h
        if by_object:
            closed_fd_other_direction(self, fd, table)
        w = FdWatcher.__new__(FdWatcher)
        event_assign_internal(w, self.base, fd, what | C_EV_PERSIST, _noop_cb)
        w.flags = C_EVLIST_INIT
        w.closure = CLOSURE_CUSTOM
        w.pri = 1
        w.h = h
        w.fileobj = fdobj
        event_add_nolock(self.base, w, 0, False, False)
        table[fd] = w
        return h

    def _remove_reader(self, fd):
        return self._remove_watcher(fd, self.readers)

    def _remove_writer(self, fd):
        return self._remove_watcher(fd, self.writers)

    def _remove_watcher(self, fdobj, dict table):
        cdef bint by_object = False
        if self.c_closed or self.base.freed:
            return False
        fd = watched_fd(self, fdobj, &by_object)
        old = table.pop(fd, None)
        if old is None:
            return False
        if by_object:
            try:
                closed_fd_other_direction(self, fd, table)
            except OSError:
                unwatch(self, old)
                raise
        if type(old) is SockWatcher:
            # True only if a sock_* operation was waiting (asyncio's reader
            # handle); an idle lazy watcher is not a reader.
            live = (<SockWatcher>old).live()
            (<SockWatcher>old).drop()
            return bool(live)
        unwatch(self, old)
        return True

    # -- sock_* coroutines (bodies in aio/sockops.pyx) -------------------
    #
    # Thin async def methods, so they stay coroutine functions (a task can
    # be made of them): each body returns the result at once or a Future.

    async def sock_recv(self, sock, n):
        """Receive up to n bytes from sock (non-blocking); b"" at EOF."""
        r = sock_recv_c(self, sock, n)
        if type(r) is _CFuture:
            return await r
        return r

    async def sock_recv_into(self, sock, buf):
        """Receive into the writable buffer buf; the number of bytes."""
        r = sock_recv_into_c(self, sock, buf)
        if type(r) is _CFuture:
            return await r
        return r

    async def sock_recvfrom(self, sock, bufsize):
        """Receive a datagram of up to bufsize bytes: (data, address)."""
        r = sock_recvfrom_c(self, sock, bufsize)
        if type(r) is _CFuture:
            return await r
        return r

    async def sock_recvfrom_into(self, sock, buf, nbytes=0):
        """Receive a datagram into buf (at most nbytes, 0 = len(buf)):
        (nbytes, address)."""
        r = sock_recvfrom_into_c(self, sock, buf, nbytes)
        if type(r) is _CFuture:
            return await r
        return r

    async def sock_sendall(self, sock, data):
        """Send all of data; None once the kernel took the last byte."""
        r = sock_sendall_c(self, sock, data)
        if type(r) is _CFuture:
            return await r
        return r

    async def sock_sendto(self, sock, data, address):
        """Send a datagram to address; the number of bytes sent."""
        r = sock_sendto_c(self, sock, data, address)
        if type(r) is _CFuture:
            return await r
        return r

    async def sock_accept(self, sock):
        """Accept a connection on the listening sock: (conn, address),
        conn non-blocking."""
        r = sock_accept_c(self, sock)
        if type(r) is _CFuture:
            return await r
        return r

    # -- signals ---------------------------------------------------------

    def _add_signal_watcher(self, int sig, callback, args):
        cdef SignalWatcher w
        h = Handle(callback, args, self, None)
        w = SignalWatcher.__new__(SignalWatcher)
        event_assign_internal(w, self.base, sig, C_EV_SIGNAL | C_EV_PERSIST, _noop_cb)
        w.flags = C_EVLIST_INIT
        w.closure = CLOSURE_CUSTOM
        w.pri = 1
        w.h = h
        event_add_nolock(self.base, w, 0, False, False)
        return w

    def _del_signal_watcher(self, watcher):
        cdef SignalWatcher w = <SignalWatcher?>watcher
        if w.h is not None:
            w.h.cancel()
            w.h = None
        if not self.base.freed:
            event_del_nolock(self.base, w, False)

    def _free_engine(self):
        """Close the base (after asyncio's own close)."""
        cdef FdWatcher w
        sock_watchers_clear(self)
        for table in (self.readers, self.writers):
            for w in table.values():
                if w.h is not None:
                    w.h.cancel()
                    w.h = None
            table.clear()
        self.ready_q.clear()
        self.base.aio_loop = NULL
        self.base.free()


def _noop_cb(fd, what, arg):
    pass


# create_unix_server(cleanup_socket=True) on Python 3.10-3.12 (evloop/loop.py).
# Python 3.13's asyncio records os.stat(path).st_ino when the server is made
# and, in _stop_serving, unlinks the path if it still has that inode.  These
# are the same stat() and unlink() system calls, made in C: tools that flag
# blocking calls on the event loop thread by patching os.stat/os.unlink
# (blockbuster) excuse asyncio's own calls by function name, and would flag
# the same calls from evloop/loop.py.

def _path_inode(path):
    """The inode of the file at path, or None if there is none (asyncio's
    FileNotFoundError case); OSError otherwise."""
    cdef bytes p = _os.fsencode(path)
    cdef const char *cp = p
    cdef c_stat_t st
    cdef int r, err = 0
    with nogil:
        r = c_stat(cp, &st)
        if r != 0:
            err = errno
    if r == 0:
        return st.st_ino
    if err == ENOENT:
        return None
    raise OSError(err, _os.strerror(err), path)


def _unlink_if_inode(path, ino):
    """Remove the file at path if it is still inode ino (a socket file made
    by this server, not one that replaced it); nothing if it is gone."""
    cdef bytes p = _os.fsencode(path)
    cdef const char *cp = p
    cdef int r, err = 0
    if _path_inode(path) != ino:
        return
    with nogil:
        r = c_unlink(cp)
        if r != 0:
            err = errno
    if r != 0 and err != ENOENT:
        raise OSError(err, _os.strerror(err), path)


# -- add_reader/add_writer/remove_* lookups (asyncio's selector rules) --------
#
# asyncio's selector resolves a file object to its fd with
# selectors._fileobj_to_fd; when the object's fileno() is -1 (a socket
# closed since it was registered) _BaseSelectorImpl._fileobj_lookup finds
# the registration whose key holds that very object, and only then raises
# ValueError("Invalid file descriptor: -1").  The key is one per fd for
# both directions: adding or removing one direction of a closed fd watched
# the other way too makes it call epoll_ctl(MOD) on the closed fd, which
# fails with EBADF; the selector then forgets the whole key and raises.

cdef int watched_fd(Loop loop, object fdobj, bint *by_object) except? -2:
    """The fd that add_reader/remove_reader/... mean by fdobj (see above);
    by_object is set when it was found through a watcher's own object."""
    cdef object fd
    cdef dict table
    cdef FdWatcher w
    if isinstance(fdobj, int):
        fd = fdobj
    else:
        try:
            fd = int(fdobj.fileno())
        except (AttributeError, TypeError, ValueError):
            raise ValueError(f"Invalid file object: {fdobj!r}") from None
    if fd < 0:
        if not isinstance(fdobj, int):
            for table in (loop.readers, loop.writers):
                for o in table.values():
                    w = <FdWatcher>o
                    if w.fileobj is fdobj:
                        by_object[0] = True
                        return w.fd
        raise ValueError(f"Invalid file descriptor: {fd}")
    if fd > INT_MAX:
        raise ValueError(f"Invalid file descriptor: {fd}")
    return fd


cdef int unwatch(Loop loop, object o) except -1:
    """Delete an add_reader/add_writer/sock_* watcher taken out of its table."""
    cdef FdWatcher w
    if type(o) is SockWatcher:
        (<SockWatcher>o).drop()
        return 0
    w = <FdWatcher>o
    event_del_nolock(loop.base, w, False)
    if w.h is not None:
        w.h.cancel()
        w.h = None
    return 0


cdef int closed_fd_other_direction(Loop loop, int fd, dict table) except -1:
    """fd was found through a watcher's object whose fileno() is now -1: if
    the other direction is watched too and fd is closed, asyncio's selector
    fails to modify the registration (EBADF) and forgets both directions."""
    cdef dict other = loop.writers if table is loop.readers else loop.readers
    cdef int err
    if fd not in other:
        return 0
    if fcntl(fd, F_GETFD) != -1:
        return 0            # detached, still open: the selector's MOD works
    err = errno
    unwatch(loop, other.pop(fd))
    raise OSError(err, _os.strerror(err))
