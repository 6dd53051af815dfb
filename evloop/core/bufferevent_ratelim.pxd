# Declarations of bufferevent rate limiting (libevent bufferevent_ratelim.c):
# token-bucket configurations, a bufferevent's own buckets, and groups of
# bufferevents sharing buckets.  Every field is commented; the
# implementation is core/bufferevent_ratelim.pyx.


cdef class TokenBucketCfg:
    # struct ev_token_bucket_cfg (immutable once made).
    cdef readonly Py_ssize_t read_rate      # bytes added to the read bucket per tick
    cdef readonly Py_ssize_t read_burst     # most the read bucket holds (read_maximum)
    cdef readonly Py_ssize_t write_rate     # bytes added to the write bucket per tick
    cdef readonly Py_ssize_t write_burst    # most the write bucket holds
    cdef readonly int64_t msec_per_tick     # tick length in ms (>= 1)
    cdef int64_t tick_ns                    # the same in ns, for the refill timers


cdef class BevRateLimit:
    # struct bufferevent_rate_limit: hangs off Bufferevent.rate_limiting.
    cdef Bufferevent bev                # its bufferevent
    cdef TokenBucketCfg cfg             # its own buckets' cfg, or None (group only)
    cdef RateLimitGroup group           # the group it is in, or None
    cdef Py_ssize_t read_limit          # its read bucket (may go negative)
    cdef Py_ssize_t write_limit         # its write bucket
    cdef int64_t last_updated           # tick of the last refill
    cdef Event refill_ev                # one-shot timer: refill after a suspension


cdef class RateLimitGroup:
    # struct bufferevent_rate_limit_group.
    cdef readonly EventBase base        # the base of its refill timer
    cdef list members                   # Bufferevents in the group
    cdef TokenBucketCfg cfg             # rate_limit_cfg
    cdef Py_ssize_t read_limit          # the shared read bucket
    cdef Py_ssize_t write_limit         # the shared write bucket
    cdef int64_t last_updated           # tick of the last refill
    cdef bint read_suspended            # every member's reading is suspended
    cdef bint write_suspended           # every member's writing is suspended
    cdef unsigned long long total_read     # bytes read by members since reset_totals
    cdef unsigned long long total_written  # bytes written since reset_totals
    cdef Py_ssize_t min_share           # effective minimum share per member
    cdef Py_ssize_t configured_min_share   # what set_min_share was given
    cdef Event refill_ev                # persistent per-tick timer (master_refill_event)
    cdef readonly bint freed            # free() was called
