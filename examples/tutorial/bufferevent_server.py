"""The libevent tutorial's chapter 5, "Bufferevent": chapter 4's server redone.

Chapter 5 lists three problems of the chapter 4 echo server (socket_server.py)
and gives no program: it shows bufferevent_socket_new() and its options and
says to improve the socket example with them.  This is that improvement,
through evloop.compat, with chapter 4's names and order wherever they still
apply (main(), do_accept() on a non-blocking, reuseable listening socket with
the same persistent accept event):

1. "do_read keeps being looped as an event": each client is now a socket
   bufferevent (BEV_OPT_CLOSE_ON_FREE); read_cb runs when data has arrived,
   and a bufferevent stops reading once its client has left.
2. "when the client disconnects, do_read does not know": event_cb gets
   BEV_EVENT_EOF or BEV_EVENT_ERROR, says so and frees the bufferevent,
   which closes the socket.
3. "sticky and split packets": read_cb frames by line with
   evbuffer_readln(), so a line split over several sends is echoed whole,
   and several lines in one send are echoed one by one.

Added for testability, as in socket_server.py: the port from the command
line (default 8001; 0 picks one, printed as "PORT:<port>") and SIGINT/SIGTERM
stopping the loop through evsignal events, after which everything is freed.
Run: python examples/tutorial/bufferevent_server.py [PORT]; nc 127.0.0.1 8001
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
    BEV_EVENT_EOF, BEV_OPT_CLOSE_ON_FREE, EV_PERSIST, EV_READ, EV_TIMEOUT,
    EV_WRITE, EVBUFFER_EOL_LF,
    bufferevent_enable, bufferevent_free, bufferevent_get_input, bufferevent_get_output,
    bufferevent_setcb, bufferevent_socket_new, bufferevent_write, event_add,
    event_base_dispatch, event_base_free, event_base_get_method, event_base_loopexit,
    event_base_new, event_free, event_new, evbuffer_add, evbuffer_get_length,
    evbuffer_readln, evbuffer_remove, evsignal_new, evutil_make_listen_socket_reuseable,
    evutil_make_socket_nonblocking, evutil_socket_error_to_string,
)

MAX_LINE = 16384  # longer lines are echoed in pieces, so the input stays bounded
clients = set()  # added: the open bufferevents, freed at shutdown


def accept(fd):
    """accept(2) on the C's int fd: (client fd, address), or (-1, None)."""
    s = socket.socket(fileno=fd)  # borrowed: detached, never closed
    try:
        client, client_addr = s.accept()
        return client.detach(), client_addr
    except OSError:
        return -1, None
    finally:
        s.detach()


# Read callback: the client's data is in the bufferevent's input buffer
def read_cb(bev, arg):
    input = bufferevent_get_input(bev)
    output = bufferevent_get_output(bev)
    # Echo each whole line; a partial one waits in input for the rest.
    while True:
        line = evbuffer_readln(input, EVBUFFER_EOL_LF)
        if line is None:
            break
        print(line.decode("utf-8", "replace"))
        evbuffer_add(output, line + b"\n", len(line) + 1)
    while evbuffer_get_length(input) >= MAX_LINE:  # no end of line in sight
        data = evbuffer_remove(input, MAX_LINE)
        evbuffer_add(output, data, len(data))


# Event callback: the client left (EOF), or the connection failed (ERROR)
def event_cb(bev, events, arg):
    if events & BEV_EVENT_EOF:
        msg = "client closed the connection"
    else:  # BEV_EVENT_ERROR (no timeout is set); bev.last_error is C's errno
        msg = "client connection error: %s" % evutil_socket_error_to_string(bev.last_error)
    # Freeing it closes the socket too (BEV_OPT_CLOSE_ON_FREE) and deletes its
    # events; a last line without its end of line goes with it.
    bufferevent_free(bev)
    clients.discard(bev)
    print(msg)


# The callback that accepts the clients connecting to the listening socket
def do_accept(fd, event, arg):
    client_socketfd, client_addr = accept(fd)  # client_addr: the client's address
    if client_socketfd < 0:
        print("accpet error")  # (sic), as in chapter 4
        sys.exit(1)

    # Type conversion (C: (struct event_base *) arg)
    base_ev = arg

    # A bufferevent's socket must be non-blocking (chapter 5.1).
    evutil_make_socket_nonblocking(client_socketfd)
    bev = bufferevent_socket_new(base_ev, client_socketfd, BEV_OPT_CLOSE_ON_FREE)
    bufferevent_setcb(bev, read_cb, None, event_cb, base_ev)
    bufferevent_enable(bev, EV_READ | EV_WRITE)
    clients.add(bev)

    # Send the welcome message, as a line now that the protocol is lines
    msg = b"Welcome to My socket\n"
    bufferevent_write(bev, msg, len(msg))


def on_signal(sig, event, arg):  # added: SIGINT/SIGTERM end the loop
    event_base_loopexit(arg, None)


# The entry point: chapter 4's main()
def main(port):
    sys.stdout.reconfigure(line_buffering=True)  # added: a pipe sees each line at once
    server_addr = ("127.0.0.1", port)  # C: INADDR_ANY; 127.0.0.1 exposes nothing

    server_socketfd = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)  # C: PF_INET
    evutil_make_listen_socket_reuseable(server_socketfd)  # allow reusing the port
    evutil_make_socket_nonblocking(server_socketfd)  # make it non-blocking
    try:
        server_socketfd.bind(server_addr)
    except OSError:
        print("bind error")
        return 1  # C: return 0 (and 1 on success)
    server_socketfd.listen(10)
    print("PORT:%d" % server_socketfd.getsockname()[1])  # added, for port 0

    base_ev = event_base_new()
    x = event_base_get_method(base_ev)  # the I/O multiplexing method, on Linux usually epoll
    print("METHOD:%s" % x)

    # The persistent accept event of chapter 4
    ev = event_new(base_ev, server_socketfd, EV_TIMEOUT | EV_READ | EV_PERSIST, do_accept, base_ev)
    event_add(ev, None)
    stops = [evsignal_new(base_ev, s, on_signal, base_ev) for s in (signal.SIGINT, signal.SIGTERM)]
    for stop in stops:  # added
        event_add(stop, None)

    event_base_dispatch(base_ev)

    for bev in list(clients):  # added: the clients still connected
        bufferevent_free(bev)
    for e in [ev] + stops:
        event_free(e)
    event_base_free(base_ev)
    server_socketfd.close()
    return 0  # C: return 1; 0 here, so that a shell or make sees the success


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8001))
