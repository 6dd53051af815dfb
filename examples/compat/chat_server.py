"""A line-based chat server on evconnlistener, bufferevents and evbuffer_readln.

Every complete line a client sends (LF or CRLF terminated) is sent, with
"\\n", to every *other* connected client.  Each client is a socket
bufferevent; its readcb takes whole lines with evbuffer_readln() and writes
them into the other clients' bufferevents, which flush on their own.  A
client that disconnects (EOF or error) is freed and dropped from the room.
The server logs "JOIN <id>" and "LEAVE <id>" on stdout so a driver knows
who is in the room.  SIGINT/SIGTERM stop it cleanly (exit 0).
Run: python examples/compat/chat_server.py PORT   (0: any free port); it
prints "PORT:<port>", then serves 127.0.0.1.
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
    BEV_EVENT_EOF, BEV_EVENT_ERROR, BEV_OPT_CLOSE_ON_FREE, EV_READ, EV_WRITE,
    EVBUFFER_EOL_CRLF, LEV_OPT_CLOSE_ON_FREE, LEV_OPT_REUSEABLE,
    bufferevent_enable, bufferevent_free, bufferevent_get_input, bufferevent_setcb,
    bufferevent_setwatermark, bufferevent_socket_new, bufferevent_write,
    event_add, event_base_dispatch, event_base_free, event_base_loopexit,
    event_base_new, event_free, evbuffer_drain, evbuffer_get_length, evbuffer_readln,
    evconnlistener_free, evconnlistener_get_fd, evconnlistener_new_bind, evsignal_new,
)

MAX_LINE = 8192

clients = {}  # bufferevent -> client id
next_id = 1


def broadcast(sender, line):
    for bev in clients:
        if bev is not sender:
            bufferevent_write(bev, line + b"\n")


def chat_readcb(bev, arg):
    input = bufferevent_get_input(bev)
    while True:
        line = evbuffer_readln(input, EVBUFFER_EOL_CRLF)
        if line is None:
            break
        broadcast(bev, line)
    if evbuffer_get_length(input) >= MAX_LINE:
        # A "line" that never ends: drop it rather than buffer forever.
        evbuffer_drain(input, evbuffer_get_length(input))


def chat_eventcb(bev, what, arg):
    if what & (BEV_EVENT_EOF | BEV_EVENT_ERROR):
        client_id = clients.pop(bev, None)
        bufferevent_free(bev)
        print("LEAVE %s" % client_id, flush=True)


def accept_cb(listener, fd, address, base):
    global next_id
    bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)
    if bev is None:
        os.close(fd)
        return
    bufferevent_setcb(bev, chat_readcb, None, chat_eventcb, None)
    bufferevent_setwatermark(bev, EV_READ, 0, MAX_LINE)
    bufferevent_enable(bev, EV_READ | EV_WRITE)
    clients[bev] = next_id
    print("JOIN %d" % next_id, flush=True)
    next_id += 1


def on_signal(sig, events, base):
    event_base_loopexit(base, None)


def main(port):
    base = event_base_new()
    listener = evconnlistener_new_bind(base, accept_cb, base,
                                       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                                       ("127.0.0.1", port))
    if listener is None:
        print("could not listen on port %d" % port, file=sys.stderr)
        event_base_free(base)
        return 1
    stops = [evsignal_new(base, s, on_signal, base) for s in (signal.SIGINT, signal.SIGTERM)]
    for ev in stops:
        event_add(ev, None)

    sock = socket.socket(fileno=evconnlistener_get_fd(listener))
    print("PORT:%d" % sock.getsockname()[1], flush=True)
    sock.detach()
    rc = event_base_dispatch(base)

    for bev in list(clients):
        bufferevent_free(bev)
    clients.clear()
    for ev in stops:
        event_free(ev)
    evconnlistener_free(listener)
    event_base_free(base)
    print("chat: bye", flush=True)
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: chat_server.py PORT")
    sys.exit(main(int(sys.argv[1])))
