"""Typing stub of the compiled core (``evloop._evloop``).

This file is also the contract of the libevent face: every name, argument and
exception listed here is what the compiled module provides.

Conventions
-----------
* A *timeout* argument is ``None`` (no timeout), a number of seconds
  (``int``/``float`` >= 0), a ``(sec, usec)`` tuple (a ``struct timeval``,
  both >= 0, ``usec`` < 1_000_000), or a :class:`CommonTimeout` token from
  :meth:`EventBase.init_common_timeout`.  A negative value, NaN or an
  infinity raises ``ValueError`` naming the argument (no timeout is
  ``None``); another type (``bool`` included) raises ``TypeError``.  Values
  beyond 100 years are clamped to 100 years.
* An ``int`` argument is never a ``bool``; one beyond its C type's range
  raises ``ValueError`` naming it (sizes clamp instead, where documented).
* ``__init__`` runs once: a second call raises ``RuntimeError``, except on
  an idle :class:`Event` (where it is :meth:`Event.assign`) and on an
  :class:`EvbufferPtr` (which moves).
* An *fd* argument is an ``int`` >= 0, or an object with ``fileno()``.  For a
  pure timer it is ``-1``; for a signal event it is the signal number.
* Callbacks of events are called as ``callback(fd, what, arg)`` where
  ``what`` is the set of ``EV_*`` flags that fired.
* Errors: ``TypeError``/``ValueError`` name the bad argument; system failures
  raise ``OSError`` with ``errno``; misuse (a freed base, re-assigning a
  pending event, a re-entrant loop, a second base claiming signals) raises
  ``RuntimeError``.  ``evloop.compat`` turns these into libevent's 0/-1.
"""

import asyncio
import sys
from asyncio import _CoroutineLike
from contextvars import Context
from socket import _Address, _RetAddress, socket
from typing import (
    Any, Callable, Iterable, List, Literal, Optional, TextIO, Tuple, TypeVar, Union, overload,
)

from _typeshed import FileDescriptorLike, ReadableBuffer, WriteableBuffer
from typing_extensions import TypeVarTuple, Unpack

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")

# -- event flags (event.h) ---------------------------------------------------
EV_TIMEOUT: int  # 0x01
EV_READ: int  # 0x02
EV_WRITE: int  # 0x04
EV_SIGNAL: int  # 0x08
EV_PERSIST: int  # 0x10
EV_ET: int  # 0x20
EV_FINALIZE: int  # 0x40
EV_CLOSED: int  # 0x80

# -- loop flags ----------------------------------------------------------------
EVLOOP_ONCE: int  # 0x01
EVLOOP_NONBLOCK: int  # 0x02
EVLOOP_NO_EXIT_ON_EMPTY: int  # 0x04

# -- backend features ------------------------------------------------------------
EV_FEATURE_ET: int  # 0x01
EV_FEATURE_O1: int  # 0x02
EV_FEATURE_FDS: int  # 0x04
EV_FEATURE_EARLY_CLOSE: int  # 0x08

# -- event_config flags ------------------------------------------------------------
EVENT_BASE_FLAG_NOLOCK: int  # 0x01
EVENT_BASE_FLAG_IGNORE_ENV: int  # 0x02
EVENT_BASE_FLAG_STARTUP_IOCP: int  # 0x04
EVENT_BASE_FLAG_NO_CACHE_TIME: int  # 0x08
EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST: int  # 0x10
EVENT_BASE_FLAG_PRECISE_TIMER: int  # 0x20

# -- get_num_events flags ------------------------------------------------------------
EVENT_BASE_COUNT_ACTIVE: int  # 1
EVENT_BASE_COUNT_VIRTUAL: int  # 2
EVENT_BASE_COUNT_ADDED: int  # 4

EVENT_MAX_PRIORITIES: int  # 256

# -- event_struct.h state bits (what Event.flags reports) ------------------------------
EVLIST_TIMEOUT: int  # 0x01
EVLIST_INSERTED: int  # 0x02
EVLIST_SIGNAL: int  # 0x04
EVLIST_ACTIVE: int  # 0x08
EVLIST_INTERNAL: int  # 0x10
EVLIST_ACTIVE_LATER: int  # 0x20
EVLIST_FINALIZING: int  # 0x40
EVLIST_INIT: int  # 0x80

# -- evbuffer (buffer.h) ----------------------------------------------------------
EVBUFFER_EOL_ANY: int  # 0: any run of CR/LF characters
EVBUFFER_EOL_CRLF: int  # 1: LF, optionally preceded by CR
EVBUFFER_EOL_CRLF_STRICT: int  # 2: exactly CR LF
EVBUFFER_EOL_LF: int  # 3
EVBUFFER_EOL_NUL: int  # 4
EVBUFFER_PTR_SET: int  # 0
EVBUFFER_PTR_ADD: int  # 1
EVBUFFER_CB_ENABLED: int  # 1

