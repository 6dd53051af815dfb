# Signals (libevent signal.c).
#
# libevent installs its own sigaction handler that writes the signal number
# into a per-base socketpair.  In CPython the C-level handler is Python's
# own: it records the signal for the main thread's eval loop and, if
# signal.set_wakeup_fd() was given an fd, writes the signal number there as
# one byte per delivery.  So evloop installs a no-op Python handler for each
# watched signal, points the wakeup fd at a socketpair, and an internal
# persistent read event on the other end turns each byte into an activation
# (ncalls = number of deliveries, as libevent's evsig_cb counts them).
#
# Consequences, all shared with libevent or with asyncio:
# * only the main thread can claim signals (set_wakeup_fd's rule);
# * only one base can own signals at a time (the wakeup fd is global).
#   libevent moves ownership with a warning; evloop refuses with
#   RuntimeError while the owner still has signal events;
# * the previous handler of each signal, and the previous wakeup fd, are
#   restored when the last signal event goes away (libevent restores
#   handlers the same way).

import signal as _signal
import socket as _socket

cdef int NSIG_MAX = 65

# The base that owns signals (borrowed: the owner clears it when it releases
# ownership, at the latest when it is freed or deallocated).
cdef PyObject *sig_owner = NULL


def _sig_noop(signum, frame):
    """Python-level handler of signals watched by an EventBase: the work is
    done by the wakeup-fd byte, see core/signals.pyx."""


cdef int sig_claim(EventBase base) except -1:
    global sig_owner
    cdef Event ev
    if sig_owner != NULL and sig_owner != <PyObject *>base:
        other = <EventBase>sig_owner
        if other.nsig_events > 0 and not other.freed:
            raise RuntimeError(
                "another EventBase already has signal events; only one base can "
                "have signals at a time (libevent's rule: free or delete its "
                "signal events first)")
    r, w = _socket.socketpair()
    try:
        r.setblocking(False)
        w.setblocking(False)
        try:
            old = _signal.set_wakeup_fd(w.fileno(), warn_on_full_buffer=False)
        except ValueError as exc:
            raise RuntimeError(
                f"signal events can only be added from the main thread ({exc})") from None
        base.sig_old_wakeup = old
        base.sig_sock_r = r
        base.sig_sock_w = w
        ev = Event.__new__(Event)
        event_assign_internal(ev, base, r.fileno(), C_EV_READ | C_EV_PERSIST, base._signal_cb)
        ev.pri = 0
        event_add_nolock(base, ev, 0, False, False)
        base.sig_ev = ev
    except BaseException:
        if base.sig_sock_r is not None:
            _signal.set_wakeup_fd(base.sig_old_wakeup if base.sig_old_wakeup is not None else -1)
        base.sig_sock_r = base.sig_sock_w = None
        r.close()
        w.close()
        raise
    sig_owner = <PyObject *>base
    return 0


cdef int sig_release(EventBase base) except -1:
    global sig_owner
    if base.sig_ev is not None:
        event_del_nolock(base, base.sig_ev, True)
        base.sig_ev = None
    if base.sig_sock_r is not None:
        try:
            cur = _signal.set_wakeup_fd(-1)
            # Restore the previous wakeup fd only if nobody replaced ours.
            if cur == base.sig_sock_w.fileno():
                old = base.sig_old_wakeup
                _signal.set_wakeup_fd(old if old is not None else -1)
            else:
                _signal.set_wakeup_fd(cur)
        except ValueError:
            pass          # not the main thread any more: nothing we can do
        base.sig_sock_r.close()
        base.sig_sock_w.close()
        base.sig_sock_r = base.sig_sock_w = None
    if sig_owner == <PyObject *>base:
        sig_owner = NULL
    return 0


cdef int sig_install(EventBase base, int sig) except -1:
    try:
        old = _signal.signal(sig, _sig_noop)
    except ValueError as exc:
        raise ValueError(f"signal {sig}: {exc}") from None
    except OSError as exc:
        raise OSError(exc.errno, f"signal {sig}: {exc.strerror}") from None
    base.sig_old_handlers[sig] = old
    return 0


cdef int sig_restore(EventBase base, int sig) except -1:
    old = base.sig_old_handlers.pop(sig, None)
    if sig_owner != NULL and sig_owner != <PyObject *>base:
        # A base inherited through fork() that another base has replaced
        # as the owner (see _sig_after_fork_child): the handlers are the
        # new owner's now.
        return 0
    if old is None:
        old = _signal.SIG_DFL
    try:
        _signal.signal(sig, old)
    except (ValueError, OSError):
        pass
    return 0


def _sig_after_fork_child():
    """os.register_at_fork(after_in_child=...): in a forked child, no base
    owns the signals.  The owner's socketpair is shared with the parent,
    whose base would read the bytes of the child's signals, and a new base
    of the child could not claim the signals from a base the child cannot
    run.  asyncio resets the wake-up fd in a forked child the same way
    (Python 3.12+, asyncio/events.py on_fork); the Python-level handlers
    stay, as asyncio's do.  A base that keeps its signal events in the
    child calls reinit(), which claims them again with a socketpair of its
    own (libevent's rule: event_reinit after fork)."""
    global sig_owner
    cdef EventBase owner
    if sig_owner == NULL:
        return
    owner = <EventBase>sig_owner
    sig_owner = NULL
    if owner.sig_sock_w is None:
        return
    try:
        cur = _signal.set_wakeup_fd(-1)
        if cur != owner.sig_sock_w.fileno():
            _signal.set_wakeup_fd(cur)   # not ours: leave it
    except (ValueError, OSError):
        pass


_os.register_at_fork(after_in_child=_sig_after_fork_child)
