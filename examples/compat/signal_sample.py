"""Catching SIGINT with an event: a port of libevent's sample/signal-test.c.

evsignal_new() makes a persistent EV_SIGNAL event whose callback receives
the event itself (event_self_cbarg()).  Each SIGINT prints a line; after N
of them the callback deletes the event, nothing is pending any more, and
event_base_dispatch() returns (signal-test.c stops after 3).

Run: python examples/compat/signal_sample.py [N]   then press Ctrl-C N times.
Prints "READY" once the handler is in place.
"""
import os
import signal
import sys

try:
    import evloop  # noqa: F401
except ImportError:  # run from a source checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from evloop.compat import (
    event_add, event_base_dispatch, event_base_free, event_base_new,
    event_del, event_free, event_get_signal, event_self_cbarg, evsignal_new,
)

called = 0
limit = 3


def signal_cb(fd, event, arg):
    global called
    sig_event = arg
    called += 1
    print("signal_cb: got signal %d (%d of %d)" % (event_get_signal(sig_event), called, limit),
          flush=True)
    if called >= limit:
        event_del(sig_event)


def main(argv):
    global limit
    limit = int(argv[1]) if len(argv) > 1 else 3
    ret = 0
    signal_int = None
    base = event_base_new()
    if base is None:
        return 1
    # Initialize one event
    signal_int = evsignal_new(base, signal.SIGINT, signal_cb, event_self_cbarg())
    if signal_int is None:
        ret = 2
    elif event_add(signal_int, None) != 0:
        ret = 3
    else:
        print("READY", flush=True)
        rc = event_base_dispatch(base)
        print("event_base_dispatch returned %d after %d signals" % (rc, called), flush=True)
    if signal_int is not None:
        event_free(signal_int)
    event_base_free(base)
    return ret


if __name__ == "__main__":
    sys.exit(main(sys.argv))
