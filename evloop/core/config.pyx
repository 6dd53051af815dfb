# EventConfig: libevent's struct event_config (event_config_new & co).

cdef int KNOWN_FEATURES = C_FEAT_ET | C_FEAT_O1 | C_FEAT_FDS | C_FEAT_EARLY_CLOSE
cdef int KNOWN_FLAGS = (C_FLAG_NOLOCK | C_FLAG_IGNORE_ENV | C_FLAG_STARTUP_IOCP |
                        C_FLAG_NO_CACHE_TIME | C_FLAG_EPOLL_USE_CHANGELIST |
                        C_FLAG_PRECISE_TIMER)


cdef int check_int(object value, str argname) except -1:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{argname} must be an int, not {type(value).__name__}")
    return 0


cdef class EventConfig:
    """event_config: constraints on the backend of a new EventBase.

    See also: EventBase(config).  Differences from libevent: unknown feature
    or flag bits raise ValueError instead of being ignored;
    EVENT_BASE_FLAG_STARTUP_IOCP and EPOLL_USE_CHANGELIST are accepted and
    have no effect (no IOCP here; evloop's epoll backend applies changes at
    once, which is correct for dup()'d fds).
    """

    def __cinit__(self):
        self.avoided = []
        self.features = 0
        self.flags = 0
        self.max_interval_ns = -1
        self.max_callbacks = -1
        self.min_priority = 1      # event_config_new's default

    def avoid_method(self, method):
        """event_config_avoid_method: never pick backend ``method``."""
        if not isinstance(method, str):
            raise TypeError(f"method must be a str, not {type(method).__name__}")
        self.avoided.append(method)

    def require_features(self, features):
        """event_config_require_features: replace the required feature mask."""
        check_int(features, "features")
        if features & ~KNOWN_FEATURES or features < 0:
            raise ValueError(f"features: unknown EV_FEATURE_* bits in {features:#x}")
        self.features = features

    def set_flag(self, flag):
        """event_config_set_flag: OR in EVENT_BASE_FLAG_* bits."""
        check_int(flag, "flag")
        if flag & ~KNOWN_FLAGS or flag < 0:
            raise ValueError(f"flag: unknown EVENT_BASE_FLAG_* bits in {flag:#x}")
        self.flags |= flag

    def set_max_dispatch_interval(self, max_interval, max_callbacks, min_priority):
        """event_config_set_max_dispatch_interval: after max_callbacks
        callbacks (-1: no limit) or max_interval (None: no limit) of
        priority >= min_priority, stop running callbacks and poll again."""
        cdef int64_t ns
        check_int(max_callbacks, "max_callbacks")
        check_int(min_priority, "min_priority")
        # Both are C ints in libevent; negative values mean "no limit" and
        # "every priority", so only the top needs a check.
        if max_callbacks > INT_MAX:
            raise ValueError(f"max_callbacks must be <= {INT_MAX} (or < 0: no limit), "
                             f"got {max_callbacks}")
        if min_priority > INT_MAX:
            raise ValueError(f"min_priority must be <= {INT_MAX}, got {min_priority}")
        if isinstance(max_interval, CommonTimeout):
            raise TypeError("max_interval cannot be a CommonTimeout")
        ns = timeout_to_ns(None, max_interval, "max_interval")
        self.max_interval_ns = -1 if ns == -2 else ns
        self.max_callbacks = max_callbacks if max_callbacks >= 0 else -1
        self.min_priority = min_priority if min_priority >= 0 else 0
