"""Port of the libevent tutorial's chapter 4 program, "Socket实例".

The tutorial's echo server, line by line through evloop.compat (C names and
order kept, C comments translated).  Its flaws are kept, as chapter 5 lists
them: no framing, and a client's leaving goes unnoticed while its read event
fires forever -- bounded here so that it cannot spin a core (see do_read).
Added for testability: the port argument (default 8001, the tutorial's; 0
picks one, printed as "PORT:<port>"), and SIGINT/SIGTERM ending the loop.
Run: python examples/tutorial/socket_server.py [PORT]; nc 127.0.0.1 8001
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
    EV_PERSIST, EV_READ, EV_TIMEOUT,
    event_add, event_base_dispatch, event_base_free, event_base_get_method,
    event_base_loopexit, event_base_new, event_free, event_new, evsignal_new,
    evutil_closesocket, evutil_make_listen_socket_reuseable, evutil_make_socket_nonblocking,
)

SPIN_LIMIT = 1000  # added: the bound on a gone client's read event
read_events = {}  # added: fd -> its do_read event (the C drops the pointer)
spins = {}  # added: fd -> wake-ups that read nothing (its client is gone)
errno = 0


def _syscall(fd, call):
    """The C calls recv/send/accept on int fds and tests for -1; so do these."""
    global errno
    s = socket.socket(fileno=fd)  # borrows fd: detached, never closed
    try:
        return call(s)
    except OSError as e:
        errno = e.errno
        return -1
    finally:
        s.detach()


def accept(fd):  # (client fd, address), or (-1, None)
    result = _syscall(fd, lambda s: s.accept())
    return (-1, None) if result == -1 else (result[0].detach(), result[1])


def recv(fd, buf, n, flags):
    return _syscall(fd, lambda s: s.recv_into(buf, n, flags))


def send(fd, buf, n, flags):
    return _syscall(fd, lambda s: s.send(buf[:n], flags))


# Read from a client
def do_read(fd, event, arg):
    # Go on waiting for data
    buf = bytearray(1024)  # the buffer the data arrives in
    length = recv(fd, buf, 1024, 0)
    if length > 0:
        print(buf[:length].decode("utf-8", "replace"))  # C: printf("%s\n", buf)
        if send(fd, buf, length, 0) < 0:  # write the received data back to the client
            print("write: %s" % os.strerror(errno), file=sys.stderr)  # C: perror("write")
    else:
        # The flaw: the client is gone, recv() returns 0 (or -1 once, for a
        # reset), the fd stays readable and this event fires again at once,
        # forever: in C, a core spins.  Added: give up after SPIN_LIMIT.
        spins[fd] = spins.get(fd, 0) + 1
        if spins[fd] >= SPIN_LIMIT:
            event_free(read_events.pop(fd))
            evutil_closesocket(fd)
            print("do_read: fd %d read nothing %d times; gave up" % (fd, spins.pop(fd)))


# The callback that accepts the clients connecting to the listening socket
def do_accept(fd, event, arg):
    # The client's socket (C: "accept blocks here"; no: the event says one waits)
    client_socketfd, client_addr = accept(fd)  # client_addr: the client's address
    if client_socketfd < 0:
        print("accpet error")  # (sic)
        sys.exit(1)

    base_ev = arg  # type conversion (C: (struct event_base *) arg)

    # Send the welcome message to the socket
    msg = b"Welcome to My socket"
    size = send(client_socketfd, msg, len(msg), 0)  # noqa: F841 (unused in the C too)

    # A new event to watch for and read the data the client sends; persistent,
    # with base_ev passed on to do_read's arg.
    ev = event_new(base_ev, client_socketfd, EV_TIMEOUT | EV_READ | EV_PERSIST, do_read, base_ev)
    event_add(ev, None)
    read_events[client_socketfd] = ev


def on_signal(sig, event, arg):  # added: SIGINT/SIGTERM end the loop
    event_base_loopexit(arg, None)


# The entry point
def main(port):
    sys.stdout.reconfigure(line_buffering=True)  # added: a pipe sees each line at once
    # The server's address; C: INADDR_ANY, here 127.0.0.1 to expose nothing
    server_addr = ("127.0.0.1", port)

    # Create the server socket
    try:
        server_socketfd = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)  # C: PF_INET
    except OSError:
        print("socket error")
        return 1  # C: return 0 (and 1 on success)
    evutil_make_listen_socket_reuseable(server_socketfd)  # allow reusing the port
    evutil_make_socket_nonblocking(server_socketfd)  # make it non-blocking

    # Bind the address
    try:
        server_socketfd.bind(server_addr)
    except OSError:
        print("bind error")
        return 1  # C: return 0 (and 1 on success)
    # Listen, with a queue of 10 (the C comment says 5, its code 10)
    server_socketfd.listen(10)
    print("PORT:%d" % server_socketfd.getsockname()[1])  # added, for port 0

    # Create the event_base, the set of events; one per thread if threaded
    base_ev = event_base_new()
    x = event_base_get_method(base_ev)  # the I/O multiplexing method, on Linux usually epoll
    print("METHOD:%s" % x)

    # A persistent event (EV_PERSIST) whose callback do_accept accepts the
    # clients that connect; base_ev is passed to do_accept's arg.
    ev = event_new(base_ev, server_socketfd, EV_TIMEOUT | EV_READ | EV_PERSIST, do_accept, base_ev)

    # Register the event: it becomes pending, waiting
    event_add(ev, None)
    for sig in (signal.SIGINT, signal.SIGTERM):  # added
        event_add(evsignal_new(base_ev, sig, on_signal, base_ev), None)

    # The event loop
    event_base_dispatch(base_ev)

    # Destroy the event_base (which deletes the events still pending)
    event_base_free(base_ev)
    server_socketfd.close()  # added; the C leaves it, and the clients, to exit()
    return 0  # C: return 1; 0 here, so that a shell or make sees the success


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8001))
