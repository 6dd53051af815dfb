# Time: the monotonic clock the timers run on, wall-clock conversion, and
# the parsing of every "timeout" argument of the libevent face.
#
# libevent keeps struct timeval (µs) deadlines on CLOCK_MONOTONIC_COARSE
# unless EVENT_BASE_FLAG_PRECISE_TIMER.  evloop keeps int64 nanoseconds on
# CLOCK_MONOTONIC always: the asyncio face needs time.monotonic()'s clock,
# and the coarse clock's 1-4 ms steps buy nothing measurable in Python.


import math as _math

cdef double _INF = _math.inf

cdef int64_t NS_PER_SEC = 1000000000
cdef int64_t NS_PER_USEC = 1000
# Deadlines further than this are clamped (as uvloop clamps >100 years).
cdef int64_t MAX_TIMEOUT_NS = <int64_t>100 * 365 * 86400 * NS_PER_SEC


cdef inline int64_t mono_ns() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <int64_t>ts.tv_sec * NS_PER_SEC + ts.tv_nsec


cdef inline int64_t real_ns() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_REALTIME, &ts)
    return <int64_t>ts.tv_sec * NS_PER_SEC + ts.tv_nsec


cdef inline double mono_to_wall(int64_t t_ns) noexcept nogil:
    """A monotonic deadline as wall-clock seconds (libevent adds
    tv_clock_diff the same way)."""
    return (t_ns + (real_ns() - mono_ns())) / 1e9


def gettime_monotonic():
    """CLOCK_MONOTONIC now, in seconds: the clock of every EventBase timer."""
    return mono_ns() / 1e9


cdef int64_t seconds_to_ns(object value, str argname) except -1:
    """Non-negative seconds (int or float) to nanoseconds, clamped.

    The one place where a number of seconds becomes a duration of the
    libevent face.  NaN and the infinities are refused here: a NaN
    compares false with everything, and the C cast of ``nan * 1e9`` is
    INT64_MIN, a deadline in the past that makes the backend wait wrap; an
    infinite timeout is spelled None (no timeout) on this face."""
    cdef double d
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{argname} must be >= 0, got {value!r}")
        if value >= MAX_TIMEOUT_NS // NS_PER_SEC:
            return MAX_TIMEOUT_NS
        return <int64_t>value * NS_PER_SEC
    d = value
    if d != d or d == _INF or d == -_INF:
        raise ValueError(f"{argname} must be a finite number of seconds, got {value!r}")
    if d < 0.0:
        raise ValueError(f"{argname} must be >= 0, got {value!r}")
    if d >= <double>(MAX_TIMEOUT_NS // NS_PER_SEC):
        return MAX_TIMEOUT_NS
    return <int64_t>(d * 1e9 + 0.5)


cdef int64_t timeout_to_ns(object base, object timeout, str argname) except -1:
    """Parse a timeout argument (see the stub's conventions).

    Returns the duration in ns, or -2 for None.  ``base`` is the EventBase a
    CommonTimeout must belong to."""
    cdef object sec, usec
    if timeout is None:
        return -2
    if type(timeout) is float or type(timeout) is int:
        return seconds_to_ns(timeout, argname)
    cdef CommonTimeout tok
    if isinstance(timeout, CommonTimeout):
        tok = <CommonTimeout>timeout
        if tok.base_ref is None:
            # CommonTimeout.__new__(CommonTimeout): no base, no list, no timer.
            raise ValueError(f"{argname}: this CommonTimeout was not made by "
                             f"EventBase.init_common_timeout()")
        if tok.base_ref() is not base:
            raise ValueError(f"{argname}: this CommonTimeout belongs to another EventBase")
        return tok.duration_ns
    if isinstance(timeout, tuple):
        if len(timeout) != 2:
            raise ValueError(f"{argname} as a timeval must be a (sec, usec) pair, got {timeout!r}")
        sec, usec = timeout
        if not isinstance(sec, int) or not isinstance(usec, int) or \
                isinstance(sec, bool) or isinstance(usec, bool):
            raise TypeError(f"{argname} as a timeval must hold two ints, got {timeout!r}")
        if sec < 0 or usec < 0:
            raise ValueError(f"{argname} must be >= 0, got {timeout!r}")
        if usec >= 1000000:
            raise ValueError(f"{argname}: usec must be < 1000000, got {usec}")
        if sec >= MAX_TIMEOUT_NS // NS_PER_SEC:
            return MAX_TIMEOUT_NS
        return <int64_t>sec * NS_PER_SEC + <int64_t>usec * NS_PER_USEC
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        return seconds_to_ns(timeout, argname)
    raise TypeError(
        f"{argname} must be None, seconds (int or float), a (sec, usec) tuple "
        f"or a CommonTimeout, not {type(timeout).__name__}")


cdef class CommonTimeout:
    """Opaque token from EventBase.init_common_timeout(duration).

    libevent encodes it in a magic timeval; evloop keeps it as an object.
    Events added with it share a deadline order with every other timer of
    the base (see docs/design.md, "Common timeouts")."""

    @property
    def duration(self):
        return self.duration_ns / 1e9

    def __repr__(self):
        return f"<CommonTimeout #{self.index} {self.duration_ns / 1e9:g}s>"
