/*
 * echo_client.c -- closed-loop TCP echo load generator for bench/echo.py.
 *
 * N connections to HOST:PORT, driven by one epoll loop (non-blocking
 * sockets, level-triggered).  Every connection sends a message of SIZE
 * bytes, waits until SIZE bytes have been echoed back, records the
 * request's latency (first send() -> last byte received) and sends the
 * next message.  With --newline the message ends with '\n' and contains
 * no other '\n' (for readline() servers).
 *
 * The run is a warm-up of WARMUP seconds (not recorded) followed by a
 * measured window of DURATION seconds: only requests that complete inside
 * the window are counted and go into the latency histogram (1 us buckets up
 * to 1 s, plus an overflow counter).  With --server-pid PID the client
 * samples the server's CPU time at the exact start and end of the window:
 * utime+stime from /proc/PID/stat (clock ticks) and the sum of the
 * on-CPU nanoseconds of all its threads from /proc/PID/task/TID/schedstat.
 * It also samples /proc/stat at the same instants and reports, per CPU, the
 * busy and steal seconds of the window, so the driver can tell how much of
 * the server's CPU went to other processes.
 *
 * Output: one JSON object on stdout.  Exit status 0 on success, 1 on a
 * usage error, 2 on a connection error (the JSON then carries "error").
 *
 * Built by bench/echo.py with `cc -O2 -o bench/_build/echo_client ...`.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HIST_US 1000000 /* 1 us buckets, 0 .. 999999 us */
#define MAX_CPUS 64

/* Per-CPU busy and steal jiffies from /proc/stat; returns the number of CPUs read. */
static int cpu_jiffies(long long *busy, long long *steal)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return 0;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        int cpu;
        long long v[10] = {0};
        if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9')
            continue;
        if (sscanf(line + 3, "%d %lld %lld %lld %lld %lld %lld %lld %lld", &cpu, &v[0], &v[1],
                   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 8)
            continue;
        if (cpu < 0 || cpu >= MAX_CPUS)
            continue;
        /* user nice system idle iowait irq softirq steal */
        busy[cpu] = v[0] + v[1] + v[2] + v[5] + v[6];
        steal[cpu] = v[7];
        if (cpu + 1 > n)
            n = cpu + 1;
    }
    fclose(f);
    return n;
}

struct conn {
    int fd;
    size_t sent;     /* bytes of the current message sent */
    size_t received; /* bytes of the current echo received */
    int want_out;    /* EPOLLOUT registered */
    uint64_t t0;     /* ns, start of the current request */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --port PORT [--host 127.0.0.1] [--conns 10] [--size 1024]\n"
            "          [--duration 5] [--warmup 1] [--newline] [--server-pid PID]\n",
            argv0);
}

/* utime+stime (ticks) of a process; -1 on error. */
static long long proc_ticks(int pid, long long *ut, long long *st)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* comm may contain spaces */
    if (!p)
        return -1;
    p += 2; /* field 3 (state) */
    /* utime is field 14, stime field 15: skip fields 3..13 */
    for (int field = 3; field < 14; field++) {
        p = strchr(p, ' ');
        if (!p)
            return -1;
        p++;
    }
    long long u = 0, s = 0;
    if (sscanf(p, "%lld %lld", &u, &s) != 2)
        return -1;
    *ut = u;
    *st = s;
    return u + s;
}

/* Sum of on-CPU ns over all threads (/proc/PID/task/TID/schedstat); -1 on error. */
static long long proc_sched_ns(int pid)
{
    char path[96], buf[256];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    long long total = 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%.32s/schedstat", pid, e->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = 0;
        long long ns = 0;
        if (sscanf(buf, "%lld", &ns) == 1) {
            total += ns;
            found = 1;
        }
    }
    closedir(d);
    return found ? total : -1;
}

static double client_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static uint32_t *hist;
static uint64_t hist_over, hist_n, lat_sum_ns, lat_max_ns;

static void record(uint64_t ns)
{
    uint64_t us = ns / 1000;
    if (us < HIST_US)
        hist[us]++;
    else
        hist_over++;
    hist_n++;
    lat_sum_ns += ns;
    if (ns > lat_max_ns)
        lat_max_ns = ns;
}

/* Smallest bucket value v (us) with at least q*n samples <= v. */
static double percentile(double q)
{
    if (hist_n == 0)
        return 0.0;
    uint64_t target = (uint64_t)(q * (double)hist_n);
    if (target < 1)
        target = 1;
    uint64_t acc = 0;
    for (uint64_t i = 0; i < HIST_US; i++) {
        acc += hist[i];
        if (acc >= target)
            return (double)i + 0.5; /* bucket midpoint */
    }
    return (double)lat_max_ns / 1000.0;
}

