/*
 * bev_echo_server.c -- the libevent book's chapter-5 echo server, in C, on
 * the real libevent 2.1 (Debian's libevent-dev): an evconnlistener accepts,
 * every connection gets a socket bufferevent (BEV_OPT_CLOSE_ON_FREE) whose
 * readcb moves the whole input into the output with evbuffer_add_buffer()
 * and whose eventcb frees it on EOF or error.
 *
 * usage: bev_echo_server [PORT] [--nagle]   (PORT 0 or absent: any free port)
 * Binds 127.0.0.1 only, prints "METHOD:<backend>", "VERSION:<libevent>" and
 * "PORT:<port>" on stdout (flushed) and serves until SIGINT/SIGTERM, then
 * frees the base and exits 0.
 *
 * One change from the book: accepted sockets get TCP_NODELAY unless --nagle
 * is given.  libevent 2.1 reads at most 4096 bytes per read (EVBUFFER_MAX_READ),
 * so a 10 KiB message is echoed in 3 writes; with Nagle on, the 2nd and 3rd
 * wait for the client's delayed ACK (~40 ms) and the server sits idle.
 *
 * The reference column of bench/echo_bufferevent.py, which builds it with
 * `cc -O2 -o bench/_build/bev_echo_server bench/c/bev_echo_server.c -levent`.
 * Its Python twin on evloop is bench/servers/evloop_bev_echo.py.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

static int nodelay = 1;

static void readcb(struct bufferevent *bev, void *ctx)
{
    (void)ctx;
    struct evbuffer *input = bufferevent_get_input(bev);
    struct evbuffer *output = bufferevent_get_output(bev);
    evbuffer_add_buffer(output, input);
}

static void eventcb(struct bufferevent *bev, short events, void *ctx)
{
    (void)ctx;
    if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        bufferevent_free(bev);
}

static void accept_cb(struct evconnlistener *listener, evutil_socket_t fd,
                      struct sockaddr *address, int socklen, void *ctx)
{
    (void)listener;
    (void)address;
    (void)socklen;
    struct event_base *base = ctx;
    if (nodelay) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        evutil_closesocket(fd);
        return;
    }
    bufferevent_setcb(bev, readcb, NULL, eventcb, NULL);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void accept_error_cb(struct evconnlistener *listener, void *ctx)
{
    (void)listener;
    (void)ctx;
    perror("accept");
}

static void signal_cb(evutil_socket_t sig, short events, void *arg)
{
    (void)sig;
    (void)events;
    event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    if (argc > 2 && !strcmp(argv[2], "--nagle"))
        nodelay = 0;
    if (port < 0 || port > 65535 || (argc > 2 && nodelay) || argc > 3) {
        fprintf(stderr, "usage: %s [PORT] [--nagle]\n", argv[0]);
        return 1;
    }
    /* A client that closes while we write must not kill us (Python, and so
     * evloop's server, ignores SIGPIPE too). */
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    if (!base) {
        fprintf(stderr, "event_base_new failed\n");
        return 1;
    }
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only */
    sin.sin_port = htons((unsigned short)port);

    struct evconnlistener *listener =
        evconnlistener_new_bind(base, accept_cb, base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                -1, (struct sockaddr *)&sin, sizeof sin);
    if (!listener) {
        perror("evconnlistener_new_bind");
        return 1;
    }
    evconnlistener_set_error_cb(listener, accept_error_cb);

    struct event *sigint = evsignal_new(base, SIGINT, signal_cb, base);
    struct event *sigterm = evsignal_new(base, SIGTERM, signal_cb, base);
    event_add(sigint, NULL);
    event_add(sigterm, NULL);

    struct sockaddr_in bound;
    socklen_t len = sizeof bound;
    getsockname(evconnlistener_get_fd(listener), (struct sockaddr *)&bound, &len);
    printf("METHOD:%s\nVERSION:%s\nPORT:%d\n", event_base_get_method(base), event_get_version(),
           ntohs(bound.sin_port));
    fflush(stdout);

    int rc = event_base_dispatch(base);

    event_free(sigint);
    event_free(sigterm);
    evconnlistener_free(listener);
    event_base_free(base);
    return rc < 0 ? 1 : 0;
}