LIBEVENT_VERSION: str  # "2.1.12-stable": the libevent version whose semantics we follow
LIBEVENT_VERSION_NUMBER: int  # 0x02010c00

Timeout = Union[None, int, float, Tuple[int, int], "CommonTimeout"]
EventCallback = Callable[[int, int, Any], Any]

def event_self_cbarg() -> object:
    """The sentinel that, given as ``arg``, makes the event pass itself as
    the callback's ``arg`` (libevent's ``event_self_cbarg()``)."""

def supported_methods() -> list[str]:
    """Backends compiled in and usable here, fastest first:
    ``['epoll', 'poll', 'select']`` on Linux (event_get_supported_methods)."""

def enable_debug_mode() -> None:
    """libevent's event_enable_debug_mode(): extra checks (fds given to
    events must be non-blocking).  Must be called before any EventBase
    exists, and only once: otherwise RuntimeError."""

def gettime_monotonic() -> float:
    """CLOCK_MONOTONIC now, in seconds (the clock the bases' timers use)."""

# Engine helpers of evloop.loop's Unix servers (stat/unlink made in C).
def _path_inode(path: str | bytes) -> int | None: ...
def _unlink_if_inode(path: str | bytes, ino: int) -> None: ...

class CommonTimeout:
    """Opaque token returned by EventBase.init_common_timeout; valid as a
    timeout only for the base that made it (ValueError elsewhere)."""
    @property
    def duration(self) -> float: ...

class EventConfig:
    """event_config: choose and constrain the backend of a new EventBase."""
    def __init__(self) -> None: ...
    def avoid_method(self, method: str) -> None:
        """Never pick backend ``method`` (repeatable). TypeError if not str."""
    def require_features(self, features: int) -> None:
        """Require ``EV_FEATURE_*`` bits (replaces the previous mask).
        ValueError for unknown bits."""
    def set_flag(self, flag: int) -> None:
        """OR in ``EVENT_BASE_FLAG_*`` bits.  ValueError for unknown bits."""
    def set_max_dispatch_interval(
        self, max_interval: Optional[Timeout], max_callbacks: int, min_priority: int
    ) -> None:
        """Stop a pass of callbacks of priority >= min_priority after
        max_callbacks callbacks (-1: no limit) or max_interval seconds (None:
        no limit), then re-poll."""

class EventBase:
    """event_base: a dispatch loop over one backend.

    ``EventBase(config=None)`` picks the fastest backend that the config and
    the environment allow (``EVENT_NOEPOLL``, ``EVENT_NOPOLL``,
    ``EVENT_NOSELECT``, ``EVENT_PRECISE_TIMER``, ``EVENT_SHOW_METHOD`` unless
    ``EVENT_BASE_FLAG_IGNORE_ENV``).  OSError if no backend qualifies
    (libevent returns NULL).  Usable as a context manager (free() on exit).
    """
    def __init__(self, config: Optional[EventConfig] = None) -> None:
        """RuntimeError if called again (also after free())."""
    def get_method(self) -> str:
        """RuntimeError on a base that was never initialised."""
    @property
    def method(self) -> str: ...
    def get_features(self) -> int: ...
    def dispatch(self) -> int:
        """loop(0)."""
    def loop(self, flags: int = 0) -> int:
        """Run the loop.  Returns 0 (exited normally, or EVLOOP_ONCE/NONBLOCK
        done), 1 (no events registered).  RuntimeError if called re-entrantly
        or on a freed base; OSError if the backend fails.  If a callback
        raised (and no exception handler is set), the loop stops right after
        that callback and the exception propagates from here."""
    def loopexit(self, timeout: Timeout = None) -> None: ...
    def loopbreak(self) -> None: ...
    def loopcontinue(self) -> None: ...
    def got_exit(self) -> bool: ...
    def got_break(self) -> bool: ...
    def priority_init(self, npriorities: int) -> None:
        """ValueError unless 1 <= npriorities <= 255; RuntimeError if any
        callback is active."""
    def get_npriorities(self) -> int: ...
    def gettimeofday_cached(self) -> float:
        """Wall-clock seconds; the cached value while the loop runs."""
    def update_cache_time(self) -> None: ...
    def time(self) -> float:
        """The base's monotonic 'now' in seconds (cached while running)."""
    def init_common_timeout(self, duration: Timeout) -> CommonTimeout: ...
    def once(
        self, fd: Any, what: int, callback: EventCallback, arg: Any = None,
        timeout: Timeout = None,
    ) -> None:
        """event_base_once: ValueError for EV_SIGNAL/EV_PERSIST or a bad
        combination."""
    def reinit(self) -> None:
        """event_reinit: after os.fork(), recreate the backend and re-add
        every inserted event.  OSError on failure."""
    def dump_events(self, file: Optional[TextIO] = None) -> None:
        """Write libevent's 'Inserted events:' / 'Active events:' listing to
        ``file`` (sys.stdout if None)."""
    def foreach_event(
        self, fn: Callable[["EventBase", "Event", Any], _T], arg: Any = None
    ) -> Union[_T, int]:
        """Call fn(base, event, arg) for each event (inserted, then
        timer-only, then active-only); a truthy return stops and is
        returned.  Returns 0 if all were visited."""
    def get_num_events(self, flags: int) -> int: ...
    def get_max_events(self, flags: int, clear: bool = False) -> int: ...
    def get_running_event(self) -> Optional["Event"]: ...
    def active_by_fd(self, fd: Any, events: int) -> None: ...
    def active_by_signal(self, sig: int) -> None: ...
    def set_exception_handler(
        self, handler: Optional[Callable[["EventBase", Optional["Event"], BaseException], Any]]
    ) -> None:
        """Send exceptions raised by callbacks to handler(base, event, exc)
        instead of propagating them out of loop().  None restores the
        default."""
    def free(self) -> None:
        """event_base_free: run pending finalizers, delete every event, close
        the backend.  Later use raises RuntimeError.  Idempotent.  A
        finalizer's exception goes to the exception handler, else propagates
        (from here, or from loop() if called in a callback) once the
        teardown is complete."""
    def free_nofinalize(self) -> None:
        """event_base_free_nofinalize: free() without running pending
        finalizers."""
    @property
    def closed(self) -> bool: ...
    def _validate(self) -> None:
        """Check the C structures' invariants (timer heap, active queues,
        evmap, pinned events, counters); AssertionError naming the first
        one broken.  For tests."""
    def __enter__(self) -> "EventBase": ...
    def __exit__(self, *exc: Any) -> None: ...

