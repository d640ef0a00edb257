// SPDX-License-Identifier: MIT
/*
 * live_view.c - the ncurses screen of `memhook run --live` (live_view.h).
 *
 * Only this file's thread calls ncurses. It refreshes the figures once a
 * second (recorder/live.h replays what the recorder flushed) and redraws
 * the whole screen each time, so output the program writes to the same
 * terminal is wiped within a second; it never writes to the program's
 * own streams. Never prints to stderr once ncurses owns the terminal.
 */
#include "cli/live_view.h"

#include <curses.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/units.h"
#include "merger/symbols/symbolize.h"
#include "recorder/live.h"

/* Time between two refreshes of the figures, ns. */
#define REFRESH_NS 1000000000ULL
/* How long a wait for a key lasts, ms: bounds how late a stop is seen. */
#define KEY_WAIT_MS 100
/* Rows above the table: title, totals, keys, blank, column names. */
#define HEADER_ROWS 5
/* The text of one stack's frames, bytes. */
#define FRAMES_BYTES 1024

struct mh_live_view {
	struct mh_recorder *r;
	const char *prog;
	pthread_t thread;
	atomic_int stop;		/* set by mh_live_view_stop() */
	SCREEN *screen;
	FILE *tty_in;			/* /dev/tty, where keys come from */
	struct mh_live *live;
	struct mh_symbolizer *sym;
	enum mh_live_key key;
	__u64 start_ns;
	bool updated;			/* one update done: there is something to show */
};

static const struct {
	int ch;
	enum mh_live_key key;
	const char *label;
} sort_keys[] = {
	{ 'l', MH_LIVE_BYTES, "[l]ive bytes" },
	{ 'g', MH_LIVE_GROWTH, "[g]rowth" },
	{ 'b', MH_LIVE_BLOCKS, "[b]locks" },
	{ 'a', MH_LIVE_ALLOCATED, "[a]llocated" },
};

#define SORT_KEY_COUNT (sizeof(sort_keys) / sizeof(sort_keys[0]))

/* "+1.5 MiB", "-256 B", "0 B". */
static const char *signed_bytes(int64_t v, char *buf, size_t len)
{
	char abs[32];

	mh_human_bytes(v < 0 ? (uint64_t)-v : (uint64_t)v, abs, sizeof(abs));
	snprintf(buf, len, "%s%s", v > 0 ? "+" : v < 0 ? "-" : "", abs);
	return buf;
}

struct frames_text {
	char *buf;
	size_t used, len;
};

/* mh_symbolize_stack() callback: "inner < caller < ...", until the buffer is full. */
static int add_frame(const struct mh_frame *f, void *arg)
{
	struct frames_text *t = arg;
	char where[64];
	const char *name = f->function;

	if (!name) {
		snprintf(where, sizeof(where), "0x%llx", (unsigned long long)f->ip);
		name = where;
	}
	t->used += (size_t)snprintf(t->buf + t->used, t->len - t->used, "%s%s",
				    t->used ? " < " : "", name);
	return t->used + 1 >= t->len;
}

static void draw_header(struct mh_live_view *v)
{
	const struct mh_live_totals *t = mh_live_totals(v->live);
	char heap[32], rss[32], swap[32];
	size_t i;

	mvprintw(0, 0, "memhook --live  %s  +%.1f s%s", v->prog,
		 (double)(mh_clock_now_ns() - v->start_ns) / 1e9,
		 t->behind ? "  (replay catching up)" : "");
	mvprintw(1, 0, "heap %s in %llu blocks  RSS %s  swap %s  faults %.0f/s (major %.0f/s)  processes %u",
		 mh_human_bytes(t->heap_bytes, heap, sizeof(heap)),
		 (unsigned long long)t->heap_blocks, mh_human_bytes(t->rss_bytes, rss, sizeof(rss)),
		 mh_human_bytes(t->swap_bytes, swap, sizeof(swap)), t->minflt_per_s,
		 t->majflt_per_s, t->processes);
	mvprintw(2, 0, "sort by:");
	for (i = 0; i < SORT_KEY_COUNT; i++) {
		addstr(" ");
		if (sort_keys[i].key == v->key)
			attron(A_REVERSE);
		addstr(sort_keys[i].label);
		attroff(A_REVERSE);
	}
	addstr("   q: stop watching (the program goes on)");
	attron(A_BOLD);
	mvprintw(4, 0, "%10s %11s %9s %10s  %s", "LIVE", "GROWTH", "BLOCKS", "ALLOCATED",
		 "STACK (innermost < callers)");
	attroff(A_BOLD);
}

