// SPDX-License-Identifier: MIT
/*
 * progress.c - the status line of a recording (progress.h).
 *
 * Runs on a thread of its own and only reads: counters the drainer keeps,
 * the ring's loss counter, the trace's size, /proc, and a follower's
 * replay of the flushed trace for the live heap (live.h), brought up to
 * date once a second. Each screen update is one write(2) of the whole
 * escape sequence, so it cannot interleave with the program's output.
 * Never prints anything else.
 */
#include "recorder/progress.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "recorder/drain.h"
#include "common/units.h"
#include "recorder/live.h"

/* Time between two redraws, ms: four a second. */
#define REFRESH_MS 250
/* Redraws between two replays of the flushed trace (the live heap): once a second. */
#define REPLAY_EVERY 4
/* The terminal must have room for the program above the status row. */
#define MIN_ROWS 3
#define LINE_BYTES 512

struct mh_progress {
	struct mh_recorder *r;
	struct mh_live *live;
	pthread_t thread;
	int stop_fd;			/* eventfd: wakes the thread to stop */
	unsigned rows;			/* terminal rows when the scroll region was set; 0: none */
	unsigned cols;
	bool have_heap;			/* the live heap was replayed at least once */
	struct timespec start;
	__u64 last_records;		/* drained records at the previous redraw */
};

static double seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* All of buf to stderr; a failure only means the line is not shown. */
static void term_write(const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(STDERR_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void term_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void term_printf(const char *fmt, ...)
{
	char buf[LINE_BYTES + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		term_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Rows and columns of the terminal on stderr; false when it cannot say. */
static bool term_size(unsigned *rows, unsigned *cols)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) || !ws.ws_row || !ws.ws_col)
		return false;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return true;
}

/*
 * Keep the bottom row for the status line: the rows above become the
 * scroll region (DECSTBM). The first time, the screen scrolls up one row
 * if the cursor sits on the bottom one (IND, then back up: the cursor
 * keeps its column). DECSC/DECRC keep the cursor where the program left it.
 */
static void reserve_row(struct mh_progress *p, unsigned rows, bool first)
{
	if (p->rows && p->rows <= rows)	/* the old status row is inside the new region */
		term_printf("\0337\033[%u;1H\033[2K\0338", p->rows);
	term_printf("%s\0337\033[1;%ur\0338", first ? "\033D\033[1A" : "", rows - 1);
	p->rows = rows;
}

/* "1.2 M" events per second. */
static void format_rate(double v, char *buf, size_t len)
{
	if (v < 1e3)
		snprintf(buf, len, "%.0f", v);
	else if (v < 1e6)
		snprintf(buf, len, "%.1f k", v / 1e3);
	else
		snprintf(buf, len, "%.1f M", v / 1e6);
}

static void draw(struct mh_progress *p, double elapsed, double rate)
{
	const struct mh_live_totals *t = mh_live_totals(p->live);
	char line[LINE_BYTES], ev[32], heap[32], rss[32], size[32];
	struct stat st;
	unsigned long long lost;

	lost = __atomic_load_n(&p->r->ring.hdr->lost_records, __ATOMIC_RELAXED);
	format_rate(rate, ev, sizeof(ev));
	if (p->have_heap)
		mh_human_bytes(t->heap_bytes, heap, sizeof(heap));
	else
		snprintf(heap, sizeof(heap), "?");
	mh_human_bytes(t->rss_bytes, rss, sizeof(rss));
	mh_human_bytes(stat(p->r->trace_path, &st) ? 0 : (uint64_t)st.st_size, size, sizeof(size));
	snprintf(line, sizeof(line),
		 "memhook: %.1f s  %s events/s  heap %s%s  RSS %s  trace %s  lost %llu",
		 elapsed, ev, heap, t->behind ? " (catching up)" : "", rss, size, lost);
	/* Never into the last column: that would wrap and scroll. */
	term_printf("\0337\033[%u;1H\033[2K%.*s\0338", p->rows, (int)(p->cols - 1), line);
}

static void tick(struct mh_progress *p, unsigned n)
{
	double elapsed = seconds_since(&p->start);
	__u64 records = atomic_load_explicit(&p->r->records, memory_order_relaxed);
	unsigned rows, cols;

	if (!term_size(&rows, &cols) || rows < MIN_ROWS)
		return;
	p->cols = cols;
	if (rows != p->rows)
		reserve_row(p, rows, !p->rows);
	if (n % REPLAY_EVERY == 0)
		p->have_heap |= mh_live_update(p->live, false) == 0;
	draw(p, elapsed, (double)(records - p->last_records) * 1000.0 / REFRESH_MS);
	p->last_records = records;
}

static void *progress_main(void *arg)
{
	struct mh_progress *p = arg;
	struct pollfd pfd = { .fd = p->stop_fd, .events = POLLIN };
	unsigned n = 0;

	for (;;) {
		tick(p, n++);
		if (poll(&pfd, 1, REFRESH_MS) > 0)
			return NULL;
	}
}

/* True when stderr is a terminal that understands cursor movement. */
static bool on_terminal(void)
{
	const char *term = getenv("TERM");

	return isatty(STDERR_FILENO) && term && *term && strcmp(term, "dumb");
}

struct mh_progress *mh_progress_start(struct mh_recorder *r)
{
	struct mh_progress *p;

	if (!on_terminal())
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->r = r;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->stop_fd = eventfd(0, EFD_CLOEXEC);
	p->live = p->stop_fd >= 0 ? mh_live_new(r) : NULL;
	if (!p->live || pthread_create(&p->thread, NULL, progress_main, p)) {
		mh_live_free(p->live);
		if (p->stop_fd >= 0)
			close(p->stop_fd);
		free(p);
		return NULL;
	}
	return p;
}

void mh_progress_stop(struct mh_progress *p)
{
	if (!p)
		return;
	/* Cannot fail: the counter is far from its maximum. */
	(void)eventfd_write(p->stop_fd, 1);
	pthread_join(p->thread, NULL);
	/* Erase the line, then the whole screen scrolls again (DECSTBM reset homes the cursor). */
	if (p->rows)
		term_printf("\0337\033[%u;1H\033[2K\033[r\0338", p->rows);
	close(p->stop_fd);
	mh_live_free(p->live);
	free(p);
}