class Event:
    """struct event.

    ``Event(base, fd, what, callback, arg=None)`` is event_new().  ``what``
    is a combination of EV_TIMEOUT/READ/WRITE/SIGNAL/PERSIST/ET/CLOSED/
    FINALIZE (ValueError otherwise, and for EV_SIGNAL with READ/WRITE/CLOSED).
    """
    def __init__(self, base: EventBase, fd: Any, what: int, callback: EventCallback, arg: Any = None) -> None:
        """event_new; called again, it is assign() (same checks)."""
    @classmethod
    def timer(cls, base: EventBase, callback: EventCallback, arg: Any = None) -> "Event":
        """evtimer_new: Event(base, -1, 0, callback, arg)."""
    @classmethod
    def signal(cls, base: EventBase, signum: int, callback: EventCallback, arg: Any = None) -> "Event":
        """evsignal_new: Event(base, signum, EV_SIGNAL|EV_PERSIST, ...)."""
    def assign(self, base: EventBase, fd: Any, what: int, callback: EventCallback, arg: Any = None) -> None:
        """event_assign.  RuntimeError if the event is pending, active or
        being finalized, or is one of evloop's own (a Bufferevent's, a
        Listener's, an asyncio handle)."""
    def add(self, timeout: Timeout = None) -> None:
        """event_add.  ``None`` keeps an existing deadline.  RuntimeError on a
        freed event or base; OSError if the backend refuses the fd (EBADF,
        EPERM; EBADF too for an fd that is not open and beyond any fd the
        base watched, before any memory is spent on it); ValueError for an
        fd select() cannot watch."""
    def delete(self) -> None:
        """event_del.  Fine on an event that is not added; RuntimeError once
        the base was freed (except on an event being finalized)."""
    def remove_timer(self) -> None:
        """event_remove_timer: drop only the deadline."""
    def active(self, res: int, ncalls: int = 1) -> None:
        """event_active."""
    @overload
    def pending(self, what: int = ..., want_tv: Literal[False] = False) -> int:
        """event_pending: ``what`` & (the flags the event is pending or
        active on).  With want_tv=True returns (flags, deadline) where the
        deadline is wall-clock seconds, or None without a timeout."""
    @overload
    def pending(self, what: int, want_tv: Literal[True]) -> Tuple[int, Optional[float]]: ...
    @overload
    def pending(self, what: int, want_tv: bool) -> Union[int, Tuple[int, Optional[float]]]: ...
    def priority_set(self, priority: int) -> None:
        """ValueError if out of range; RuntimeError if the event is active."""
    def get_assignment(self) -> Tuple[EventBase, int, int, EventCallback, Any]: ...
    def initialized(self) -> bool: ...
    def finalize(self, finalizer: Callable[["Event", Any], Any]) -> None:
        """event_finalize: delete, then run finalizer(event, arg) from the
        loop; afterwards add/active are refused (RuntimeError)."""
    def free_finalize(self, finalizer: Callable[["Event", Any], Any]) -> None: ...
    def free(self) -> None:
        """event_free: delete; later use raises RuntimeError.  Idempotent."""
    @property
    def fd(self) -> int: ...
    @property
    def base(self) -> EventBase: ...
    @property
    def events(self) -> int: ...
    @property
    def callback(self) -> EventCallback: ...
    @property
    def arg(self) -> Any: ...
    @property
    def priority(self) -> int: ...
    @property
    def flags(self) -> int:
        """The EVLIST_* state bits."""