static int set_out(int ep, struct conn *c, int on)
{
    if (c->want_out == on)
        return 0;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
    c->want_out = on;
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Send as much of the current message as the socket takes. 0 ok, -1 error. */
static int pump_send(int ep, struct conn *c, const char *msg, size_t size)
{
    while (c->sent < size) {
        ssize_t n = send(c->fd, msg + c->sent, size - c->sent, MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return set_out(ep, c, 1);
        return -1;
    }
    return set_out(ep, c, 0);
}

static int start_request(int ep, struct conn *c, const char *msg, size_t size)
{
    c->sent = 0;
    c->received = 0;
    c->t0 = now_ns();
    return pump_send(ep, c, msg, size);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = 0, conns = 10, newline = 0, server_pid = 0;
    size_t size = 1024;
    double duration = 5.0, warmup = 1.0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;
        if (!strcmp(a, "--newline")) {
            newline = 1;
            continue;
        }
        if (!v) {
            usage(argv[0]);
            return 1;
        }
        if (!strcmp(a, "--host"))
            host = v;
        else if (!strcmp(a, "--port"))
            port = atoi(v);
        else if (!strcmp(a, "--conns"))
            conns = atoi(v);
        else if (!strcmp(a, "--size"))
            size = (size_t)strtoull(v, NULL, 10);
        else if (!strcmp(a, "--duration"))
            duration = atof(v);
        else if (!strcmp(a, "--warmup"))
            warmup = atof(v);
        else if (!strcmp(a, "--server-pid"))
            server_pid = atoi(v);
        else {
            usage(argv[0]);
            return 1;
        }
        i++;
    }
    if (port <= 0 || conns <= 0 || size == 0 || duration <= 0 || warmup < 0) {
        usage(argv[0]);
        return 1;
    }

    hist = calloc(HIST_US, sizeof *hist);
    char *msg = malloc(size);
    size_t rbuf_size = size > 262144 ? size : 262144;
    char *rbuf = malloc(rbuf_size);
    struct conn *cs = calloc((size_t)conns, sizeof *cs);
    if (!hist || !msg || !rbuf || !cs) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < size; i++)
        msg[i] = (char)('a' + i % 26);
    if (newline)
        msg[size - 1] = '\n';

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "bad host %s (IPv4 literal expected)\n", host);
        return 1;
    }

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        perror("epoll_create1");
        return 2;
    }
    for (int i = 0; i < conns; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            perror("socket");
            return 2;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        /* Blocking connect, then non-blocking I/O. */
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            printf("{\"error\": \"connect: %s\"}\n", strerror(errno));
            return 2;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        cs[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            perror("epoll_ctl");
            return 2;
        }
    }

    uint64_t t_start = now_ns();
    uint64_t t_measure = t_start + (uint64_t)(warmup * 1e9);
    uint64_t t_end = t_measure + (uint64_t)(duration * 1e9);
    int measuring = 0;
    uint64_t requests = 0, warm_requests = 0;
    long long ut0 = 0, st0 = 0, ut1 = 0, st1 = 0, sched0 = -1, sched1 = -1;
    int stat_ok = 0;
    double ccpu0 = 0, ccpu1 = 0;
    uint64_t m_begin = 0, m_end = 0;
    static long long busy0[MAX_CPUS], steal0[MAX_CPUS], busy1[MAX_CPUS], steal1[MAX_CPUS];
    int ncpu0 = 0, ncpu1 = 0;
    const char *error = NULL;
    char errbuf[128];

    for (int i = 0; i < conns; i++)
        if (start_request(ep, &cs[i], msg, size) < 0) {
            snprintf(errbuf, sizeof errbuf, "send: %s", strerror(errno));
            error = errbuf;
            goto out;
        }

    if (warmup <= 0) {
        measuring = 1;
        m_begin = now_ns();
        if (server_pid > 0) {
            stat_ok = proc_ticks(server_pid, &ut0, &st0) >= 0;
            sched0 = proc_sched_ns(server_pid);
        }
        ccpu0 = client_cpu_s();
        ncpu0 = cpu_jiffies(busy0, steal0);
    }

    struct epoll_event evs[64];
    for (;;) {
        uint64_t now = now_ns();
        if (!measuring && now >= t_measure) {
            measuring = 1;
            m_begin = now;
            if (server_pid > 0) {
                stat_ok = proc_ticks(server_pid, &ut0, &st0) >= 0;
                sched0 = proc_sched_ns(server_pid);
            }
            ccpu0 = client_cpu_s();
            ncpu0 = cpu_jiffies(busy0, steal0);
        }
        if (now >= t_end) {
            m_end = now;
            if (server_pid > 0) {
                stat_ok = stat_ok && proc_ticks(server_pid, &ut1, &st1) >= 0;
                sched1 = proc_sched_ns(server_pid);
            }
            ccpu1 = client_cpu_s();
            ncpu1 = cpu_jiffies(busy1, steal1);
            break;
        }
        uint64_t deadline = measuring ? t_end : t_measure;
        int timeout_ms = (int)((deadline - now) / 1000000ull) + 1;
        if (timeout_ms > 100)
            timeout_ms = 100;
        int n = epoll_wait(ep, evs, 64, timeout_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            snprintf(errbuf, sizeof errbuf, "epoll_wait: %s", strerror(errno));
            error = errbuf;
            goto out;
        }
        for (int k = 0; k < n; k++) {
            struct conn *c = evs[k].data.ptr;
            uint32_t e = evs[k].events;
            if (e & EPOLLOUT) {
                if (pump_send(ep, c, msg, size) < 0) {
                    snprintf(errbuf, sizeof errbuf, "send: %s", strerror(errno));
                    error = errbuf;
                    goto out;
                }
            }
            if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                for (;;) {
                    ssize_t r = recv(c->fd, rbuf, rbuf_size, 0);
                    if (r > 0) {
                        c->received += (size_t)r;
                        if (c->received > size || c->received > c->sent) {
                            snprintf(errbuf, sizeof errbuf,
                                     "protocol: received %zu bytes, sent %zu, size %zu",
                                     c->received, c->sent, size);
                            error = errbuf;
                            goto out;
                        }
                        if (c->received == size) {
                            uint64_t t1 = now_ns();
                            if (measuring && t1 < t_end) {
                                record(t1 - c->t0);
                                requests++;
                            } else if (!measuring) {
                                warm_requests++;
                            }
                            if (start_request(ep, c, msg, size) < 0) {
                                snprintf(errbuf, sizeof errbuf, "send: %s", strerror(errno));
                                error = errbuf;
                                goto out;
                            }
                            break; /* back to epoll: fair among connections */
                        }
                        continue;
                    }
                    if (r == 0) {
                        error = "server closed the connection";
                        goto out;
                    }
                    if (errno == EINTR)
                        continue;
                    if (errno == EAGAIN || errno == EWOULDBLOCK)
                        break;
                    snprintf(errbuf, sizeof errbuf, "recv: %s", strerror(errno));
                    error = errbuf;
                    goto out;
                }
            }
        }
    }

