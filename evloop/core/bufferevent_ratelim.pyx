# Rate limiting of socket bufferevents: libevent's bufferevent_ratelim.c.
#
# A token bucket holds how many bytes may still be read (or written).  Time
# is cut into ticks of cfg.msec_per_tick ms counted from the clock's epoch
# (ev_token_bucket_get_tick_); each tick that passes adds ``rate`` bytes, up
# to ``burst``.  A new bucket starts with ``rate`` bytes.  A socket
# bufferevent reads (writes) at most what its bucket holds, and subtracts
# what it moved; the bucket may go negative (one read can overshoot), and
# when it is <= 0 that direction is suspended (BEV_SUSPEND_BW) and a
# one-shot refill timer re-checks one tick later.
#
# A group shares two buckets among its members.  Each member may move at
# most max(bucket / n_members, min_share) per operation; when the group's
# bucket is <= 0 every member is suspended (BEV_SUSPEND_BW_GROUP) and the
# group's persistent per-tick timer unsuspends them once the bucket holds
# at least min_share again.  Limiting is best effort by design, as in
# libevent: only socket bufferevents honour it (pairs and filters ignore
# it); libevent unsuspends group members in random order, we in list order.
#
# The clock is the base's cached monotonic time (libevent uses the cached
# wall time); a tick_len under 1 ms is taken as 1 s (libevent's
# msec_per_tick would be 0 and divide by zero: regress "ratelimit div by
# zero").

# libevent's is EV_SSIZE_MAX; 2**31 - 1 (its 32-bit value) keeps
# n_ticks * rate far from overflowing.
cdef Py_ssize_t C_EV_RATE_LIMIT_MAX = 2147483647
EV_RATE_LIMIT_MAX = C_EV_RATE_LIMIT_MAX