# Any object with the buffer protocol (bytes, bytearray, memoryview, array, ...).
BytesLike = ReadableBuffer
Position = Union[None, int, "EvbufferPtr"]

class EvbufferPtr:
    """struct evbuffer_ptr: a position (``pos``, -1 when a search found
    nothing).  It keeps naming the same offset after the buffer changes."""
    def __init__(self, pos: int = -1) -> None:
        """Called again, it moves the pointer to ``pos``."""
    @property
    def pos(self) -> int: ...

class EvbufferCbInfo:
    """struct evbuffer_cb_info."""
    @property
    def orig_size(self) -> int: ...
    @property
    def n_added(self) -> int: ...
    @property
    def n_deleted(self) -> int: ...

EvbufferCb = Callable[["Evbuffer", EvbufferCbInfo, Any], Any]

class EvbufferCbEntry:
    """struct evbuffer_cb_entry, returned by Evbuffer.add_cb()."""
    @property
    def cb(self) -> EvbufferCb: ...
    @property
    def arg(self) -> Any: ...
    @property
    def flags(self) -> int: ...

class Evbuffer:
    """struct evbuffer: a byte queue made of a chain of chunks.

    Changes refused because the buffer is frozen or freed raise
    RuntimeError; bad argument types TypeError, negative sizes ValueError
    (both naming the argument); syscalls OSError with errno.
    """
    def __init__(self) -> None: ...
    def __len__(self) -> int: ...
    def __bytes__(self) -> bytes: ...
    def __buffer__(self, flags: int) -> memoryview:
        """Read-only, only while the data is one chunk (else BufferError)."""
    def get_length(self) -> int: ...
    def get_contiguous_space(self) -> int: ...
    def add(self, data: BytesLike) -> None:
        """Append a copy (a bytes >= 2 KiB may be referenced instead)."""
    def add_buffer(self, other: "Evbuffer") -> None:
        """Move all of other to the back (relinks chunks)."""
    def add_printf(self, fmt: Union[str, bytes], *args: Any) -> int:
        """Append fmt % args (str encoded as UTF-8); returns bytes added."""
    def add_iovec(self, vecs: Iterable[BytesLike]) -> int: ...
    def add_reference(
        self, data: BytesLike, cleanup: Optional[Callable[[Any, Any], Any]] = None, arg: Any = None
    ) -> None:
        """Zero-copy append; cleanup(data, arg) runs once when the last byte
        leaves the buffer (or it is freed)."""
    def expand(self, n: int) -> None: ...
    def prepend(self, data: BytesLike) -> None: ...
    def prepend_buffer(self, other: "Evbuffer") -> None: ...
    def remove(self, n: int) -> bytes: ...
    def remove_buffer(self, dst: "Evbuffer", n: int) -> int: ...
    def copyout(self, n: int) -> bytes: ...
    def copyout_from(self, ptr: Union[int, EvbufferPtr], n: int) -> bytes: ...
    def drain(self, n: int) -> None: ...
    def pullup(self, n: int = -1) -> Optional[memoryview]:
        """Make the first n bytes (-1: all) contiguous; None if shorter."""
    def readln(self, style: int = ...) -> Optional[bytes]:
        """The next line without its terminator, or None (nothing drained).
        ValueError for an unknown style."""
    def search(self, what: BytesLike, start: Position = None) -> EvbufferPtr: ...
    def search_range(self, what: BytesLike, start: Position, end: Position) -> EvbufferPtr: ...
    def search_eol(self, start: Position = None, style: int = ...) -> Tuple[EvbufferPtr, int]: ...
    def ptr_set(self, ptr: EvbufferPtr, position: int, how: int) -> None:
        """EVBUFFER_PTR_SET/ADD; ValueError past the end (ptr.pos becomes -1)."""
    def peek(self, n: int = -1, start: Position = None) -> List[memoryview]:
        """Read-only views over the chunks (no copy); memory-safe."""
    def reserve_space(self, size: int, n_vec: int = 1) -> List[memoryview]:
        """Writable views over free space at the back (>= size in all)."""
    def commit_space(self, n: int) -> None:
        """Make the first n reserved bytes data.  RuntimeError if the buffer
        changed since reserve_space(); ValueError if n > reserved."""
    def read(self, fd: Any, howmuch: int = -1) -> int:
        """One read()/readv(); 0 at EOF; BlockingIOError for EAGAIN.  An
        explicit howmuch is capped at what FIONREAD reports (at least
        get_max_read())."""
    def write(self, fd: Any) -> int: ...
    def write_atmost(self, fd: Any, howmuch: int) -> int:
        """One write()/writev() (at most 64 chunks); drains what was written."""
    def set_max_read(self, n: int) -> None: ...
    def get_max_read(self) -> int: ...
    def add_cb(self, cb: EvbufferCb, arg: Any = None) -> EvbufferCbEntry: ...
    def remove_cb_entry(self, entry: EvbufferCbEntry) -> None: ...
    def remove_cb(self, cb: EvbufferCb, arg: Any = None) -> None: ...
    def cb_set_flags(self, entry: EvbufferCbEntry, flags: int) -> None: ...
    def cb_clear_flags(self, entry: EvbufferCbEntry, flags: int) -> None: ...
    def freeze(self, at_front: bool) -> None: ...
    def unfreeze(self, at_front: bool) -> None: ...
    def defer_callbacks(self, base: EventBase) -> None:
        """Run the callbacks from base's loop, coalesced."""
    def free(self) -> None: ...
    @property
    def freed(self) -> bool: ...
    def _validate(self) -> None:
        """Check the invariants (AssertionError)."""
    def _chunks(self) -> List[Tuple[int, int, int, bool, int]]: ...

