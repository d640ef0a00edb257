// SPDX-License-Identifier: MIT
/*
 * html.c - the HTML report: one self-contained page that opens from disk
 * with no network. Styles, the charting and flame-graph libraries (uPlot,
 * d3, d3-flame-graph: npm packages vendored by scripts/install-deps.sh and
 * built into memhook, merger/build.mk), their licences, the data
 * (html_data.c) and the view script (merger/report/html/view.js) are all
 * written into the page.
 *
 * Must never let the data end its <script> element early: every '<' in
 * it is written as \u003c, which JSON reads as the same character.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "merger/report/json_writer.h"
#include "merger/report/html.h"
#include "merger/report/model.h"

/* Built in from files by merger/build.mk, each NUL-terminated. */
extern const char mh_html_d3_js[], mh_html_d3_license[];
extern const char mh_html_flamegraph_js[], mh_html_flamegraph_license[];
extern const char mh_html_uplot_js[], mh_html_uplot_css[], mh_html_uplot_license[];
extern const char mh_html_view_js[], mh_html_view_css[];

struct library {
	const char *name, *js, *license;
};

static const struct library libraries[] = {
	{ "d3 (https://d3js.org), ISC licence", mh_html_d3_js, mh_html_d3_license },
	{ "d3-flame-graph, Apache License 2.0", mh_html_flamegraph_js,
	  mh_html_flamegraph_license },
	{ "uPlot, MIT licence", mh_html_uplot_js, mh_html_uplot_license },
};

#define LIBRARY_COUNT (sizeof(libraries) / sizeof(libraries[0]))

/* fopencookie() writer: the bytes to the underlying stream, '<' as \u003c. */
static ssize_t escape_write(void *cookie, const char *buf, size_t size)
{
	FILE *out = cookie;
	size_t i, start = 0;

	for (i = 0; i < size; i++) {
		if (buf[i] != '<')
			continue;
		if (fwrite(buf + start, 1, i - start, out) != i - start ||
		    fputs("\\u003c", out) == EOF)
			return -1;
		start = i + 1;
	}
	if (fwrite(buf + start, 1, size - start, out) != size - start)
		return -1;
	return (ssize_t)size;
}

static int write_data(struct mh_report_ctx *ctx)
{
	cookie_io_functions_t io = { .write = escape_write };
	FILE *saved = ctx->out, *escaped = fopencookie(ctx->out, "w", io);
	struct mh_json j;
	int err;

	if (!escaped)
		return -ENOMEM;
	mh_json_init(&j, escaped);
	j.compact = true;
	ctx->out = escaped;
	err = mh_html_write_data(ctx, &j);
	ctx->out = saved;
	if (fclose(escaped) && !err)
		err = -EIO;
	return err;
}

/* Text into HTML: &, <, > and " escaped. */
static void write_escaped_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

static void write_head(struct mh_report_ctx *ctx)
{
	FILE *out = ctx->out;
	unsigned i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>memhook report: ", out);
	write_escaped_text(out, ctx->path);
	fputs("</title>\n<!--\nmemhook report. This page holds the following libraries,"
	      " each under its licence:\n", out);
	for (i = 0; i < LIBRARY_COUNT; i++) {
		fprintf(out, "\n==== %s ====\n\n", libraries[i].name);
		write_escaped_text(out, libraries[i].license);
	}
	fputs("-->\n<style>\n", out);
	fputs(mh_html_uplot_css, out);
	fputs("\n</style>\n<style>\n", out);
	fputs(mh_html_view_css, out);
	fputs("\n</style>\n</head>\n", out);
}

int mh_report_write_html(struct mh_report_ctx *ctx)
{
	FILE *out = ctx->out;
	unsigned i;
	int err;

	write_head(ctx);
	fputs("<body>\n<div id=\"app\"><p>memhook report: loading...</p></div>\n"
	      "<noscript>This report draws its charts with JavaScript.</noscript>\n"
	      "<script id=\"memhook-data\" type=\"application/json\">", out);
	err = write_data(ctx);
	if (err)
		return err;
	fputs("</script>\n", out);
	for (i = 0; i < LIBRARY_COUNT; i++) {
		fputs("<script>\n", out);
		fputs(libraries[i].js, out);
		fputs("\n</script>\n", out);
	}
	fputs("<script>\n", out);
	fputs(mh_html_view_js, out);
	fputs("\n</script>\n</body>\n</html>\n", out);
	return 0;
}
