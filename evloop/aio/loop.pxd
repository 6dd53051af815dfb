# Declarations of the asyncio face's compiled classes (aio/loop.pyx).

cdef class Handle:
    cdef readonly object _callback   # the callable
    cdef readonly object _args       # its positional arguments (tuple)
    cdef readonly object _context    # contextvars.Context it runs in
    cdef public object _loop         # the Loop
    cdef public object _source_traceback  # creation stack in debug mode
    cdef public object _repr         # asyncio.Handle keeps a cached repr
    cdef bint cancelled_             # cancel() was called
    cdef object __weakref__          # asyncio.Handle can be weakly referenced

    cdef int _run_handle(self) except -1


cdef class TimerHandle(Event):
    # A call_later/call_at callback: an evloop Event (pure timer) whose
    # deadline sits in the base's heap, so no separate timer object exists.
    cdef Handle h                    # what to run (kept after it ran, as asyncio's callback)
    cdef double when_               # loop.time() deadline
    cdef bint tcancelled             # cancel() was called
    cdef object repr_                # repr cached by cancel() in debug mode (asyncio's _repr)
    cdef object __weakref__          # asyncio.TimerHandle can be weakly referenced


cdef class FdWatcher(Event):
    # add_reader/add_writer: a persistent EV_READ or EV_WRITE event that
    # runs its handle directly from the dispatch pass.
    cdef Handle h
    cdef object fileobj              # what add_reader/add_writer was given (asyncio's key.fileobj)


cdef class SignalWatcher(Event):
    # add_signal_handler: an EV_SIGNAL|EV_PERSIST event.
    cdef Handle h


cdef class ReadyEvent(Event):
    # The call_soon queue as one internal event, activated "later" (next
    # pass) whenever the queue becomes non-empty.
    cdef Loop loop


cdef class Loop:
    cdef EventBase base              # the engine (loop.event_base)
    cdef object ready_q              # deque of Handles (call_soon FIFO), asyncio's _ready
    cdef ReadyEvent ready_ev         # runs _ready from the dispatch pass
    cdef dict readers                # fd -> FdWatcher
    cdef dict writers                # fd -> FdWatcher
    cdef public object _current_handle
    cdef bint c_closed               # asyncio's _closed
    cdef bint c_debug                # asyncio's _debug
    cdef bint c_stopping             # asyncio's _stopping
    cdef object ready_append         # bound _ready.append
    cdef object ready_popleft        # bound _ready.popleft
    cdef object transports_data      # _transports.data (fd -> weakref), cached by sockops

    cdef int _schedule_ready(self) except -1
    cdef Handle _new_handle(self, object callback, object args, object context,
                            int trimmed=*)
    cdef TimerHandle _call_at(self, double when, object callback, object args, object context,
                              int trimmed=*)