# -- bufferevents: filters and rate limits (bufferevent_filter.pyx, bufferevent_ratelim.pyx) --
BEV_OK: int  # 0
BEV_NEED_MORE: int  # 1
BEV_ERROR: int  # 2
EV_RATE_LIMIT_MAX: int  # 2**31 - 1

FilterFn = Callable[["Evbuffer", "Evbuffer", int, int], int]

class TokenBucketCfg:
    """ev_token_bucket_cfg_new; ValueError naming the argument for a rate or
    burst < 1 or > EV_RATE_LIMIT_MAX, a rate above its burst, a negative
    tick_len.  A tick_len under 1 ms means 1 s.  Immutable: a second
    __init__ raises RuntimeError, and one never initialised is refused
    (ValueError) wherever a cfg is taken."""
    read_rate: int
    read_burst: int
    write_rate: int
    write_burst: int
    msec_per_tick: int
    def __init__(self, read_rate: int, read_burst: int, write_rate: int, write_burst: int,
                 tick_len: Timeout = 1.0) -> None: ...
    @property
    def tick_len(self) -> float: ...
    def free(self) -> None: ...

class RateLimitGroup:
    """bufferevent_rate_limit_group_new: buckets shared by its members."""
    base: EventBase
    freed: bool
    def __init__(self, base: EventBase, cfg: TokenBucketCfg) -> None: ...
    def add(self, bev: "Bufferevent") -> None: ...
    def remove(self, bev: "Bufferevent") -> None: ...
    def set_cfg(self, cfg: TokenBucketCfg) -> None: ...
    def set_min_share(self, share: int) -> None: ...
    def get_read_limit(self) -> int: ...
    def get_write_limit(self) -> int: ...
    def decrement_read(self, decr: int) -> None: ...
    def decrement_write(self, decr: int) -> None: ...
    def get_totals(self) -> Tuple[int, int]: ...
    def reset_totals(self) -> None: ...
    def get_members(self) -> List["Bufferevent"]: ...
    def free(self) -> None:
        """RuntimeError while it has members."""

BEV_EVENT_READING: int  # 0x01
BEV_EVENT_WRITING: int  # 0x02
BEV_EVENT_EOF: int  # 0x10
BEV_EVENT_ERROR: int  # 0x20
BEV_EVENT_TIMEOUT: int  # 0x40
BEV_EVENT_CONNECTED: int  # 0x80
BEV_OPT_CLOSE_ON_FREE: int  # 0x01
BEV_OPT_THREADSAFE: int  # 0x02
BEV_OPT_DEFER_CALLBACKS: int  # 0x04
BEV_OPT_UNLOCK_CALLBACKS: int  # 0x08
BEV_NORMAL: int  # 0
BEV_FLUSH: int  # 1
BEV_FINISHED: int  # 2
BEV_TRIG_IGNORE_WATERMARKS: int  # 0x10000
BEV_TRIG_DEFER_CALLBACKS: int  # 0x04

DataCb = Callable[["Bufferevent", Any], Any]
EventCb = Callable[["Bufferevent", int, Any], Any]

