"""A client that connects with bufferevent_socket_connect_hostname().

Resolves HOST (without blocking the loop), connects to HOST:PORT, sends one
line when BEV_EVENT_CONNECTED arrives, prints the first line of the reply
as "REPLY:<line>" and exits 0.  A failed lookup or connect prints the
reason (with bufferevent_socket_get_dns_error() for a lookup) and exits 1;
so does EOF before a full reply line.
Run: python examples/compat/hostname_client.py HOST PORT [MESSAGE]
"""
import os
import socket
import sys

try:
    import evloop  # noqa: F401
except ImportError:  # run from a source checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from evloop.compat import (
    BEV_EVENT_CONNECTED, BEV_EVENT_EOF, BEV_EVENT_ERROR, BEV_OPT_CLOSE_ON_FREE,
    EV_READ, EV_WRITE, EVBUFFER_EOL_CRLF,
    bufferevent_enable, bufferevent_free, bufferevent_get_input, bufferevent_setcb,
    bufferevent_socket_connect_hostname, bufferevent_socket_get_dns_error,
    bufferevent_socket_new, bufferevent_write, event_base_dispatch, event_base_free,
    event_base_loopexit, event_base_new, evbuffer_readln, evutil_socket_error_to_string,
)


class Client:
    def __init__(self, base, message):
        self.base = base
        self.message = message
        self.status = 1  # the exit code; 0 once a reply line came


def readcb(bev, client):
    line = evbuffer_readln(bufferevent_get_input(bev), EVBUFFER_EOL_CRLF)
    if line is not None:
        print("REPLY:%s" % line.decode("utf-8", "replace"), flush=True)
        client.status = 0
        event_base_loopexit(client.base, None)


def eventcb(bev, events, client):
    if events & BEV_EVENT_CONNECTED:
        print("CONNECTED", flush=True)
        bufferevent_write(bev, client.message.encode() + b"\n")
        return
    if events & BEV_EVENT_ERROR:
        dns_err = bufferevent_socket_get_dns_error(bev)
        if dns_err:
            names = [n for n in dir(socket) if n.startswith("EAI_")
                     and getattr(socket, n) == dns_err]
            print("DNS error %d (%s)" % (dns_err, "/".join(names) or "?"), flush=True)
        else:
            print("connect error: %s" % evutil_socket_error_to_string(bev.last_error),
                  flush=True)
    elif events & BEV_EVENT_EOF:
        print("EOF before a reply", flush=True)
    event_base_loopexit(client.base, None)


def main(argv):
    if len(argv) < 3:
        print("usage: hostname_client.py HOST PORT [MESSAGE]", file=sys.stderr)
        return 2
    host, port = argv[1], int(argv[2])
    message = argv[3] if len(argv) > 3 else "hello from evloop"

    base = event_base_new()
    client = Client(base, message)
    bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)
    bufferevent_setcb(bev, readcb, None, eventcb, client)
    bufferevent_enable(bev, EV_READ | EV_WRITE)
    # No evdns_base: the lookup runs in a worker thread.  AF_INET, because
    # the servers this is run against listen on 127.0.0.1.
    if bufferevent_socket_connect_hostname(bev, None, socket.AF_INET, host, port) < 0:
        print("bufferevent_socket_connect_hostname failed", flush=True)
    else:
        event_base_dispatch(base)  # the callbacks end it with event_base_loopexit()
    bufferevent_free(bev)
    event_base_free(base)
    return client.status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
