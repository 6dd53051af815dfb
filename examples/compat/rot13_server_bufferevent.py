"""Port of the libevent book's "A simpler ROT13 server with Libevent".

Line for line: per connection a socket bufferevent (BEV_OPT_CLOSE_ON_FREE)
with a read high watermark of MAX_LINE; readcb rot13's every complete line
found with evbuffer_readln(EVBUFFER_EOL_LF) into the output (an over-long
line is passed through in pieces), and errorcb frees the bufferevent on EOF,
error or timeout.  Changes: an evconnlistener replaces the book's hand-made
accept event (the book's next chapter recommends it), the server prints
"FREED <n>" for each connection it frees, and SIGINT/SIGTERM stop the loop
so that everything is freed and the exit code is 0.
Run: python examples/compat/rot13_server_bufferevent.py [PORT]  (0: any free
port); it prints "METHOD:<backend>" and "PORT:<port>", then serves 127.0.0.1.
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
    BEV_EVENT_EOF, BEV_EVENT_ERROR, BEV_EVENT_TIMEOUT, BEV_OPT_CLOSE_ON_FREE,
    EV_READ, EV_WRITE, EVBUFFER_EOL_LF, LEV_OPT_CLOSE_ON_FREE, LEV_OPT_REUSEABLE,
    bufferevent_enable, bufferevent_free, bufferevent_get_input, bufferevent_get_output,
    bufferevent_setcb, bufferevent_setwatermark, bufferevent_socket_new,
    event_add, event_base_dispatch, event_base_free, event_base_get_method,
    event_base_loopexit, event_base_new, event_free, evbuffer_add, evbuffer_get_length,
    evbuffer_readln, evbuffer_remove, evconnlistener_free, evconnlistener_get_fd,
    evconnlistener_new_bind, evsignal_new, evutil_closesocket,
)

MAX_LINE = 16384
FD_SETSIZE = 1024
ROT13 = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    b"NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm")

connections = set()  # the open bufferevents, freed at shutdown
n_freed = 0


def rot13(data):  # C: a loop of rot13_char() over the bytes
    return bytes(data).translate(ROT13)


def readcb(bev, ctx):
    input = bufferevent_get_input(bev)
    output = bufferevent_get_output(bev)

    while True:
        line = evbuffer_readln(input, EVBUFFER_EOL_LF)
        if line is None:
            break
        evbuffer_add(output, rot13(line), len(line))
        evbuffer_add(output, b"\n", 1)

    if evbuffer_get_length(input) >= MAX_LINE:
        # Too long; just process what there is and go on so that the
        # buffer doesn't grow infinitely long.
        while evbuffer_get_length(input):
            buf = evbuffer_remove(input, 1024)
            evbuffer_add(output, rot13(buf), len(buf))
        evbuffer_add(output, b"\n", 1)


def errorcb(bev, error, ctx):
    global n_freed
    if error & BEV_EVENT_EOF:
        pass  # connection has been closed, do any clean up here
    elif error & BEV_EVENT_ERROR:
        pass  # check bev.last_error (C: errno) to see what error occurred
    elif error & BEV_EVENT_TIMEOUT:
        pass  # must be a timeout event; handle it
    bufferevent_free(bev)
    connections.discard(bev)
    n_freed += 1
    print("FREED %d" % n_freed, flush=True)


def do_accept(listener, fd, address, arg):
    base = arg
    if fd > FD_SETSIZE:
        evutil_closesocket(fd)  # select() could not watch it
        return
    # The listener made fd non-blocking already (C: evutil_make_socket_nonblocking).
    bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)
    bufferevent_setcb(bev, readcb, None, errorcb, None)
    bufferevent_setwatermark(bev, EV_READ, 0, MAX_LINE)
    bufferevent_enable(bev, EV_READ | EV_WRITE)
    connections.add(bev)


def on_signal(sig, events, arg):
    event_base_loopexit(arg, None)


def run(port):
    base = event_base_new()
    if base is None:
        return 1

    listener = evconnlistener_new_bind(base, do_accept, base,
                                       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
                                       ("127.0.0.1", port))
    if listener is None:
        print("evconnlistener_new_bind failed", file=sys.stderr)
        return 1
    stops = [evsignal_new(base, s, on_signal, base) for s in (signal.SIGINT, signal.SIGTERM)]
    for ev in stops:
        event_add(ev, None)

    print("METHOD:%s" % event_base_get_method(base), flush=True)
    sock = socket.socket(fileno=evconnlistener_get_fd(listener))
    print("PORT:%d" % sock.getsockname()[1], flush=True)
    sock.detach()
    rc = event_base_dispatch(base)

    for bev in list(connections):
        bufferevent_free(bev)
    for ev in stops:
        event_free(ev)
    evconnlistener_free(listener)
    event_base_free(base)
    print("server: event_base_dispatch returned %d; bye" % rc, flush=True)
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(run(int(sys.argv[1]) if len(sys.argv) > 1 else 40713))
