"""Port of the libevent book's "A low-level ROT13 server with Libevent".

Line for line: a non-blocking listener whose persistent read event accepts;
per connection an fd_state with a read event, a write event and a buffer.
Additions: free_fd_state() closes the fd (the book's leaks it), and
SIGINT/SIGTERM stop the loop so that everything is freed and exit is 0.
Run: python examples/compat/rot13_server_events.py [PORT]  (0: any free port);
it prints "METHOD:<backend>" and "PORT:<port>", then serves 127.0.0.1.
"""
import os
import signal
import socket
import sys

try:
    import evloop  # noqa: F401
except ImportError:  # run from a source checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from evloop.compat import (
    EV_PERSIST, EV_READ, EV_WRITE,
    event_add, event_base_dispatch, event_base_free, event_base_get_method,
    event_base_loopexit, event_base_new, event_del, event_free, event_get_fd,
    event_new, evsignal_new, evutil_closesocket,
    evutil_make_listen_socket_reuseable, evutil_make_socket_nonblocking,
)

MAX_LINE = 16384
FD_SETSIZE = 1024


def rot13_char(c):
    # Not isalpha(): the locale must not change what counts as a letter.
    if (ord("a") <= c <= ord("m")) or (ord("A") <= c <= ord("M")):
        return c + 13
    elif (ord("n") <= c <= ord("z")) or (ord("N") <= c <= ord("Z")):
        return c - 13
    return c


class fd_state:
    def __init__(self):
        self.buffer = bytearray()  # C: char buffer[MAX_LINE] + buffer_used
        self.n_written = self.write_upto = 0
        self.read_event = self.write_event = None


states = set()  # the open connections, freed at shutdown


def alloc_fd_state(base, fd):
    state = fd_state()
    state.read_event = event_new(base, fd, EV_READ | EV_PERSIST, do_read, state)
    state.write_event = event_new(base, fd, EV_WRITE | EV_PERSIST, do_write, state)
    states.add(state)
    return state


def free_fd_state(state):
    fd = event_get_fd(state.read_event)
    event_free(state.read_event)
    event_free(state.write_event)
    evutil_closesocket(fd)
    states.discard(state)


def do_read(fd, events, arg):
    state = arg
    while True:
        try:
            buf = os.read(fd, 1024)  # C: recv(fd, buf, sizeof(buf), 0)
        except BlockingIOError:  # C: result < 0 && errno == EAGAIN
            return
        except OSError:  # C: perror("recv")
            free_fd_state(state)
            return
        if not buf:
            break
        for c in buf:
            if len(state.buffer) < MAX_LINE:
                state.buffer.append(rot13_char(c))
            if c == ord("\n"):
                event_add(state.write_event, None)
                state.write_upto = len(state.buffer)
    free_fd_state(state)  # C: result == 0, the peer closed


def do_write(fd, events, arg):
    state = arg
    while state.n_written < state.write_upto:
        try:
            result = os.write(fd, state.buffer[state.n_written:state.write_upto])
        except BlockingIOError:
            return
        except OSError:
            free_fd_state(state)
            return
        assert result != 0
        state.n_written += result
    if state.n_written == len(state.buffer):
        state.n_written = state.write_upto = 0
        del state.buffer[:]
    event_del(state.write_event)


def accept(listener):  # accept(2) on a raw fd, as in C
    borrowed = socket.socket(fileno=listener)
    try:
        sock, _ = borrowed.accept()
    finally:
        borrowed.detach()  # the listener's fd stays open
    return sock.detach()


def do_accept(listener, event, arg):
    base = arg
    try:
        fd = accept(listener)
    except OSError as exc:  # C: fd < 0
        print("accept: %s" % exc, file=sys.stderr)
        return
    if fd > FD_SETSIZE:
        evutil_closesocket(fd)  # select() could not watch it
    else:
        evutil_make_socket_nonblocking(fd)
        state = alloc_fd_state(base, fd)
        event_add(state.read_event, None)


def on_signal(sig, events, arg):
    event_base_loopexit(arg, None)


def run(port):
    base = event_base_new()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    evutil_make_socket_nonblocking(listener)
    evutil_make_listen_socket_reuseable(listener)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)

    listener_event = event_new(base, listener, EV_READ | EV_PERSIST, do_accept, base)
    event_add(listener_event, None)
    stops = [evsignal_new(base, s, on_signal, base) for s in (signal.SIGINT, signal.SIGTERM)]
    for ev in stops:
        event_add(ev, None)

    print("METHOD:%s" % event_base_get_method(base), flush=True)
    print("PORT:%d" % listener.getsockname()[1], flush=True)
    rc = event_base_dispatch(base)

    for state in list(states):
        free_fd_state(state)
    for ev in stops + [listener_event]:
        event_free(ev)
    listener.close()
    event_base_free(base)
    print("server: event_base_dispatch returned %d; bye" % rc, flush=True)
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(run(int(sys.argv[1]) if len(sys.argv) > 1 else 40713))
