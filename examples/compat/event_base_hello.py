"""Getting an event_base: a port of the libevent book's event_base examples.

Mirrors "Setting up the Libevent library" / "Getting an event_base" of
Nick Mathewson's *Programming with Libevent*, name for name: list the
supported methods, ask for a base through an event_config that avoids
select() and requires the most demanding features first, relaxing the
requirements while event_base_new_with_config() returns NULL (None), then
report the backend and its features.  A timer says hello and calls
event_base_loopexit().

Run: python examples/compat/event_base_hello.py
"""
import os
import sys

try:
    import evloop  # noqa: F401
except ImportError:  # run from a source checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from evloop.compat import (
    EV_FEATURE_ET, EV_FEATURE_FDS, EV_FEATURE_O1, EVENT_LOG_WARN,
    event_base_dispatch, event_base_free, event_base_get_features,
    event_base_get_method, event_base_loopexit, event_base_new_with_config,
    event_config_avoid_method, event_config_free, event_config_new,
    event_config_require_features, event_free, event_get_supported_methods,
    event_get_version, event_set_log_callback, evtimer_add, evtimer_new,
)


def log_cb(severity, msg):
    # Like the book's "write_to_file_cb": libevent's warnings go where we say.
    print("[%s] %s" % ("warn" if severity >= EVENT_LOG_WARN else "msg", msg))


def hello_cb(fd, what, arg):
    base = arg
    print("Hello from a timer on %s: fd=%d what=0x%02x" % (event_base_get_method(base), fd, what))
    event_base_loopexit(base, None)


def feature_names(f):
    names = []
    if f & EV_FEATURE_ET:
        names.append("Edge-triggered events are supported.")
    if f & EV_FEATURE_O1:
        names.append("O(1) event notification is supported.")
    if f & EV_FEATURE_FDS:
        names.append("All FD types are supported.")
    return names


def main():
    event_set_log_callback(log_cb)
    print("Starting Libevent %s.  Available methods are:" % event_get_version())
    for method in event_get_supported_methods():
        print("    %s" % method)

    # I'd like O(1) notification on every kind of fd; failing that O(1) on
    # sockets; failing that anything but select().  Try in that order.
    base = None
    for required in (EV_FEATURE_O1 | EV_FEATURE_FDS, EV_FEATURE_O1, 0):
        cfg = event_config_new()
        event_config_avoid_method(cfg, "select")
        if required:
            event_config_require_features(cfg, required)
        base = event_base_new_with_config(cfg)
        event_config_free(cfg)
        if base is not None:
            break
        # event_base_new_with_config() returned NULL: relax and retry.
        print("No backend offers features 0x%02x; relaxing." % required)
    if base is None:
        print("Couldn't get an event_base!")
        return 1

    print("Using Libevent with backend method %s." % event_base_get_method(base))
    for name in feature_names(event_base_get_features(base)):
        print("  " + name)

    timer = evtimer_new(base, hello_cb, base)
    evtimer_add(timer, (0, 100000))
    rc = event_base_dispatch(base)
    print("event_base_dispatch returned %d" % rc)

    event_free(timer)
    event_base_free(base)
    event_set_log_callback(None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