class Bufferevent:
    """struct bufferevent: buffered, callback-driven I/O on a socket, a
    pair or a filter.  ``Bufferevent(base, fd=-1, options=0)`` is
    bufferevent_socket_new.  Errors raise (TypeError/ValueError naming the
    argument, OSError with errno, RuntimeError after free())."""
    base: EventBase
    freed: bool
    last_error: int
    def __init__(self, base: EventBase, fd: Any = -1, options: int = 0) -> None: ...
    @classmethod
    def pair(cls, base: EventBase, options: int = 0) -> Tuple["Bufferevent", "Bufferevent"]:
        """bufferevent_pair_new: two bufferevents, each the other's partner."""
    @classmethod
    def filter(cls, underlying: "Bufferevent", input_filter: Optional[FilterFn],
               output_filter: Optional[FilterFn], options: int = 0) -> "Bufferevent":
        """bufferevent_filter_new; filters are fn(src, dst, dst_limit, mode)
        -> BEV_OK/BEV_NEED_MORE/BEV_ERROR, None copies."""
    @property
    def input(self) -> Evbuffer: ...
    @property
    def output(self) -> Evbuffer: ...
    def setcb(self, readcb: Optional[DataCb], writecb: Optional[DataCb],
              eventcb: Optional[EventCb], arg: Any = None) -> None: ...
    def getcb(self) -> Tuple[Optional[DataCb], Optional[DataCb], Optional[EventCb], Any]: ...
    def trigger(self, iotype: int, options: int = 0) -> None: ...
    def trigger_event(self, what: int, options: int = 0) -> None: ...
    def enable(self, what: int) -> None: ...
    def disable(self, what: int) -> None: ...
    def get_enabled(self) -> int: ...
    def setwatermark(self, events: int, lowmark: int, highmark: int) -> None: ...
    def getwatermark(self, events: int) -> Tuple[int, int]: ...
    def set_timeouts(self, timeout_read: Timeout = None, timeout_write: Timeout = None) -> None: ...
    def get_partner(self) -> Optional["Bufferevent"]: ...
    def get_base(self) -> EventBase: ...
    def get_input(self) -> Evbuffer: ...
    def get_output(self) -> Evbuffer: ...
    def write(self, data: BytesLike) -> None: ...
    def write_buffer(self, buf: Evbuffer) -> None: ...
    def read(self, size: int) -> bytes: ...
    def read_buffer(self, buf: Evbuffer) -> None: ...
    def flush(self, iotype: int, mode: int) -> int: ...
    def getfd(self) -> int: ...
    def setfd(self, fd: Any) -> None: ...
    def socket_connect(self, address: Any) -> None:
        """bufferevent_socket_connect; the address as the socket module
        gives it (a tuple or a path)."""
    def socket_connect_hostname(self, family: int, host: str, port: int, dns_base: Any = None) -> None: ...
    def get_dns_error(self) -> int: ...
    def priority_set(self, priority: int) -> None: ...
    def get_priority(self) -> int: ...
    def set_max_single_read(self, size: int) -> None: ...
    def get_max_single_read(self) -> int: ...
    def set_max_single_write(self, size: int) -> None: ...
    def get_max_single_write(self) -> int: ...
    def get_underlying(self) -> Optional["Bufferevent"]: ...
    def set_rate_limit(self, cfg: Optional[TokenBucketCfg]) -> None: ...
    def get_read_limit(self) -> int: ...
    def get_write_limit(self) -> int: ...
    def decrement_read_limit(self, decr: int) -> None: ...
    def decrement_write_limit(self, decr: int) -> None: ...
    def get_max_to_read(self) -> int: ...
    def get_max_to_write(self) -> int: ...
    def get_rate_limit_group(self) -> Optional[RateLimitGroup]: ...
    def free(self, flush: bool = False) -> None:
        """bufferevent_free; flush=True writes pending output out first."""

# -- listeners (listener.pyx) --
LEV_OPT_LEAVE_SOCKETS_BLOCKING: int  # 0x01
LEV_OPT_CLOSE_ON_FREE: int  # 0x02
LEV_OPT_CLOSE_ON_EXEC: int  # 0x04
LEV_OPT_REUSEABLE: int  # 0x08
LEV_OPT_THREADSAFE: int  # 0x10
LEV_OPT_DISABLED: int  # 0x20
LEV_OPT_DEFERRED_ACCEPT: int  # 0x40
LEV_OPT_REUSEABLE_PORT: int  # 0x80
LEV_OPT_BIND_IPV6ONLY: int  # 0x100

AcceptCb = Callable[["Listener", int, Any, Any], Any]

class Listener:
    """evconnlistener: accept connections on a listening socket.
    cb(listener, fd, address, arg) runs per accepted connection."""
    base: EventBase
    last_error: int
    def __init__(self, base: EventBase, cb: Optional[AcceptCb], arg: Any, flags: int,
                 backlog: int, sock: Any) -> None: ...
    @classmethod
    def bind(cls, base: EventBase, cb: Optional[AcceptCb], arg: Any, flags: int, backlog: int,
             address: Any, family: Optional[int] = None) -> "Listener":
        """evconnlistener_new_bind."""
    def enable(self) -> None: ...
    def disable(self) -> None: ...
    def set_cb(self, cb: Optional[AcceptCb], arg: Any = None) -> None: ...
    def set_error_cb(self, errorcb: Optional[Callable[["Listener", Any], Any]]) -> None: ...
    def get_fd(self) -> int: ...
    def get_base(self) -> EventBase: ...
    def free(self) -> None: ...

