/*
 * udp_echo_client.c -- closed-loop UDP echo load generator for bench/udp_echo.py.
 *
 *   udp_echo_client PORT SIZE WINDOW WARMUP_S DURATION_S
 *
 * One UDP socket connect()ed to 127.0.0.1:PORT keeps WINDOW datagrams of
 * SIZE bytes in flight: it sends WINDOW, then one new datagram for every
 * echo it receives (blocking recv with a 0.5 s timeout; on a timeout the
 * datagrams in flight are taken as lost, counted, and the window is sent
 * again).  No event loop is involved, so the server alone differs between
 * runs.  After WARMUP_S seconds it prints "START" and, DURATION_S seconds
 * later, "END <echoes> <lost> <seconds>" (stdout, flushed at once: the
 * driver samples the server's CPU time when it reads each line).
 *
 * Built by bench/udp_echo.py with `cc -O2 -o bench/_build/udp_echo_client ...`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int send_window(int fd, const char *buf, size_t size, int window) {
    for (int i = 0; i < window; i++) {
        if (send(fd, buf, size, 0) < 0 && errno != ECONNREFUSED) {
            perror("send");
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s PORT SIZE WINDOW WARMUP_S DURATION_S\n", argv[0]);
        return 1;
    }
    int port = atoi(argv[1]);
    size_t size = (size_t)atol(argv[2]);
    int window = atoi(argv[3]);
    double warmup = atof(argv[4]), duration = atof(argv[5]);
    if (port <= 0 || port > 65535 || size < 1 || size > 65507 || window < 1) {
        fprintf(stderr, "bad arguments\n");
        return 1;
    }
    char *buf = malloc(size), rbuf[65536];
    memset(buf, 'x', size);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int rcv = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    struct timeval tv = {0, 500000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sin = {0};
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        perror("connect");
        return 2;
    }
    if (send_window(fd, buf, size, window) < 0)
        return 2;
    long echoes = 0, lost = 0;
    int started = 0;
    double t_start = now() + warmup, t_end = 0;
    for (;;) {
        ssize_t n = recv(fd, rbuf, sizeof(rbuf), 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (started)
                    lost += window;
                if (send_window(fd, buf, size, window) < 0)
                    return 2;
                continue;
            }
            if (errno == EINTR || errno == ECONNREFUSED)
                continue;
            perror("recv");
            return 2;
        }
        if (send(fd, buf, size, 0) < 0 && errno != ECONNREFUSED) {
            perror("send");
            return 2;
        }
        if (started) {
            echoes++;
            if ((echoes & 255) == 0 && now() >= t_end)
                break;
        } else if (now() >= t_start) {
            printf("START\n");
            fflush(stdout);
            started = 1;
            t_start = now();
            t_end = t_start + duration;
        }
    }
    printf("END %ld %ld %.6f\n", echoes, lost, now() - t_start);
    fflush(stdout);
    close(fd);
    free(buf);
    return 0;
}