cdef inline int64_t rl_tick(EventBase base, TokenBucketCfg cfg) noexcept:
    """ev_token_bucket_get_tick_."""
    return (gettime(base) // 1000000) // cfg.msec_per_tick


cdef int bucket_update(Py_ssize_t *rd, Py_ssize_t *wr, int64_t *last, TokenBucketCfg cfg,
                       int64_t tick) except -1:
    """ev_token_bucket_update_: add rate per elapsed tick, clipped at burst."""
    cdef int64_t n = tick - last[0]
    if n <= 0:
        return 0
    if (cfg.read_burst - rd[0]) // n < cfg.read_rate:
        rd[0] = cfg.read_burst
    else:
        rd[0] += n * cfg.read_rate
    if (cfg.write_burst - wr[0]) // n < cfg.write_rate:
        wr[0] = cfg.write_burst
    else:
        wr[0] += n * cfg.write_rate
    last[0] = tick
    return 1


# The decrement functions take any ssize_t; the buckets saturate at
# +-2**62, so that bucket_update's burst - bucket (burst < 2**31) and a
# later decrement can never overflow and flip the bucket's sign.
cdef Py_ssize_t BUCKET_LIMIT = (<Py_ssize_t>1) << 62


cdef inline Py_ssize_t bucket_sub(Py_ssize_t bucket, Py_ssize_t decr) noexcept:
    """bucket - decr, saturated at +-BUCKET_LIMIT (both are within
    +-PY_SSIZE_T_MAX, and |bucket| <= BUCKET_LIMIT, so the checks below
    cannot overflow themselves)."""
    if decr > 0 and bucket < -BUCKET_LIMIT + decr:
        return -BUCKET_LIMIT
    if decr < 0 and bucket > BUCKET_LIMIT + decr:
        return BUCKET_LIMIT
    return bucket - decr


cdef TokenBucketCfg check_cfg(object cfg, str argname):
    """A TokenBucketCfg that went through __init__: one made by
    TokenBucketCfg.__new__ has a 0 ms tick, and every tick computation
    divides by it."""
    if not isinstance(cfg, TokenBucketCfg):
        raise TypeError(f"{argname} must be a TokenBucketCfg, not {type(cfg).__name__}")
    if (<TokenBucketCfg>cfg).msec_per_tick <= 0:
        raise ValueError(f"{argname}: this TokenBucketCfg was never initialised")
    return <TokenBucketCfg>cfg


cdef Py_ssize_t check_rate(object value, str name) except -1:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    if value > C_EV_RATE_LIMIT_MAX:
        raise ValueError(f"{name} must be <= EV_RATE_LIMIT_MAX ({C_EV_RATE_LIMIT_MAX}), got {value}")
    return value


cdef class TokenBucketCfg:
    """ev_token_bucket_cfg_new(read_rate, read_burst, write_rate,
    write_burst, tick_len=1.0): rates are bytes per tick, bursts the most a
    bucket holds, tick_len seconds (a (sec, usec) tuple or a number; under
    1 ms means 1 s, as libevent's millisecond ticks cannot be shorter).

    Raises ValueError naming the argument for a rate or burst < 1 or above
    EV_RATE_LIMIT_MAX (2**31 - 1), a rate above its burst, or a negative
    tick_len (libevent returns NULL)."""

    def __init__(self, read_rate, read_burst, write_rate, write_burst, tick_len=1.0):
        cdef int64_t ns
        cdef Py_ssize_t rr, rb, wr, wb
        if self.msec_per_tick:
            # Buckets and groups hold a cfg by reference and never re-read
            # its limits; it must not change under them.
            raise RuntimeError("TokenBucketCfg is immutable: make a new one")
        # Everything is checked before anything is stored, so a refused
        # call leaves an uninitialised cfg (which nothing accepts).
        rr = check_rate(read_rate, "read_rate")
        rb = check_rate(read_burst, "read_burst")
        wr = check_rate(write_rate, "write_rate")
        wb = check_rate(write_burst, "write_burst")
        if rr > rb:
            raise ValueError(f"read_rate ({read_rate}) must be <= read_burst ({read_burst})")
        if wr > wb:
            raise ValueError(f"write_rate ({write_rate}) must be <= write_burst ({write_burst})")
        ns = timeout_to_ns(None, tick_len, "tick_len") if tick_len is not None else -2
        if ns == -2 or ns < 1000000:
            ns = 1000000000
        self.read_rate = rr
        self.read_burst = rb
        self.write_rate = wr
        self.write_burst = wb
        self.msec_per_tick = ns // 1000000
        self.tick_ns = self.msec_per_tick * 1000000

    @property
    def tick_len(self):
        """The tick length in seconds (millisecond granularity)."""
        return self.msec_per_tick / 1000.0

    def free(self):
        """ev_token_bucket_cfg_free: nothing to do (garbage-collected)."""

    def __repr__(self):
        return (f"<evloop.TokenBucketCfg read {self.read_rate}/{self.read_burst} "
                f"write {self.write_rate}/{self.write_burst} tick {self.tick_len}s>")


cdef class BevRateLimit:
    pass


cdef BevRateLimit bev_rlim(Bufferevent bev):
    """The bufferevent's rate-limit record, made on first use."""
    cdef BevRateLimit r = bev.rate_limiting
    if r is None:
        r = BevRateLimit.__new__(BevRateLimit)
        r.bev = bev
        r.refill_ev = Event(bev.base, -1, 0, _bev_refill_cb, bev)
        bev.rate_limiting = r
    return r


cdef int bev_update_buckets(Bufferevent bev) except -1:
    cdef BevRateLimit r = bev.rate_limiting
    bucket_update(&r.read_limit, &r.write_limit, &r.last_updated, r.cfg,
                  rl_tick(bev.base, r.cfg))
    return 0


cdef Py_ssize_t bev_get_rlim_max(Bufferevent bev, bint is_write) except -1:
    """bufferevent_get_rlim_max_: what one read/write may move now."""
    cdef Py_ssize_t max_so_far = bev.max_single_write if is_write else bev.max_single_read
    cdef Py_ssize_t share, lim
    cdef BevRateLimit r = bev.rate_limiting
    cdef RateLimitGroup g
    if r is None:
        return max_so_far
    if r.cfg is not None:
        bev_update_buckets(bev)
        lim = r.write_limit if is_write else r.read_limit
        if lim < max_so_far:
            max_so_far = lim
    g = r.group
    if g is not None:
        if (g.write_suspended if is_write else g.read_suspended):
            if is_write:
                bev._suspend_write(BEV_SUSPEND_BW_GROUP)
            else:
                bev._suspend_read(BEV_SUSPEND_BW_GROUP)
            share = 0
        else:
            # XXXX (libevent) probably divide among the active members.
            share = (g.write_limit if is_write else g.read_limit) // len(g.members)
            if share < g.min_share:
                share = g.min_share
        if share < max_so_far:
            max_so_far = share
    return max_so_far if max_so_far > 0 else 0


cdef int bev_decrement_buckets(Bufferevent bev, Py_ssize_t n, bint is_write) except -1:
    """bufferevent_decrement_read_buckets_ / _write_buckets_."""
    cdef BevRateLimit r = bev.rate_limiting
    cdef RateLimitGroup g
    cdef Py_ssize_t lim
    if r is None:
        return 0
    if r.cfg is not None:
        if is_write:
            r.write_limit -= n
            lim = r.write_limit
        else:
            r.read_limit -= n
            lim = r.read_limit
        if lim <= 0:
            if is_write:
                bev._suspend_write(BEV_SUSPEND_BW)
            else:
                bev._suspend_read(BEV_SUSPEND_BW)
            event_add_nolock(bev.base, r.refill_ev, r.cfg.tick_ns, True, False)
        elif (bev.write_suspended if is_write else bev.read_suspended) & BEV_SUSPEND_BW:
            if not ((bev.read_suspended if is_write else bev.write_suspended) & BEV_SUSPEND_BW):
                event_del_nolock(bev.base, r.refill_ev, False)
            if is_write:
                bev._unsuspend_write(BEV_SUSPEND_BW)
            else:
                bev._unsuspend_read(BEV_SUSPEND_BW)
    g = r.group
    if g is not None:
        if is_write:
            g.write_limit -= n
            g.total_written += n
            if g.write_limit <= 0:
                group_suspend(g, True)
            elif g.write_suspended:
                group_unsuspend(g, True)
        else:
            g.read_limit -= n
            g.total_read += n
            if g.read_limit <= 0:
                group_suspend(g, False)
            elif g.read_suspended:
                group_unsuspend(g, False)
    return 0


def _bev_refill_cb(fd, what, Bufferevent bev):
    """bev_refill_callback_: refill, unsuspend what has tokens again, else
    wait another tick."""
    cdef BevRateLimit r = bev.rate_limiting
    cdef bint again = False
    if bev.freed or r is None or r.cfg is None:
        return
    bev_update_buckets(bev)
    if bev.read_suspended & BEV_SUSPEND_BW:
        if r.read_limit > 0:
            bev._unsuspend_read(BEV_SUSPEND_BW)
        else:
            again = True
    if bev.write_suspended & BEV_SUSPEND_BW:
        if r.write_limit > 0:
            bev._unsuspend_write(BEV_SUSPEND_BW)
        else:
            again = True
    if again and not bev.freed:
        event_add_nolock(bev.base, r.refill_ev, r.cfg.tick_ns, True, False)


cdef int bev_set_rate_limit(Bufferevent bev, TokenBucketCfg cfg) except -1:
    """bufferevent_set_rate_limit."""
    cdef BevRateLimit r = bev.rate_limiting
    cdef bint reinit, suspended = False
    if cfg is None:
        if r is not None:
            r.cfg = None
            bev._unsuspend_read(BEV_SUSPEND_BW)
            bev._unsuspend_write(BEV_SUSPEND_BW)
            event_del_nolock(bev.base, r.refill_ev, False)
        return 0
    if r is not None and r.cfg is cfg:
        return 0
    r = bev_rlim(bev)
    reinit = r.cfg is not None
    r.cfg = cfg
    if reinit:
        # ev_token_bucket_init_(reinitialize): only clip downwards.
        if r.read_limit > cfg.read_burst:
            r.read_limit = cfg.read_burst
        if r.write_limit > cfg.write_burst:
            r.write_limit = cfg.write_burst
        event_del_nolock(bev.base, r.refill_ev, False)
    else:
        r.read_limit = cfg.read_rate
        r.write_limit = cfg.write_rate
        r.last_updated = rl_tick(bev.base, cfg)
    if r.read_limit > 0:
        bev._unsuspend_read(BEV_SUSPEND_BW)
    else:
        bev._suspend_read(BEV_SUSPEND_BW)
        suspended = True
    if r.write_limit > 0:
        bev._unsuspend_write(BEV_SUSPEND_BW)
    else:
        bev._suspend_write(BEV_SUSPEND_BW)
        suspended = True
    if suspended:
        event_add_nolock(bev.base, r.refill_ev, cfg.tick_ns, True, False)
    return 0


cdef int bev_decrement_limit(Bufferevent bev, Py_ssize_t decr, bint is_write) except -1:
    """bufferevent_decrement_read_limit / _write_limit: may suspend or
    unsuspend, as if decr bytes had (or, negative, had not) moved."""
    cdef BevRateLimit r = bev.rate_limiting
    cdef Py_ssize_t old, new
    if r is None or r.cfg is None:
        raise RuntimeError("the bufferevent has no rate limit (set_rate_limit first)")
    if is_write:
        old = r.write_limit
        r.write_limit = bucket_sub(old, decr)
        new = r.write_limit
    else:
        old = r.read_limit
        r.read_limit = bucket_sub(old, decr)
        new = r.read_limit
    if old > 0 and new <= 0:
        if is_write:
            bev._suspend_write(BEV_SUSPEND_BW)
        else:
            bev._suspend_read(BEV_SUSPEND_BW)
        event_add_nolock(bev.base, r.refill_ev, r.cfg.tick_ns, True, False)
    elif old <= 0 and new > 0:
        if not ((bev.read_suspended if is_write else bev.write_suspended) & BEV_SUSPEND_BW):
            event_del_nolock(bev.base, r.refill_ev, False)
        if is_write:
            bev._unsuspend_write(BEV_SUSPEND_BW)
        else:
            bev._unsuspend_read(BEV_SUSPEND_BW)
    return 0


cdef int bev_rate_limit_teardown(Bufferevent bev) except -1:
    """The rate-limit part of bufferevent_decref_and_unlock_."""
    cdef BevRateLimit r = bev.rate_limiting
    if r is None:
        return 0
    if r.group is not None:
        group_remove(bev, False)
    if not bev.base.freed:
        event_del_nolock(bev.base, r.refill_ev, False)
    r.cfg = None
    bev.rate_limiting = None
    return 0


# -- groups -------------------------------------------------------------------------------

cdef int group_suspend(RateLimitGroup g, bint is_write) except -1:
    """bev_group_suspend_reading_ / _writing_."""
    cdef Bufferevent bev
    if is_write:
        g.write_suspended = True
    else:
        g.read_suspended = True
    for bev in list(g.members):
        if is_write:
            bev._suspend_write(BEV_SUSPEND_BW_GROUP)
        else:
            bev._suspend_read(BEV_SUSPEND_BW_GROUP)
    return 0


cdef int group_unsuspend(RateLimitGroup g, bint is_write) except -1:
    """bev_group_unsuspend_reading_ / _writing_ (list order, not random)."""
    cdef Bufferevent bev
    if is_write:
        g.write_suspended = False
    else:
        g.read_suspended = False
    for bev in list(g.members):
        if bev.freed:
            continue
        if is_write:
            bev._unsuspend_write(BEV_SUSPEND_BW_GROUP)
        else:
            bev._unsuspend_read(BEV_SUSPEND_BW_GROUP)
    return 0


cdef int group_remove(Bufferevent bev, bint unsuspend) except -1:
    """bufferevent_remove_from_rate_limit_group_internal_."""
    cdef BevRateLimit r = bev.rate_limiting
    if r is not None and r.group is not None:
        r.group.members.remove(bev)
        r.group = None
    if unsuspend:
        bev._unsuspend_read(BEV_SUSPEND_BW_GROUP)
        bev._unsuspend_write(BEV_SUSPEND_BW_GROUP)
    return 0


def _group_refill_cb(fd, what, RateLimitGroup g):
    """bev_group_refill_callback_."""
    if g.freed:
        return
    bucket_update(&g.read_limit, &g.write_limit, &g.last_updated, g.cfg,
                  rl_tick(g.base, g.cfg))
    if g.read_suspended and g.read_limit >= g.min_share:
        group_unsuspend(g, False)
    if g.write_suspended and g.write_limit >= g.min_share:
        group_unsuspend(g, True)


cdef class RateLimitGroup:
    """bufferevent_rate_limit_group_new(base, cfg): buckets shared by the
    bufferevents added to it (add/remove); see core/bufferevent_ratelim.pyx.
    Each member gets at least min_share (default 64) bytes per operation."""

    def __init__(self, base, cfg):
        cdef EventBase b
        cdef TokenBucketCfg c
        if self.base is not None:
            # Its members point at it and its refill timer is in the base.
            raise RuntimeError("RateLimitGroup.__init__ called twice: make a new group")
        b = usable_base(base, "create a rate-limit group")
        c = check_cfg(cfg, "cfg")
        self.base = b
        self.members = []
        self.cfg = c
        self.read_limit = c.read_rate
        self.write_limit = c.write_rate
        self.last_updated = rl_tick(b, c)
        self.refill_ev = Event(b, -1, C_EV_PERSIST, _group_refill_cb, self)
        event_add_nolock(b, self.refill_ev, c.tick_ns, True, False)
        self._set_min_share(64)

    def _check(self, str what):
        if self.base is None:
            raise RuntimeError(f"cannot {what}: the rate-limit group was never initialised")
        if self.freed:
            raise RuntimeError(f"cannot {what}: the rate-limit group was freed")
        if self.base.freed:
            raise RuntimeError(f"cannot {what}: the group's EventBase was freed")
        return 0

    def _set_min_share(self, Py_ssize_t share):
        self._check("set the min share")
        self.configured_min_share = share
        # Not more than one tick's worth: at steady state at least one
        # member can go per tick.
        if share > self.cfg.read_rate:
            share = self.cfg.read_rate
        if share > self.cfg.write_rate:
            share = self.cfg.write_rate
        self.min_share = share

    def set_min_share(self, share):
        """bufferevent_rate_limit_group_set_min_share."""
        self._check("set the min share")
        if not isinstance(share, int) or isinstance(share, bool):
            raise TypeError(f"share must be an int, not {type(share).__name__}")
        if share < 0 or share > C_EV_RATE_LIMIT_MAX:
            raise ValueError(f"share must be in 0..{C_EV_RATE_LIMIT_MAX}, got {share}")
        self._set_min_share(share)

    def set_cfg(self, cfg):
        """bufferevent_rate_limit_group_set_cfg: new rates; the buckets are
        only clipped down to the new bursts."""
        cdef TokenBucketCfg c
        self._check("set the cfg")
        c = check_cfg(cfg, "cfg")
        same_tick = c.msec_per_tick == self.cfg.msec_per_tick
        self.cfg = c
        if self.read_limit > c.read_burst:
            self.read_limit = c.read_burst
        if self.write_limit > c.write_burst:
            self.write_limit = c.write_burst
        if not same_tick:
            event_add_nolock(self.base, self.refill_ev, c.tick_ns, True, False)
        self._set_min_share(self.configured_min_share)

    def add(self, Bufferevent bev not None):
        """bufferevent_add_to_rate_limit_group (moves it from another group)."""
        cdef BevRateLimit r
        self._check("add to the group")
        bev._check("add to a rate-limit group")
        r = bev_rlim(bev)
        if r.group is self:
            return
        if r.group is not None:
            group_remove(bev, True)
        r.group = self
        self.members.insert(0, bev)
        if self.read_suspended:
            bev._suspend_read(BEV_SUSPEND_BW_GROUP)
        if self.write_suspended:
            bev._suspend_write(BEV_SUSPEND_BW_GROUP)

    def remove(self, Bufferevent bev not None):
        """bufferevent_remove_from_rate_limit_group (a bufferevent not in
        this group is left alone)."""
        cdef BevRateLimit r = bev.rate_limiting
        if r is None or r.group is not self:
            return
        group_remove(bev, not bev.freed)

    def get_read_limit(self):
        """bufferevent_rate_limit_group_get_read_limit."""
        return self.read_limit

    def get_write_limit(self):
        """bufferevent_rate_limit_group_get_write_limit."""
        return self.write_limit

    def decrement_read(self, decr):
        """bufferevent_rate_limit_group_decrement_read."""
        self._decrement(decr, False)

    def decrement_write(self, decr):
        """bufferevent_rate_limit_group_decrement_write."""
        self._decrement(decr, True)

    def _decrement(self, decr, bint is_write):
        cdef Py_ssize_t old, new
        cdef Py_ssize_t d
        self._check("decrement the group's limit")
        d = check_decr(decr)
        if is_write:
            old = self.write_limit
            self.write_limit = bucket_sub(old, d)
            new = self.write_limit
        else:
            old = self.read_limit
            self.read_limit = bucket_sub(old, d)
            new = self.read_limit
        if old > 0 and new <= 0:
            group_suspend(self, is_write)
        elif old <= 0 and new > 0:
            group_unsuspend(self, is_write)

    def get_totals(self):
        """bufferevent_rate_limit_group_get_totals: (total_read, total_written)."""
        return (self.total_read, self.total_written)

    def reset_totals(self):
        """bufferevent_rate_limit_group_reset_totals."""
        self.total_read = self.total_written = 0

    def get_members(self):
        """The member bufferevents (evloop; libevent has no getter)."""
        return list(self.members or ())

    def free(self):
        """bufferevent_rate_limit_group_free: RuntimeError while it has
        members (libevent asserts).  Idempotent."""
        if self.freed:
            return
        if self.members:
            raise RuntimeError(f"cannot free the rate-limit group: it has "
                               f"{len(self.members)} members")
        self.freed = True
        if self.base is not None and not self.base.freed:
            event_del_nolock(self.base, self.refill_ev, False)

    def __repr__(self):
        return (f"<evloop.RateLimitGroup {len(self.members or ())} members "
                f"read={self.read_limit} write={self.write_limit}>")
