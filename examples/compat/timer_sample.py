"""A persistent timer: a port of libevent's sample/time-test.c.

time-test.c assigns one event with event_assign(), adds it with a 2-second
timeval and prints the time elapsed at each timeout.  This port runs it with
EV_PERSIST (time-test's "-p" mode), stops after N ticks with event_del(), and
lets event_base_dispatch() return because nothing is pending any more.

Run: python examples/compat/timer_sample.py [N [INTERVAL_MS]]   (5 ticks, 100 ms)
"""
import os
import sys

try:
    import evloop  # noqa: F401
except ImportError:  # run from a source checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from evloop.compat import (
    EV_PERSIST, EV_TIMEOUT, event_add, event_base_dispatch, event_base_free,
    event_base_new, event_del, event_free, event_new, event_pending,
    event_self_cbarg, evutil_gettimeofday, evutil_timersub,
)

lasttime = (0, 0)
ticks = 0
max_ticks = 5


def timeout_cb(fd, event, arg):
    global lasttime, ticks
    timeout = arg  # event_self_cbarg(): the event itself
    _, newtime = evutil_gettimeofday()
    difference = evutil_timersub(newtime, lasttime)
    elapsed = difference[0] + difference[1] / 1.0e6
    ticks += 1
    print("timeout_cb called at %d: %.3f seconds elapsed. (tick %d)" % (newtime[0], elapsed, ticks))
    lasttime = newtime
    if ticks >= max_ticks:
        # A persistent event stays pending until deleted.
        event_del(timeout)


def main(argv):
    global lasttime, max_ticks
    max_ticks = int(argv[1]) if len(argv) > 1 else 5
    interval_ms = int(argv[2]) if len(argv) > 2 else 100

    # Initialize the event library
    base = event_base_new()

    # Initialize one event (time-test.c event_assign()s a struct event on
    # the stack; Python allocates with event_new()).
    timeout = event_new(base, -1, EV_PERSIST, timeout_cb, event_self_cbarg())

    tv = (interval_ms // 1000, (interval_ms % 1000) * 1000)
    event_add(timeout, tv)
    print("pending on: 0x%02x" % event_pending(timeout, EV_TIMEOUT), flush=True)

    _, lasttime = evutil_gettimeofday()
    rc = event_base_dispatch(base)
    print("event_base_dispatch returned %d after %d ticks" % (rc, ticks))

    event_free(timeout)
    event_base_free(base)
    return 0 if ticks == max_ticks else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
