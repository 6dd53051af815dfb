"""Rate limits of socket bufferevents (libevent bufferevent_ratelim.c,
reference 2.14 "Rate limiting"), on every backend.

The bound checked is the token-bucket invariant: after the bucket has seen
T ticks, the bytes read are at most burst + T * rate.  T is counted in the
same ticks the bucket uses (CLOCK_MONOTONIC ms // msec_per_tick), so the
tests assert on byte counts per tick, never on elapsed time.
"""
import pytest

from evloop import (
    Bufferevent, RateLimitGroup, TokenBucketCfg,
    BEV_OPT_CLOSE_ON_FREE, EV_READ, EVLOOP_ONCE, EV_RATE_LIMIT_MAX,
    gettime_monotonic,
)

from helpers import guard, nb_socketpair

RATE = 4096
BURST = 8192
TICK = 0.05


def tick_now(cfg):
    return int(gettime_monotonic() * 1000) // cfg.msec_per_tick


def fill(sock, n):
    sent = 0
    chunk = b"x" * 65536
    while sent < n:
        try:
            sent += sock.send(chunk[:n - sent])
        except BlockingIOError:
            break
    return sent


def test_cfg_checks():
    cfg = TokenBucketCfg(RATE, BURST, RATE, BURST, TICK)
    assert (cfg.read_rate, cfg.read_burst, cfg.write_rate, cfg.write_burst) == \
        (RATE, BURST, RATE, BURST)
    assert cfg.msec_per_tick == 50 and cfg.tick_len == pytest.approx(0.05)
    assert TokenBucketCfg(1, 1, 1, 1).msec_per_tick == 1000       # default 1 s
    assert TokenBucketCfg(1, 1, 1, 1, 0.0001).msec_per_tick == 1000   # < 1 ms
    assert TokenBucketCfg(1, 1, 1, 1, (0, 250000)).msec_per_tick == 250
    with pytest.raises(ValueError, match="read_rate"):
        TokenBucketCfg(10, 5, 1, 1)
    with pytest.raises(ValueError, match="write_rate"):
        TokenBucketCfg(1, 1, 10, 5)
    with pytest.raises(ValueError, match="read_rate"):
        TokenBucketCfg(0, 5, 1, 1)
    with pytest.raises(ValueError, match="write_burst"):
        TokenBucketCfg(1, 1, 1, -1)
    with pytest.raises(ValueError, match="read_burst"):
        TokenBucketCfg(1, EV_RATE_LIMIT_MAX + 1, 1, 1)
    with pytest.raises(ValueError, match="tick_len"):
        TokenBucketCfg(1, 1, 1, 1, -1)
    with pytest.raises(TypeError, match="read_rate"):
        TokenBucketCfg("1", 1, 1, 1)


def test_limits_and_decrement(base):
    s1, s2 = nb_socketpair()
    bev = Bufferevent(base, s1.detach(), BEV_OPT_CLOSE_ON_FREE)
    assert bev.get_read_limit() > 2 ** 31        # EV_SSIZE_MAX: no limit
    assert bev.get_max_to_read() == 16384        # max_single_read
    with pytest.raises(RuntimeError):
        bev.decrement_read_limit(1)
    cfg = TokenBucketCfg(RATE, BURST, 1000, 2000, 3600)   # one tick an hour
    bev.set_rate_limit(cfg)
    assert bev.get_read_limit() == RATE and bev.get_write_limit() == 1000
    assert bev.get_max_to_read() == RATE and bev.get_max_to_write() == 1000
    bev.decrement_read_limit(RATE - 10)
    assert bev.get_read_limit() == 10 and bev.get_max_to_read() == 10
    bev.decrement_write_limit(1500)
    assert bev.get_write_limit() == -500 and bev.get_max_to_write() == 0
    bev.write(b"y" * 100)
    base.loop(EVLOOP_ONCE | 0x02)
    assert len(bev.get_output()) == 100          # write suspended: bucket <= 0
    bev.decrement_write_limit(-600)
    assert bev.get_write_limit() == 100
    g = guard(base)
    while len(bev.get_output()) and not base.got_break():
        base.loop(EVLOOP_ONCE)
    g.delete()
    assert s2.recv(1000) == b"y" * 100
    assert bev.get_write_limit() == 0
    bev.set_rate_limit(None)
    assert bev.get_read_limit() > 2 ** 31
    with pytest.raises(TypeError, match="cfg"):
        bev.set_rate_limit(42)
    bev.free()
    s2.close()


def test_read_rate_per_tick(base):
    s1, s2 = nb_socketpair()
    bev = Bufferevent(base, s1.detach(), BEV_OPT_CLOSE_ON_FREE)
    cfg = TokenBucketCfg(RATE, BURST, RATE, BURST, TICK)
    reads = []
    bev.setcb(lambda b, a: reads.append(len(b.read(1 << 20))), None, None)
    sent = fill(s2, 200000)
    assert sent > 8 * BURST
    start = tick_now(cfg)
    bev.set_rate_limit(cfg)
    bev.enable(EV_READ)
    g = guard(base, 10.0)
    checks = 0
    while sum(reads) < 5 * RATE and not base.got_break():
        base.loop(EVLOOP_ONCE)
        ticks = tick_now(cfg) - start
        assert sum(reads) <= BURST + ticks * RATE
        checks += 1
    g.delete()
    assert sum(reads) >= 5 * RATE
    assert max(reads) <= BURST       # a read never exceeds the bucket
    assert sum(reads) < sent         # the rest waits in the socket
    bev.free()
    s2.close()