static void draw(struct mh_live_view *v)
{
	struct mh_live_stack *const *stacks;
	char frames[FRAMES_BYTES], live[32], growth[40], alloc[32];
	struct frames_text text = { .buf = frames, .len = sizeof(frames) };
	size_t n, i;
	int row;

	erase();
	draw_header(v);
	n = v->updated ? mh_live_sort(v->live, v->key, &stacks) : 0;
	for (i = 0, row = HEADER_ROWS; i < n && row < LINES; i++, row++) {
		text.used = 0;
		frames[0] = '\0';
		/* -ENOMEM leaves the frames named so far. */
		(void)mh_symbolize_stack(v->sym, stacks[i]->info, add_frame, &text);
		mvprintw(row, 0, "%10s %11s %9llu %10s  %.*s",
			 mh_human_bytes(stacks[i]->live_bytes, live, sizeof(live)),
			 signed_bytes(stacks[i]->growth, growth, sizeof(growth)),
			 (unsigned long long)stacks[i]->live_blocks,
			 mh_human_bytes(stacks[i]->bytes_allocated, alloc, sizeof(alloc)),
			 COLS > 47 ? COLS - 47 : 0, frames);
	}
	/* Whatever else reached the terminal (the program's output) goes too. */
	clearok(curscr, TRUE);
	refresh();
}

/* One key; returns false when watching must stop. */
static bool on_key(struct mh_live_view *v, int ch)
{
	size_t i;

	if (ch == 'q' || ch == 'Q')
		return false;
	for (i = 0; i < SORT_KEY_COUNT; i++) {
		if (ch == sort_keys[i].ch) {
			v->key = sort_keys[i].key;
			draw(v);
		}
	}
	if (ch == KEY_RESIZE)
		draw(v);
	return true;
}

static void *view_main(void *arg)
{
	struct mh_live_view *v = arg;
	__u64 next = 0, now;
	int ch;

	while (!atomic_load(&v->stop)) {
		now = mh_clock_now_ns();
		if (now >= next) {
			/* A failed update keeps the figures of the last one on screen. */
			v->updated |= mh_live_update(v->live, true) == 0;
			draw(v);
			next = now + REFRESH_NS;
		}
		ch = getch();
		if (ch != ERR && !on_key(v, ch))
			break;
	}
	endwin();
	return NULL;
}

/* ncurses on the terminal on stderr, keys from /dev/tty. False when it cannot be had. */
static bool open_screen(struct mh_live_view *v)
{
	if (!isatty(STDERR_FILENO))
		return false;
	v->tty_in = fopen("/dev/tty", "re");
	if (!v->tty_in)
		return false;
	v->screen = newterm(NULL, stderr, v->tty_in);
	if (!v->screen)
		return false;
	cbreak();		/* not raw(): Ctrl-C still reaches the program */
	noecho();
	curs_set(0);
	keypad(stdscr, TRUE);
	timeout(KEY_WAIT_MS);
	return true;
}

static void view_free(struct mh_live_view *v)
{
	if (v->screen)
		delscreen(v->screen);
	if (v->tty_in)
		fclose(v->tty_in);
	mh_symbolizer_free(v->sym);
	mh_live_free(v->live);
	free(v);
}

void *mh_live_view_start(struct mh_recorder *r, void *prog)
{
	struct mh_live_view *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->r = r;
	v->prog = prog;
	v->start_ns = mh_clock_now_ns();
	v->live = mh_live_new(r);
	v->sym = v->live ? mh_symbolizer_new() : NULL;
	if (!v->sym || !open_screen(v)) {
		fprintf(stderr, "memhook: --live needs a terminal on stderr and /dev/tty; recording without the live view\n");
		view_free(v);
		return NULL;
	}
	if (pthread_create(&v->thread, NULL, view_main, v)) {
		endwin();
		fprintf(stderr, "memhook: cannot start the live view; recording without it\n");
		view_free(v);
		return NULL;
	}
	return v;
}

void mh_live_view_stop(void *view)
{
	struct mh_live_view *v = view;

	if (!v)
		return;
	atomic_store(&v->stop, 1);
	pthread_join(v->thread, NULL);
	view_free(v);
}
