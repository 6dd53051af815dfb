"""The chapter-5 echo server of bench/echo_bufferevent.py, on evloop.

The Python twin of bench/c/bev_echo_server.c, call for call: an
evloop.Listener (evconnlistener_new_bind) accepts; every connection gets an
evloop.Bufferevent (bufferevent_socket_new, BEV_OPT_CLOSE_ON_FREE) whose
readcb moves the whole input into the output (evbuffer_add_buffer) and whose
eventcb frees it on EOF or error.  SIGINT/SIGTERM leave the loop.

usage: python bench/servers/evloop_bev_echo.py [PORT] [--nagle]
                                               [--max-single-read N]
PORT 0 or absent: any free port.  Binds 127.0.0.1 only; prints
"METHOD:<backend>" and "PORT:<port>" (flushed), then serves.

As in the C server, accepted sockets get TCP_NODELAY unless --nagle.
--max-single-read N calls bufferevent_set_max_single_read(N) on every
connection: with 4096 evloop reads in libevent 2.1's pattern (libevent 2.1
caps every read at EVBUFFER_MAX_READ = 4096 bytes; evloop's bufferevent
reads up to max_single_read, 16384 by default).
"""
import os
import signal
import socket
import sys

try:
    import evloop  # noqa: F401
except ImportError:  # run from a source checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from evloop import (
    BEV_EVENT_EOF, BEV_EVENT_ERROR, BEV_OPT_CLOSE_ON_FREE, EV_PERSIST, EV_READ, EV_SIGNAL,
    EV_WRITE, LEV_OPT_CLOSE_ON_FREE, LEV_OPT_REUSEABLE, Bufferevent, Event, EventBase, Listener,
)

connections = set()  # the open bufferevents, freed at shutdown
nodelay = True
max_single_read = 0


def readcb(bev, ctx):
    bev.output.add_buffer(bev.input)  # evbuffer_add_buffer(output, input)


def eventcb(bev, events, ctx):
    if events & (BEV_EVENT_EOF | BEV_EVENT_ERROR):
        bev.free()
        connections.discard(bev)


def accept_cb(listener, fd, address, base):
    if nodelay:
        s = socket.socket(fileno=fd)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.detach()
    bev = Bufferevent(base, fd, BEV_OPT_CLOSE_ON_FREE)
    if max_single_read:
        bev.set_max_single_read(max_single_read)
    bev.setcb(readcb, None, eventcb, None)
    bev.enable(EV_READ | EV_WRITE)
    connections.add(bev)


def signal_cb(sig, events, base):
    base.loopexit(None)


def main(argv):
    global nodelay, max_single_read
    port = 0
    args = list(argv)
    try:
        while args:
            a = args.pop(0)
            if a == "--nagle":
                nodelay = False
            elif a == "--max-single-read":
                max_single_read = int(args.pop(0))
            else:
                port = int(a)
    except (ValueError, IndexError):
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 1
    base = EventBase()
    listener = Listener.bind(base, accept_cb, base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                             -1, ("127.0.0.1", port))
    stops = [Event(base, s, EV_SIGNAL | EV_PERSIST, signal_cb, base)
             for s in (signal.SIGINT, signal.SIGTERM)]
    for ev in stops:
        ev.add()
    sock = socket.socket(fileno=listener.get_fd())
    bound = sock.getsockname()[1]
    sock.detach()
    print("METHOD:%s\nPORT:%d" % (base.get_method(), bound), flush=True)
    base.dispatch()
    for bev in list(connections):
        bev.free()
    for ev in stops:
        ev.free()
    listener.free()
    base.free()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