def test_group_shares_buckets(base):
    pairs = [nb_socketpair() for _ in range(2)]
    bevs = [Bufferevent(base, a.detach(), BEV_OPT_CLOSE_ON_FREE) for a, _ in pairs]
    cfg = TokenBucketCfg(RATE, RATE, RATE, RATE, TICK)
    grp = RateLimitGroup(base, cfg)
    got = [0, 0]
    for i, bev in enumerate(bevs):
        grp.add(bev)
        bev.setcb(lambda b, a: got.__setitem__(a, got[a] + len(b.read(1 << 20))), None, None, i)
    assert grp.get_members() == bevs[::-1]
    assert grp.get_read_limit() == RATE
    assert bevs[0].get_max_to_read() == RATE // 2    # bucket / members
    grp.set_min_share(3000)
    assert bevs[0].get_max_to_read() == 3000          # at least min_share
    grp.set_min_share(64)
    for _, peer in pairs:
        fill(peer, 100000)
    start = tick_now(cfg)
    for bev in bevs:
        bev.enable(EV_READ)
    g = guard(base, 10.0)
    while sum(got) < 4 * RATE and not base.got_break():
        base.loop(EVLOOP_ONCE)
        assert sum(got) <= RATE + (tick_now(cfg) - start) * RATE + 64 * 2
    g.delete()
    assert got[0] > 0 and got[1] > 0                  # both members got a share
    total_read, total_written = grp.get_totals()
    assert total_read == sum(got) and total_written == 0
    grp.reset_totals()
    assert grp.get_totals() == (0, 0)
    with pytest.raises(RuntimeError, match="members"):
        grp.free()
    grp.remove(bevs[0])
    assert grp.get_members() == [bevs[1]]
    bevs[1].free()                                     # freeing leaves the group
    assert grp.get_members() == []
    grp.set_cfg(TokenBucketCfg(100, 100, 100, 100, TICK))
    assert grp.get_read_limit() <= 100
    grp.free()
    with pytest.raises(RuntimeError):
        grp.add(bevs[0])
    bevs[0].free()
    for _, peer in pairs:
        peer.close()


def test_pairs_ignore_limits(base):
    a, b = Bufferevent.pair(base)
    b.set_rate_limit(TokenBucketCfg(1, 1, 1, 1, 3600))
    got = []
    b.setcb(lambda bev, arg: got.append(bev.read(100)), None, None)
    b.enable(EV_READ)
    a.write(b"x" * 50)
    for _ in range(3):
        base.loop(EVLOOP_ONCE | 0x02)
    assert b"".join(got) == b"x" * 50
    a.free()
    b.free()


def test_compat_names(base):
    from evloop import compat as C
    cfg = C.ev_token_bucket_cfg_new(RATE, BURST, RATE, BURST, (0, 50000))
    assert cfg.msec_per_tick == 50
    assert C.ev_token_bucket_cfg_new(10, 5, 1, 1, None) is None
    s1, s2 = nb_socketpair()
    bev = C.bufferevent_socket_new(base, s1.detach(), BEV_OPT_CLOSE_ON_FREE)
    assert C.bufferevent_decrement_read_limit(bev, 1) == -1     # no limit set
    assert C.bufferevent_set_rate_limit(bev, cfg) == 0
    assert C.bufferevent_get_read_limit(bev) == RATE
    assert C.bufferevent_decrement_write_limit(bev, 96) == 0
    assert C.bufferevent_get_write_limit(bev) == RATE - 96
    assert C.bufferevent_get_max_to_read(bev) == RATE
    assert C.bufferevent_get_max_to_write(bev) == RATE - 96
    grp = C.bufferevent_rate_limit_group_new(base, cfg)
    assert C.bufferevent_add_to_rate_limit_group(bev, grp) == 0
    assert C.bufferevent_rate_limit_group_set_min_share(grp, 100) == 0
    assert C.bufferevent_rate_limit_group_set_cfg(grp, cfg) == 0
    assert C.bufferevent_rate_limit_group_get_read_limit(grp) == RATE
    assert C.bufferevent_rate_limit_group_get_write_limit(grp) == RATE
    assert C.bufferevent_rate_limit_group_get_totals(grp) == (0, 0)
    C.bufferevent_rate_limit_group_reset_totals(grp)
    assert C.bufferevent_remove_from_rate_limit_group(bev) == 0
    assert grp.get_members() == []
    C.bufferevent_rate_limit_group_free(grp)
    assert grp.freed
    assert C.bufferevent_set_rate_limit(bev, None) == 0
    C.ev_token_bucket_cfg_free(cfg)
    C.bufferevent_free(bev)
    s2.close()