# -- the asyncio face's engine (aio/loop.pyx, aio/transports.pyx); users
# -- meet these through evloop.EventLoop, which is an asyncio event loop --

class Handle:
    """asyncio.Handle for call_soon (same methods)."""
    def cancel(self) -> None: ...
    def cancelled(self) -> bool: ...
    def get_context(self) -> Any: ...

class TimerHandle(Event):
    """asyncio.TimerHandle for call_later/call_at: an Event in the base's
    timer heap."""
    def when(self) -> float: ...
    def cancel(self) -> None: ...
    def cancelled(self) -> bool: ...
    def get_context(self) -> Any: ...

class Loop:
    """The compiled engine of evloop.EventLoop (first in its MRO).

    Typed in asyncio's own types, as typeshed types BaseEventLoop, so that
    an EventLoop type-checks wherever an asyncio.AbstractEventLoop is
    expected (mypy checks each of these methods against asyncio's).  The
    handles returned are evloop's Handle and TimerHandle above, which have
    asyncio.Handle's and asyncio.TimerHandle's public methods but are not
    their subclasses (uvloop types its handles the same way).
    """
    @property
    def event_base(self) -> EventBase:
        """The loop's EventBase: Events added there share the loop's passes."""
    def time(self) -> float: ...
    def call_soon(
        self, callback: Callable[[Unpack[_Ts]], object], *args: Unpack[_Ts],
        context: Optional[Context] = None,
    ) -> asyncio.Handle: ...
    def call_soon_threadsafe(
        self, callback: Callable[[Unpack[_Ts]], object], *args: Unpack[_Ts],
        context: Optional[Context] = None,
    ) -> asyncio.Handle: ...
    def call_later(
        self, delay: float, callback: Callable[[Unpack[_Ts]], object], *args: Unpack[_Ts],
        context: Optional[Context] = None,
    ) -> asyncio.TimerHandle: ...
    def call_at(
        self, when: float, callback: Callable[[Unpack[_Ts]], object], *args: Unpack[_Ts],
        context: Optional[Context] = None,
    ) -> asyncio.TimerHandle: ...
    def get_debug(self) -> bool: ...
    def create_future(self) -> asyncio.Future[Any]: ...
    # create_task's signature follows the Python version, as typeshed's
    # BaseEventLoop.create_task does (3.10 has no context=; the compiled
    # method raises the stdlib's TypeError for it there).  eager_start= is
    # typed for 3.13 as typeshed types it; the stdlib takes it from 3.13.3,
    # the compiled method not yet (TypeError).
    if sys.version_info >= (3, 13):
        def create_task(
            self, coro: _CoroutineLike[_T], *, name: object = None,
            context: Optional[Context] = None, eager_start: Optional[bool] = None,
        ) -> asyncio.Task[_T]: ...
    elif sys.version_info >= (3, 11):
        def create_task(
            self, coro: _CoroutineLike[_T], *, name: object = None,
            context: Optional[Context] = None,
        ) -> asyncio.Task[_T]: ...
    else:
        def create_task(
            self, coro: _CoroutineLike[_T], *, name: object = None
        ) -> asyncio.Task[_T]: ...
    async def sock_recv(self, sock: socket, n: int) -> bytes: ...
    async def sock_recv_into(self, sock: socket, buf: WriteableBuffer) -> int: ...
    # (also on Python 3.10, where asyncio has no sock_recvfrom etc.)
    async def sock_recvfrom(self, sock: socket, bufsize: int) -> Tuple[bytes, _RetAddress]: ...
    async def sock_recvfrom_into(
        self, sock: socket, buf: WriteableBuffer, nbytes: int = 0
    ) -> Tuple[int, _RetAddress]: ...
    async def sock_sendall(self, sock: socket, data: ReadableBuffer) -> None: ...
    async def sock_sendto(self, sock: socket, data: ReadableBuffer, address: _Address) -> int: ...
    async def sock_accept(self, sock: socket) -> Tuple[socket, _RetAddress]: ...
    # The engine's side of asyncio's private API (what BaseEventLoop and
    # evloop.EventLoop call).
    _closed: bool
    _debug: bool
    _stopping: bool
    _ready: Any
    def _check_closed(self) -> None: ...
    def _call_soon(self, callback: Callable[..., object], args: Tuple[Any, ...],
                   context: Optional[Context]) -> asyncio.Handle: ...
    def _run_once(self) -> None: ...
    def _add_reader(self, fd: FileDescriptorLike, callback: Callable[..., object],
                    *args: Any) -> asyncio.Handle: ...
    def _add_writer(self, fd: FileDescriptorLike, callback: Callable[..., object],
                    *args: Any) -> asyncio.Handle: ...
    def _remove_reader(self, fd: FileDescriptorLike) -> bool: ...
    def _remove_writer(self, fd: FileDescriptorLike) -> bool: ...
    def _add_signal_watcher(self, sig: int, callback: Callable[..., object],
                            args: Tuple[Any, ...]) -> Any: ...
    def _del_signal_watcher(self, watcher: Any) -> None: ...
    def _free_engine(self) -> None: ...

