/*
 * bench_libevent.c -- libevent's test/bench.c workload, for bench/pipes.py.
 *
 * Written for evloop (not a copy of bench.c); it implements the same
 * workload so that the real libevent can be the reference column:
 *
 *   - N AF_UNIX socketpairs, one EV_READ|EV_PERSIST event per pair;
 *   - every round re-assigns and re-adds all N events, runs one
 *     event_base_loop(EVLOOP_ONCE|EVLOOP_NONBLOCK) pass, then writes one
 *     byte into A evenly spaced pairs (pair i * (N / A));
 *   - each callback recv()s 1 byte and, while the write budget W lasts,
 *     send()s one byte to the next pair (index + 1, wrapping): a chain relay;
 *   - the timed section is event_base_loop(EVLOOP_ONCE|EVLOOP_NONBLOCK)
 *     repeated until bytes read == bytes sent, i.e. A + W callbacks.
 *
 * Differences from bench.c: the clock is CLOCK_MONOTONIC (not
 * gettimeofday) and the result is printed with sub-microsecond precision;
 * warm-up runs (-W) are done and not printed; the number of runs is -r
 * (bench.c: always 25); RLIMIT_NOFILE is only ever raised.
 *
 * Usage: bench_libevent [-n pipes] [-a active] [-w writes] [-r runs]
 *                       [-W warmup] [-m method] [-l]
 * Output: "# method <name> version <libevent version>" then one line per
 * run: "<µs> <loop passes> <bytes read>".
 *
 * Build: cc -O2 -o bench_libevent bench_libevent.c -levent_core
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

static long count, fired;
static int writes, failures;
static int *pipes;
static int num_pipes, num_active, num_writes;
static struct event *events;
static struct event_base *base;

static void
read_cb(evutil_socket_t fd, short which, void *arg)
{
	intptr_t idx = (intptr_t)arg, widx = idx + 1;
	unsigned char ch;
	ssize_t n;

	(void)which;
	n = recv(fd, (char *)&ch, sizeof(ch), 0);
	if (n >= 0)
		count += n;
	else
		failures++;
	if (writes) {
		if (widx >= num_pipes)
			widx -= num_pipes;
		n = send(pipes[2 * widx + 1], "e", 1, 0);
		if (n != 1)
			failures++;
		writes--;
		fired++;
	}
}

static double
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* One round; returns elapsed µs of the timed section, *passes = loop calls. */
static double
run_once(long *passes)
{
	int *cp;
	long i, space, xcount = 0;
	double t0, t1;

	for (cp = pipes, i = 0; i < num_pipes; i++, cp += 2) {
		if (event_initialized(&events[i]))
			event_del(&events[i]);
		event_assign(&events[i], base, cp[0], EV_READ | EV_PERSIST,
		    read_cb, (void *)(intptr_t)i);
		event_add(&events[i], NULL);
	}

	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);

	fired = 0;
	space = (num_pipes / num_active) * 2;
	for (i = 0; i < num_active; i++, fired++)
		(void)send(pipes[i * space + 1], "e", 1, 0);

	count = 0;
	writes = num_writes;
	t0 = now_us();
	do {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		xcount++;
	} while (count != fired);
	t1 = now_us();
	*passes = xcount;
	return t1 - t0;
}

int
main(int argc, char **argv)
{
	struct rlimit rl;
	struct event_config *cfg;
	const char *method = NULL;
	int i, c, runs = 25, warmup = 0;
	int *cp;

	num_pipes = 100;
	num_active = 1;
	num_writes = num_pipes; /* as bench.c: from the *initial* N */
	while ((c = getopt(argc, argv, "n:a:w:r:W:m:l")) != -1) {
		switch (c) {
		case 'n': num_pipes = atoi(optarg); break;
		case 'a': num_active = atoi(optarg); break;
		case 'w': num_writes = atoi(optarg); break;
		case 'r': runs = atoi(optarg); break;
		case 'W': warmup = atoi(optarg); break;
		case 'm': method = optarg; break;
		case 'l': {
			const char **m = event_get_supported_methods();
			for (; m && *m; m++)
				printf("%s\n", *m);
			return 0;
		}
		default:
			fprintf(stderr, "usage: %s [-n pipes] [-a active] "
			    "[-w writes] [-r runs] [-W warmup] [-m method] [-l]\n",
			    argv[0]);
			return 2;
		}
	}
	if (num_pipes < 1 || num_active < 1 || num_active > num_pipes ||
	    num_writes < 0 || runs < 1 || warmup < 0) {
		fprintf(stderr, "bad arguments: need 1 <= active <= pipes, "
		    "writes >= 0, runs >= 1\n");
		return 2;
	}

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)num_pipes * 2 + 50) {
		rl.rlim_cur = (rlim_t)num_pipes * 2 + 50;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			perror("setrlimit");
			return 1;
		}
	}

	events = calloc(num_pipes, sizeof(struct event));
	pipes = calloc(num_pipes * 2, sizeof(int));
	if (events == NULL || pipes == NULL) {
		perror("calloc");
		return 1;
	}

	cfg = event_config_new();
	if (method != NULL) {
		const char **m = event_get_supported_methods();
		for (; m && *m; m++)
			if (strcmp(*m, method) != 0)
				event_config_avoid_method(cfg, *m);
	}
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (base == NULL) {
		fprintf(stderr, "event_base_new_with_config failed\n");
		return 1;
	}

	for (cp = pipes, i = 0; i < num_pipes; i++, cp += 2) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, cp) == -1) {
			perror("socketpair");
			return 1;
		}
	}

	printf("# method %s version %s\n", event_base_get_method(base),
	    event_get_version());
	for (i = 0; i < warmup + runs; i++) {
		long passes;
		double us = run_once(&passes);
		if (i >= warmup)
			printf("%.3f %ld %ld\n", us, passes, count);
	}
	if (failures) {
		fprintf(stderr, "%d recv/send failures\n", failures);
		return 1;
	}
	return 0;
}
