"""Port of the libevent tutorial's section 2.5 program, "event_base的例子".

The tutorial's first program: create an event_base, print which I/O
multiplexing method libevent chose for it, run the event loop with no event
registered (it returns at once) and free the base.  Line by line through
evloop.compat, the C names kept; the C comments are translated.

One addition: the C stores event_base_dispatch()'s result in ``y`` and never
uses it; here it is printed.  It is 1, libevent's "no events were
registered" (the tutorial's section 2.4 lists only 0 and -1).

Run: python examples/tutorial/event_base_example.py
The method honours libevent's environment: EVENT_NOEPOLL=1 gives poll,
EVENT_NOEPOLL=1 EVENT_NOPOLL=1 gives select.
"""
import os
import sys

try:
    import evloop  # noqa: F401
except ImportError:  # run from a source checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from evloop.compat import event_base_dispatch, event_base_free, event_base_get_method, event_base_new


def main():
    print("init a event_base!")  # C: puts()
    base = event_base_new()  # initialise an event_base (C: struct event_base *base;)
    # Which I/O multiplexing method it uses; on Linux, epoll.
    x = event_base_get_method(base)
    print("METHOD:%s" % x)
    # The event loop.  No event is registered here, so it returns at once.
    y = event_base_dispatch(base)
    print("event_base_dispatch returned %d" % y)  # added: the C ignores y
    event_base_free(base)  # destroy the event_base
    # C: return 1.  0 here, so that a shell or make sees the success.
    return 0


if __name__ == "__main__":
    sys.exit(main())