out:
    if (error) {
        printf("{\"error\": \"%s\", \"requests\": %llu, \"warmup_requests\": %llu}\n", error,
               (unsigned long long)requests, (unsigned long long)warm_requests);
        return 2;
    }
    {
        double secs = (double)(m_end - m_begin) / 1e9;
        long clk = sysconf(_SC_CLK_TCK);
        printf("{\"requests\": %llu, \"warmup_requests\": %llu, \"duration_s\": %.6f, "
               "\"rps\": %.3f, \"conns\": %d, \"size\": %zu, \"newline\": %s, "
               "\"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, "
               "\"mean_us\": %.3f, \"max_us\": %.3f, \"hist_overflow\": %llu, "
               "\"client_cpu_s\": %.6f",
               (unsigned long long)requests, (unsigned long long)warm_requests, secs,
               secs > 0 ? (double)requests / secs : 0.0, conns, size,
               newline ? "true" : "false", percentile(0.50), percentile(0.90),
               percentile(0.99), percentile(0.999),
               hist_n ? (double)lat_sum_ns / (double)hist_n / 1000.0 : 0.0,
               (double)lat_max_ns / 1000.0, (unsigned long long)hist_over, ccpu1 - ccpu0);
        if (server_pid > 0 && stat_ok)
            printf(", \"server_utime_s\": %.6f, \"server_stime_s\": %.6f, \"clk_tck\": %ld",
                   (double)(ut1 - ut0) / (double)clk, (double)(st1 - st0) / (double)clk, clk);
        if (server_pid > 0 && sched0 >= 0 && sched1 >= 0)
            printf(", \"server_sched_s\": %.9f", (double)(sched1 - sched0) / 1e9);
        int ncpu = ncpu0 < ncpu1 ? ncpu0 : ncpu1;
        if (ncpu > 0) {
            printf(", \"cpu_busy_s\": [");
            for (int i = 0; i < ncpu; i++)
                printf("%s%.3f", i ? ", " : "", (double)(busy1[i] - busy0[i]) / (double)clk);
            printf("], \"cpu_steal_s\": [");
            for (int i = 0; i < ncpu; i++)
                printf("%s%.3f", i ? ", " : "", (double)(steal1[i] - steal0[i]) / (double)clk);
            printf("]");
        }
        printf("}\n");
    }
    for (int i = 0; i < conns; i++)
        close(cs[i].fd);
    return 0;
}