class StreamTransport(Bufferevent, asyncio.Transport):
    """asyncio's stream transport (TCP, Unix) on a socket Bufferevent;
    isinstance(t, asyncio.Transport) holds.  get_extra_info('bufferevent')
    returns the transport itself."""
    def __init__(self, loop: Loop, sock: socket, protocol: asyncio.BaseProtocol,
                 waiter: Optional[asyncio.Future[Any]] = None,
                 extra: Optional[dict[str, Any]] = None, server: Any = None) -> None: ...
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...
    def is_closing(self) -> bool: ...
    def is_reading(self) -> bool: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def set_protocol(self, protocol: Any) -> None: ...
    def get_protocol(self) -> Any: ...
    def writelines(self, list_of_data: Iterable[BytesLike]) -> None: ...
    def write_eof(self) -> None: ...
    def can_write_eof(self) -> bool: ...
    def get_write_buffer_size(self) -> int: ...
    def get_write_buffer_limits(self) -> Tuple[int, int]: ...
    def set_write_buffer_limits(self, high: Optional[int] = None, low: Optional[int] = None) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...

class ReadPipeTransport(Bufferevent, asyncio.ReadTransport):
    """connect_read_pipe's transport (pipes, sockets, character devices
    such as a PTY master) on a Bufferevent over the pipe's fd;
    isinstance(t, asyncio.ReadTransport) holds."""
    max_size: int
    def __init__(self, loop: Loop, pipe: Any, protocol: asyncio.BaseProtocol,
                 waiter: Optional[asyncio.Future[Any]] = None,
                 extra: Optional[dict[str, Any]] = None) -> None: ...
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...
    def is_closing(self) -> bool: ...
    def is_reading(self) -> bool: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def set_protocol(self, protocol: Any) -> None: ...
    def get_protocol(self) -> Any: ...
    def close(self) -> None: ...

class WritePipeTransport(Bufferevent, asyncio.WriteTransport):
    """connect_write_pipe's transport on a Bufferevent over the pipe's fd;
    isinstance(t, asyncio.WriteTransport) holds."""
    def __init__(self, loop: Loop, pipe: Any, protocol: asyncio.BaseProtocol,
                 waiter: Optional[asyncio.Future[Any]] = None,
                 extra: Optional[dict[str, Any]] = None) -> None: ...
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...
    def is_closing(self) -> bool: ...
    def set_protocol(self, protocol: Any) -> None: ...
    def get_protocol(self) -> Any: ...
    def write(self, data: BytesLike) -> None: ...
    def writelines(self, list_of_data: Iterable[BytesLike]) -> None: ...
    def write_eof(self) -> None: ...
    def can_write_eof(self) -> bool: ...
    def get_write_buffer_size(self) -> int: ...
    def get_write_buffer_limits(self) -> Tuple[int, int]: ...
    def set_write_buffer_limits(self, high: Optional[int] = None, low: Optional[int] = None) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...

class ProcessTransport(asyncio.SubprocessTransport):
    """subprocess_exec/subprocess_shell's transport (asyncio's
    BaseSubprocessTransport, compiled): the child is a subprocess.Popen
    watched by a pidfd event on the loop's base; its pipes are
    ReadPipeTransport/WritePipeTransport.  isinstance(t,
    asyncio.SubprocessTransport) holds."""
    def __init__(self, loop: Loop, protocol: asyncio.BaseProtocol, args: Any, shell: bool,
                 stdin: Any, stdout: Any, stderr: Any, bufsize: int,
                 waiter: Optional[asyncio.Future[Any]] = None,
                 extra: Optional[dict[str, Any]] = None,
                 kwargs: Optional[dict[str, Any]] = None) -> None: ...
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...
    def set_protocol(self, protocol: Any) -> None: ...
    def get_protocol(self) -> Any: ...
    def is_closing(self) -> bool: ...
    def close(self) -> None: ...
    def get_pid(self) -> int: ...
    def get_returncode(self) -> Optional[int]: ...
    def get_pipe_transport(self, fd: int) -> Optional[asyncio.BaseTransport]: ...
    def send_signal(self, signal: int) -> None: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...
    async def _wait(self) -> int: ...
